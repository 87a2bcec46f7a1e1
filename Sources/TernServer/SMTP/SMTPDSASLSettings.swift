import TernConfig
import TernCore
import TernPolicy
import TernSMTP

/// smtpd's SASL settings (smtpd_sasl_auth_enable = yes) from main.cf and a service's `-o` overrides.
struct SMTPDSASLSettings: Sendable {
    /// smtpd_sasl_path, resolved.
    let endpoint: SASLServerEndpoint
    /// smtpd_sasl_service: the `service=` Dovecot sees.
    let service: String
    /// smtpd_sasl_security_options, before TLS.
    let filter: SASLMechanismFilter
    /// smtpd_sasl_tls_security_options, once TLS is active.
    let tlsFilter: SASLMechanismFilter
    /// smtpd_sasl_authenticated_header: `(Authenticated sender: user)` in the Received: header.
    let authenticatedHeader: Bool
    /// smtpd_sasl_local_domain. Dovecot's protocol has no realm field, so, as with Postfix's dovecot
    /// type, it is kept for postconf but not sent.
    let localDomain: String
    /// smtpd_sasl_exceptions_networks: clients whose EHLO reply does not announce AUTH (AUTH still works,
    /// as in Postfix: the list only hides it from clients known to get it wrong).
    let exceptions: HostAddressList

    /// nil when smtpd_sasl_auth_enable is off; a type other than dovecot, or an unusable path, is a
    /// configuration error (Postfix: `unsupported SASL server implementation`).
    static func make(
        _ config: MainConfig, warn: @escaping @Sendable (String) -> Void
    ) throws -> SMTPDSASLSettings? {
        guard config.bool("smtpd_sasl_auth_enable") == true else { return nil }
        let type = config.value("smtpd_sasl_type")
        guard type == "dovecot" else {
            throw FileError(file: config.file, message: "unsupported SASL server implementation: \(type)")
        }
        let path = config.value("smtpd_sasl_path")
        guard let endpoint = SASLServerEndpoint(path: path, queueDirectory: config.value("queue_directory")) else {
            throw FileError(file: config.file, message: "smtpd_sasl_path: bad Dovecot auth server address: \(path)")
        }
        let service = config.value("smtpd_sasl_service")
        return SMTPDSASLSettings(
            endpoint: endpoint, service: service.isEmpty ? "smtp" : service,
            filter: SASLMechanismFilter(options: try config.list("smtpd_sasl_security_options")),
            tlsFilter: SASLMechanismFilter(options: try config.list("smtpd_sasl_tls_security_options")),
            authenticatedHeader: config.bool("smtpd_sasl_authenticated_header") ?? false,
            localDomain: config.value("smtpd_sasl_local_domain"),
            exceptions: try MTASettings.hostAddressList("smtpd_sasl_exceptions_networks", config: config, warn: warn))
    }

    /// The mechanisms AUTH offers from what the auth server announced.
    func offered(_ mechanisms: [(name: String, flags: [String])], tls: Bool) -> [String] {
        (tls ? tlsFilter : filter).allowed(mechanisms)
    }
}
