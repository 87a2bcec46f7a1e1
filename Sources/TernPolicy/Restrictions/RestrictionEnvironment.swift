public import TernCore

/// What a DNS lookup found, as smtpd's restrictions distinguish it.
public enum DNSLookupStatus: Sendable, Equatable {
    case found
    /// The name does not exist, or has no records of the types asked for.
    case notFound
    /// A temporary failure (timeout, SERVFAIL): restrictions defer instead of rejecting.
    case tryAgain
}

/// A DNS list answer: the A records of `reversed-address.list.domain` and its TXT text.
public enum DNSListAnswer: Sendable, Equatable {
    case notListed
    case tryAgain(String)
    case listed(addresses: [String], text: String?)
}

/// The DNS lookups restrictions need; the server uses the system resolver, tests a fixed table.
public protocol RestrictionResolver: Sendable {
    /// MX, then A/AAAA records of a mail domain (reject_unknown_sender_domain, ..._recipient_domain).
    func mailHost(_ domain: String) async -> DNSLookupStatus
    /// A, AAAA or MX records of a host name (reject_unknown_helo_hostname).
    func host(_ name: String) async -> DNSLookupStatus
    /// The A (and TXT) records of a DNS list query name.
    func list(_ query: String) async -> DNSListAnswer
}

/// A policy server (Postfix SMTPD_POLICY_README): attributes in, the `action=` value out.
public protocol PolicyService: Sendable {
    func query(endpoint: String, attributes: [(String, String)]) async throws -> String
}

/// The numbers and texts of main.cf that shape replies (postconf(5) defaults).
public struct RestrictionParameters: Sendable {
    public var rejectCode = 554
    public var deferCode = 450
    public var accessMapRejectCode = 554
    public var accessMapDeferCode = 450
    public var relayDomainsRejectCode = 554
    public var unknownAddressRejectCode = 450
    public var unknownClientRejectCode = 450
    public var unknownHostnameRejectCode = 450
    public var invalidHostnameRejectCode = 501
    public var nonFQDNRejectCode = 504
    public var mapsRBLRejectCode = 554
    /// unknown_address_tempfail_action / unknown_helo_hostname_tempfail_action: defer_if_permit (the
    /// default, via reject_tempfail_action) or defer.
    public var unknownAddressTempfailDefers = false
    public var unknownHeloTempfailDefers = false
    /// smtpd_access_maps in parent_domain_matches_subdomains: `example.com` keys match subdomains.
    public var accessParentMatches = true
    public var nullAccessKey = "<>"
    public var allowUntrustedRouting = false
    public var defaultRBLReply =
        "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}"
    public var rblReplyMaps: [any LookupTable] = []
    public var policyDefaultAction = "451 4.3.5 Server configuration problem"
    public var softBounce = false
    /// recipient_delimiter: `user+ext@domain` is also looked up as `user@domain`.
    public var recipientDelimiter = ""
    /// smtpd_policy_service_policy_context, compatibility_level and mail_version for policy requests.
    public var policyContext = ""
    public var compatibilityLevel = "3.6"
    public var mailVersion = "3.7.11"
    /// The `stress` attribute: `yes` while the server is overloaded.
    public var stress = ""

    public init() {}
}

/// Everything restriction evaluation consults besides the request.
public struct RestrictionEnvironment: Sendable {
    public var mynetworks: ClientNetworks
    public var classifier: AddressClassifier
    public var classes: RestrictionClasses
    public var parameters: RestrictionParameters
    public var resolver: any RestrictionResolver
    public var policy: any PolicyService
    /// reject_unlisted_recipient / reject_unlisted_sender: the rejection for an address no table lists
    /// (the reply class says which one is checked), nil for a known one.
    public var unlistedCheck: @Sendable (MailAddress, String) async throws -> PolicyReply?

    public init(
        mynetworks: ClientNetworks, classifier: AddressClassifier, classes: RestrictionClasses = RestrictionClasses(),
        parameters: RestrictionParameters = RestrictionParameters(), resolver: any RestrictionResolver,
        policy: any PolicyService, unlistedCheck: @escaping @Sendable (MailAddress, String) async throws -> PolicyReply?
    ) {
        self.mynetworks = mynetworks
        self.classifier = classifier
        self.classes = classes
        self.parameters = parameters
        self.resolver = resolver
        self.policy = policy
        self.unlistedCheck = unlistedCheck
    }
}

/// Per-session state that outlives one stage: the defer_if_permit flags of earlier stages, DISCARD, and
/// the message actions of the transaction.
public struct RestrictionSessionState: Sendable {
    var deferIfPermit: PolicyReply?
    var deferIfPermitActive = false
    var deferIfPermitClient = false
    var deferIfPermitHelo = false
    var deferIfPermitSender = false
    /// DISCARD was triggered: later restrictions of the transaction are skipped.
    public var discard = false
    public var actions = MessageActions()

    public init() {}

    /// A new transaction (MAIL FROM after RSET or a delivered message): its actions start afresh.
    public mutating func resetTransaction() {
        discard = false
        actions = MessageActions()
    }
}
