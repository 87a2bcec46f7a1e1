public import TernCore

/// A decision of the restriction evaluator.
public enum PolicyDecision: Sendable, Equatable {
    /// No restriction decided; the next list (or the default) applies.
    case dunno
    case permit
    /// A reply to send: code, enhanced status and text (without the code).
    case reject(code: Int, status: String, text: String)
}

/// What the restrictions know about the current RCPT command.
public struct RecipientContext: Sendable {
    public let clientAddress: IPAddress?
    public let recipient: MailAddress
    public let saslAuthenticated: Bool

    public init(clientAddress: IPAddress?, recipient: MailAddress, saslAuthenticated: Bool = false) {
        self.clientAddress = clientAddress
        self.recipient = recipient
        self.saslAuthenticated = saslAuthenticated
    }
}

/// The relay-control part of Postfix's restriction language (smtpd_relay_restrictions and
/// smtpd_recipient_restrictions with permit, reject, defer, permit_mynetworks, permit_sasl_authenticated,
/// reject_unauth_destination, defer_unauth_destination, permit_auth_destination). The full language
/// (access maps, DNSBLs, policy services) builds on this evaluator.
public struct RelayRestrictions: Sendable {
    public enum Step: Sendable, Equatable {
        case permit, reject, `defer`, permitMynetworks, permitSaslAuthenticated
        case rejectUnauthDestination, deferUnauthDestination, permitAuthDestination
    }

    public let parameter: String
    public let steps: [Step]

    /// Parses a restriction list; an unknown restriction is a configuration error naming it.
    public init(parameter: String, words: [String]) throws {
        self.parameter = parameter
        steps = try words.map { word in
            switch word.lowercased() {
            case "permit": return .permit
            case "reject": return .reject
            case "defer": return .`defer`
            case "permit_mynetworks": return .permitMynetworks
            case "permit_sasl_authenticated": return .permitSaslAuthenticated
            case "reject_unauth_destination": return .rejectUnauthDestination
            case "defer_unauth_destination": return .deferUnauthDestination
            case "permit_auth_destination": return .permitAuthDestination
            default: throw RestrictionError(parameter: parameter, restriction: word)
            }
        }
    }

    public func evaluate(
        _ context: RecipientContext, mynetworks: ClientNetworks, classifier: AddressClassifier
    ) async throws -> PolicyDecision {
        let recipient = "<\(context.recipient.text)>"
        for step in steps {
            switch step {
            case .permit: return .permit
            case .reject: return .reject(code: 554, status: "5.7.1", text: "\(recipient): Recipient address rejected: Access denied")
            case .`defer`: return .reject(code: 450, status: "4.7.1", text: "\(recipient): Recipient address rejected: Access denied")
            case .permitMynetworks:
                if let client = context.clientAddress, try await mynetworks.contains(client) { return .permit }
            case .permitSaslAuthenticated:
                if context.saslAuthenticated { return .permit }
            case .permitAuthDestination:
                if try await isAuthorized(context.recipient, classifier) { return .permit }
            case .rejectUnauthDestination:
                if try await !isAuthorized(context.recipient, classifier) {
                    return .reject(code: 554, status: "5.7.1", text: "\(recipient): Relay access denied")
                }
            case .deferUnauthDestination:
                if try await !isAuthorized(context.recipient, classifier) {
                    return .reject(code: 454, status: "4.7.1", text: "\(recipient): Relay access denied")
                }
            }
        }
        return .dunno
    }

    /// Authorised: a destination we serve, and no sender-specified routing (`%`, `!`, `@` in the local
    /// part), which Postfix refuses to relay (allow_untrusted_routing = no).
    private func isAuthorized(_ address: MailAddress, _ classifier: AddressClassifier) async throws -> Bool {
        let local = address.localPart
        if local.contains("@") || local.contains("!") || local.contains("%") { return false }
        return try await classifier.isAuthorizedDestination(domain: address.domain)
    }
}

/// An unknown restriction name in a restriction list (Postfix: `451 4.3.5 Server configuration error`).
public struct RestrictionError: Error, CustomStringConvertible, Sendable {
    public let parameter: String
    public let restriction: String
    public var description: String { "unknown smtpd restriction: \"\(restriction)\" in \(parameter)" }
}
