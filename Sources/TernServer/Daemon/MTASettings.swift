import Foundation
public import TernConfig
public import TernCore
import TernDelivery
import TernMaps
import TernPolicy
import TernSMTP

/// Everything the MTA daemon derives from one main.cf snapshot (plus a master.cf service's `-o` overrides):
/// opened tables, domain and network lists, restrictions, smtpd limits. `postfix reload` builds a new one.
public struct MTASettings: Sendable {
    public let config: MainConfig
    let hostname: String
    let myorigin: String
    let classifier: AddressClassifier
    let mynetworks: ClientNetworks
    let relayRestrictions: RelayRestrictions
    let recipientRestrictions: RelayRestrictions
    let localRecipients: LocalRecipientCheck
    let rejectUnlistedRecipient: Bool
    let unknownLocalRecipientCode: Int
    let virtualMailboxMaps: [any LookupTable]
    let aliasTables: [AliasTable]
    let recipientDelimiter: String
    let alwaysBcc: MailAddress?
    let deferTransports: Set<String>
    let defaultTransport: String
    let relayTransport: String
    let smtpd: SMTPServerConfiguration
    let smtpdTimeout: Int
    let cleanup: (addMissingHeaders: Bool, headerSizeLimit: Int, hopcountLimit: Int)
    let mailName: String
    let queueRunDelay: Int
    let minimalBackoff: Int
    let maximalBackoff: Int
    let maximalQueueLifetime: Int
    let bounceQueueLifetime: Int
    let relayhost: String
    let localTransport: String
    let virtualTransport: String
    let transportMaps: [any LookupTable]
    let genericMaps: [any LookupTable]
    /// cleanup's canonical, masquerade and virtual alias rewriting.
    let addressRewriter: AddressRewriter
    let smtpClient: SMTPClientDelivery.Settings
    /// The null sender's stand-in in notifications: `MAILER-DAEMON`.
    let doubleBounceSender: String

    /// Builds the settings; a problem names the parameter (and table) at fault.
    public static func make(config: MainConfig, log: MailLog) throws -> MTASettings {
        try MTASettings(config: config, log: log)
    }

    private init(config: MainConfig, log: MailLog) throws {
        self.config = config
        let warn: @Sendable (String) -> Void = { log.warning("trivial-rewrite", $0) }
        let open: (String) throws -> any LookupTable = { spec in try Self.openTable(spec, warn: warn) }
        let parentMatches = Set(try config.list("parent_domain_matches_subdomains"))
        func domains(_ name: String) throws -> DomainList {
            try DomainList(items: config.list(name), parentMatchesSubdomains: parentMatches.contains(name), open: open)
        }
        hostname = config.value("myhostname")
        myorigin = config.value("myorigin")
        classifier = AddressClassifier(
            mydestination: try domains("mydestination"),
            virtualAliasDomains: try domains("virtual_alias_domains"),
            virtualMailboxDomains: try domains("virtual_mailbox_domains"),
            relayDomains: try domains("relay_domains"),
            localAddresses: Self.localAddresses(config))
        var networks: [IPNetwork] = []
        var networkTables: [any LookupTable] = []
        for item in try config.list("mynetworks") {
            if let network = IPNetwork(item) {
                networks.append(network)
            } else if item.contains(":") && !item.hasPrefix("[") {
                networkTables.append(try open(item))
            } else {
                throw FileError(file: config.file, message: "mynetworks: bad network address: \(item)")
            }
        }
        mynetworks = ClientNetworks(networks: networks, tables: networkTables)
        relayRestrictions = try RelayRestrictions(
            parameter: "smtpd_relay_restrictions", words: config.list("smtpd_relay_restrictions"))
        recipientRestrictions = try RelayRestrictions(
            parameter: "smtpd_recipient_restrictions", words: config.list("smtpd_recipient_restrictions"))
        recipientDelimiter = config.value("recipient_delimiter")
        localRecipients = LocalRecipientCheck(
            maps: try config.list("local_recipient_maps").map(open), recipientDelimiter: recipientDelimiter,
            doubleBounceSender: config.value("double_bounce_sender"))
        rejectUnlistedRecipient = config.bool("smtpd_reject_unlisted_recipient") ?? true
        unknownLocalRecipientCode = config.int("unknown_local_recipient_reject_code") ?? 550
        virtualMailboxMaps = try config.list("virtual_mailbox_maps").map(open)
        aliasTables = try config.list("alias_maps").map { AliasTable(table: try open($0)) }
        let bcc = config.value("always_bcc")
        alwaysBcc = bcc.isEmpty ? nil : MailAddress(bcc)
        deferTransports = Set(try config.list("defer_transports"))
        defaultTransport = config.value("default_transport")
        relayTransport = config.value("relay_transport")

        var smtpd = SMTPServerConfiguration(hostname: hostname, banner: config.value("smtpd_banner"))
        smtpd.messageSizeLimit = config.size("message_size_limit") ?? 10_240_000
        smtpd.recipientLimit = config.int("smtpd_recipient_limit") ?? 1000
        smtpd.recipientOvershootLimit = config.int("smtpd_recipient_overshoot_limit") ?? 1000
        smtpd.disableVRFY = config.bool("disable_vrfy_command") ?? false
        smtpd.heloRequired = config.bool("smtpd_helo_required") ?? false
        smtpd.softErrorLimit = config.int("smtpd_soft_error_limit") ?? 10
        smtpd.hardErrorLimit = config.int("smtpd_hard_error_limit") ?? 20
        smtpd.errorSleepSeconds = config.time("smtpd_error_sleep_time") ?? 1
        smtpd.junkCommandLimit = config.int("smtpd_junk_command_limit") ?? 100
        smtpd.lineLengthLimit = config.int("line_length_limit") ?? 2048
        smtpd.strictRFC821Envelopes = config.bool("strict_rfc821_envelopes") ?? false
        self.smtpd = smtpd
        smtpdTimeout = config.time("smtpd_timeout") ?? 300
        cleanup = (
            addMissingHeaders: config.bool("always_add_missing_headers") ?? false,
            headerSizeLimit: config.int("header_size_limit") ?? 102_400,
            hopcountLimit: config.int("hopcount_limit") ?? 50
        )
        mailName = config.value("mail_name")
        queueRunDelay = config.time("queue_run_delay") ?? 300
        minimalBackoff = config.time("minimal_backoff_time") ?? 300
        maximalBackoff = config.time("maximal_backoff_time") ?? 4000
        maximalQueueLifetime = config.time("maximal_queue_lifetime") ?? 432_000
        bounceQueueLifetime = config.time("bounce_queue_lifetime") ?? 432_000
        relayhost = config.value("relayhost")
        localTransport = config.value("local_transport")
        virtualTransport = config.value("virtual_transport")
        transportMaps = try config.list("transport_maps").map(open)
        genericMaps = try config.list("smtp_generic_maps").map(open)
        addressRewriter = try AddressRewriter(config: config, classifier: classifier, open: open)
        let helo = config.value("smtp_helo_name")
        smtpClient = SMTPClientDelivery.Settings(
            heloName: helo.isEmpty ? hostname : helo,
            connectTimeout: config.time("smtp_connect_timeout") ?? 30,
            replyTimeout: config.time("smtp_data_done_timeout") ?? 600,
            ipv6: (try? config.list("inet_protocols"))?.contains { $0 == "all" || $0 == "ipv6" } ?? false,
            queueDirectory: config.value("queue_directory"))
        doubleBounceSender = config.value("double_bounce_sender")
    }

    /// `transport_destination_concurrency_limit` / `transport_destination_recipient_limit`, else the
    /// `default_destination_...` value.
    func destinationLimit(_ transport: String, _ kind: String, default fallback: Int) -> Int {
        config.int("\(transport)_destination_\(kind)_limit") ?? config.int("default_destination_\(kind)_limit")
            ?? fallback
    }

    /// Opens a table; `proxy:` is transparent here, `unix:passwd.byname` is the passwd database.
    static func openTable(_ spec: String, warn: @escaping @Sendable (String) -> Void) throws -> any LookupTable {
        var name = spec
        if name.hasPrefix("proxy:") { name = String(name.dropFirst(6)) }
        if name == "unix:passwd.byname" { return PasswdTable() }
        return try MapOpener.open(name, options: MapOpenOptions(warn: warn))
    }

    /// The address literals that are this machine: inet_interfaces (all interfaces for `all`) and
    /// proxy_interfaces.
    static func localAddresses(_ config: MainConfig) -> [IPAddress] {
        var result: [IPAddress] = []
        let interfaces = (try? config.list("inet_interfaces")) ?? []
        if interfaces.contains("all") {
            result += ClientNetworks.derived(style: .host).networks.map(\.address)
        }
        let named = interfaces.filter { $0 != "all" } + ((try? config.list("proxy_interfaces")) ?? [])
        for item in named {
            if let address = IPAddress(item) {
                result.append(address)
            } else if item == "localhost" || item == "loopback-only" {
                result += [IPAddress("127.0.0.1")!, IPAddress("::1")!]
            }
        }
        return result
    }

    /// Whether a client address matches local_header_rewrite_clients' default (permit_inet_interfaces):
    /// Postfix then rewrites header addresses and adds missing Message-Id/Date/From headers.
    func rewritesHeaders(client: IPAddress?) -> Bool {
        guard let client else { return true }
        return classifier.localAddresses.contains(client)
    }

    /// Missing Message-Id/Date/From headers are added for local_header_rewrite_clients, and for every
    /// client with always_add_missing_headers.
    func addsMissingHeaders(client: IPAddress?) -> Bool {
        cleanup.addMissingHeaders || rewritesHeaders(client: client)
    }
}
