import Foundation
import TernCore
import TernDelivery
import TernSMTP

/// smtp_sasl_auth_enable = yes: the account for a server comes from smtp_sasl_password_maps, looked up
/// by the server's host name first and then by the next hop as relayhost or transport_maps wrote it
/// (`[smtp.example.com]:587`), as smtp(8) does.
struct ClientSASLSettings: Sendable {
    var passwordMaps: [any LookupTable]
    /// smtp_sasl_security_options / smtp_sasl_tls_security_options with smtp_sasl_mechanism_filter applied.
    var mechanisms: [String]
    var tlsMechanisms: [String]

    init(passwordMaps: [any LookupTable], securityOptions: [String], tlsSecurityOptions: [String], filter: [String]) {
        self.passwordMaps = passwordMaps
        mechanisms = SASLClientCredentials.allowedMechanisms(securityOptions: securityOptions, filter: filter)
        tlsMechanisms = SASLClientCredentials.allowedMechanisms(securityOptions: tlsSecurityOptions, filter: filter)
    }

    /// nil when no table has an entry (the client then does not authenticate).
    /// - Throws: `LookupError` when a table cannot be read (the mail is deferred).
    func credentials(hostname: String, hop: NextHop) async throws -> SASLClientCredentials? {
        for key in Self.keys(hostname: hostname, hop: hop) {
            for table in passwordMaps {
                guard let value = try await table.lookup(key) else { continue }
                return SASLClientCredentials(
                    passwordMapValue: value.trimmingCharacters(in: .whitespaces), mechanisms: mechanisms,
                    tlsMechanisms: tlsMechanisms)
            }
        }
        return nil
    }

    static func keys(hostname: String, hop: NextHop) -> [String] {
        var keys = [hostname.lowercased()]
        if hop.lookUpMX {
            keys.append(hop.port == 25 ? hop.host : "\(hop.host):\(hop.port)")
        } else {
            keys.append("[\(hop.host)]:\(hop.port)")
            if hop.port == 25 { keys.append("[\(hop.host)]") }
        }
        var seen = Set<String>()
        return keys.filter { seen.insert($0.lowercased()).inserted }
    }
}
