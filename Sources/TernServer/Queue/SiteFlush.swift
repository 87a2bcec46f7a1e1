public import TernConfig
import TernCore
import TernPolicy
import TernSMTP

/// `postqueue -s SITE` (and ETRN in smtpd): deferred mail for one destination is delivered now, for the
/// destinations in fast_flush_domains, as Postfix's flush(8) service allows them. Tern needs no per-site
/// logs: the queue manager looks for deferred messages with a pending recipient in that domain.
public enum SiteFlush {
    /// postqueue -s: asks the running daemon to flush `site`. Returns Postfix's fatal message when it cannot.
    public static func request(_ site: String, config: MainConfig) async -> String? {
        guard HostnameSyntax.isValidHostname(site) || HostnameSyntax.isValidAddressLiteral(site) else {
            return "Cannot flush mail queue - invalid destination: \"\(site)\""
        }
        let listed: Bool
        do {
            let domains = try MTASettings.domainList("fast_flush_domains", config: config) { _ in }
            listed = try await domains.contains(site)
        } catch {
            return "Cannot flush mail queue - \(error)"
        }
        guard listed else { return "Flush service is not configured for destination \"\(site)\"" }
        guard QueueTrigger.send(.flushSite(site.lowercased()), queueDirectory: config.value("queue_directory")) else {
            return "Cannot flush mail queue - mail system is down"
        }
        return nil
    }
}
