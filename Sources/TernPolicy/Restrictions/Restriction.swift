public import TernCore

/// One element of an smtpd restriction list (postconf(5) smtpd_*_restrictions, access(5) right-hand sides).
public enum Restriction: Sendable {
    case permit, reject, `defer`, deferIfPermit, deferIfReject, warnIfReject
    case permitMynetworks, permitSaslAuthenticated
    case rejectUnauthDestination, deferUnauthDestination, permitAuthDestination
    case rejectUnauthPipelining
    case rejectUnknownSenderDomain, rejectUnknownRecipientDomain
    case rejectUnknownClientHostname, rejectUnknownReverseClientHostname
    case rejectUnknownHeloHostname, rejectInvalidHeloHostname, rejectNonFQDNHeloHostname
    case rejectNonFQDNSender, rejectNonFQDNRecipient
    case rejectUnlistedRecipient, rejectUnlistedSender
    /// check_client_access, check_helo_access, ... with its table (opened when the list is parsed).
    case checkAccess(AccessTarget, table: any LookupTable)
    /// check_policy_service with its endpoint (`inet:host:port`, `unix:/path`).
    case checkPolicyService(String)
    /// reject_rbl_client and friends: the list's domain, optionally `=pattern` for the answer address.
    case dnsList(DNSListCheck, domain: String)
    /// A name from smtpd_restriction_classes.
    case restrictionClass(String)
    /// A word Postfix does not know, or one missing its argument: a `warning:` and
    /// `451 4.3.5 Server configuration error` when evaluation reaches it.
    case configurationError(warning: String)
}

/// What a check_*_access restriction looks up.
public enum AccessTarget: String, Sendable {
    case client = "check_client_access"
    case reverseClient = "check_reverse_client_access"
    case helo = "check_helo_access"
    case sender = "check_sender_access"
    case recipient = "check_recipient_access"
}

/// The DNS list restrictions (postconf(5) reject_rbl_client ...).
public enum DNSListCheck: String, Sendable {
    case rejectRBLClient = "reject_rbl_client"
    case rejectRHSBLClient = "reject_rhsbl_client"
    case rejectRHSBLReverseClient = "reject_rhsbl_reverse_client"
    case rejectRHSBLSender = "reject_rhsbl_sender"
    case rejectRHSBLHelo = "reject_rhsbl_helo"
    case rejectRHSBLRecipient = "reject_rhsbl_recipient"
    case permitDNSWLClient = "permit_dnswl_client"
}

/// A parsed restriction list. Tables named in it are opened when it is parsed (as smtpd opens them at
/// start-up); a table that cannot be opened is an error naming the parameter.
public struct RestrictionList: Sendable {
    public let parameter: String
    public let restrictions: [Restriction]

    public var isEmpty: Bool { restrictions.isEmpty }

    public init(parameter: String, restrictions: [Restriction]) {
        self.parameter = parameter
        self.restrictions = restrictions
    }

    /// `words` as postconf splits the list (commas and white space); `defaultAccess` is the check_*_access
    /// a bare `type:table` stands for in this list (nil where it has none, as in smtpd_data_restrictions).
    public init(
        parameter: String, words: [String], defaultAccess: AccessTarget?,
        open: (String) throws -> any LookupTable
    ) throws {
        self.parameter = parameter
        var result: [Restriction] = []
        var index = 0
        func argument() -> String? {
            guard index + 1 < words.count else { return nil }
            index += 1
            return words[index]
        }
        while index < words.count {
            let word = words[index]
            let name = word.lowercased()
            if let simple = Self.simple[name] {
                result.append(simple)
            } else if word.contains(":") {
                if let target = defaultAccess {
                    result.append(.checkAccess(target, table: try Self.open(word, parameter, open)))
                } else {
                    result.append(
                        .configurationError(
                            warning: "specify one of (check_client_access, check_reverse_client_access, "
                                + "check_helo_access, check_sender_access, check_recipient_access, "
                                + "check_etrn_access) before \(parameter) restriction \"\(word)\""))
                }
            } else if let target = AccessTarget(rawValue: name) {
                guard let spec = argument(), spec.contains(":") else {
                    result.append(
                        .configurationError(
                            warning: "restriction \(name): bad argument \"\(index < words.count ? words[index] : "")\": need maptype:mapname"))
                    index += 1
                    continue
                }
                result.append(.checkAccess(target, table: try Self.open(spec, parameter, open)))
            } else if name == "check_policy_service" {
                guard let spec = argument(), spec.contains(":") else {
                    result.append(
                        .configurationError(warning: "restriction check_policy_service must be followed by transport:server"))
                    index += 1
                    continue
                }
                result.append(.checkPolicyService(spec))
            } else if let check = DNSListCheck(rawValue: name == "reject_rbl" ? "reject_rbl_client" : name) {
                guard let domain = argument() else {
                    result.append(.configurationError(warning: "restriction \(name) requires domain name argument"))
                    index += 1
                    continue
                }
                result.append(.dnsList(check, domain: domain))
            } else {
                // A restriction class, or an unknown name (decided when evaluation gets there, as smtpd does).
                result.append(.restrictionClass(word))
            }
            index += 1
        }
        restrictions = result
    }

    private static func open(
        _ spec: String, _ parameter: String, _ open: (String) throws -> any LookupTable
    ) throws -> any LookupTable {
        do {
            return try open(spec)
        } catch {
            throw RestrictionConfigError(parameter: parameter, message: "\(error)")
        }
    }

    static let simple: [String: Restriction] = [
        "permit": .permit, "reject": .reject, "defer": .`defer`,
        "defer_if_permit": .deferIfPermit, "defer_if_reject": .deferIfReject, "warn_if_reject": .warnIfReject,
        "permit_mynetworks": .permitMynetworks, "permit_sasl_authenticated": .permitSaslAuthenticated,
        "reject_unauth_destination": .rejectUnauthDestination, "defer_unauth_destination": .deferUnauthDestination,
        "permit_auth_destination": .permitAuthDestination, "reject_unauth_pipelining": .rejectUnauthPipelining,
        "reject_unknown_sender_domain": .rejectUnknownSenderDomain,
        "reject_unknown_address": .rejectUnknownSenderDomain,
        "reject_unknown_recipient_domain": .rejectUnknownRecipientDomain,
        "reject_unknown_client_hostname": .rejectUnknownClientHostname,
        "reject_unknown_client": .rejectUnknownClientHostname,
        "reject_unknown_reverse_client_hostname": .rejectUnknownReverseClientHostname,
        "reject_unknown_helo_hostname": .rejectUnknownHeloHostname, "reject_unknown_hostname": .rejectUnknownHeloHostname,
        "reject_invalid_helo_hostname": .rejectInvalidHeloHostname, "reject_invalid_hostname": .rejectInvalidHeloHostname,
        "reject_non_fqdn_helo_hostname": .rejectNonFQDNHeloHostname, "reject_non_fqdn_hostname": .rejectNonFQDNHeloHostname,
        "reject_non_fqdn_sender": .rejectNonFQDNSender, "reject_non_fqdn_recipient": .rejectNonFQDNRecipient,
        "reject_unlisted_recipient": .rejectUnlistedRecipient, "check_recipient_maps": .rejectUnlistedRecipient,
        "reject_unlisted_sender": .rejectUnlistedSender,
    ]
}

/// smtpd_restriction_classes: named lists usable in restriction lists and access map results.
public struct RestrictionClasses: Sendable {
    public let classes: [String: RestrictionList]

    public init(_ classes: [String: RestrictionList] = [:]) { self.classes = classes }

    public subscript(name: String) -> RestrictionList? { classes[name] }
}

/// A restriction list that cannot be used: a table that does not open, names the parameter.
public struct RestrictionConfigError: Error, CustomStringConvertible, Sendable {
    public let parameter: String
    public let message: String
    public var description: String { "\(parameter): \(message)" }
}
