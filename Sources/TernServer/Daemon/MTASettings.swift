import Foundation
public import TernConfig
public import TernCore
import TernDelivery
import TernMaps
import NIOSSL
import TernPolicy
import TernQueue
import TernSMTP

/// Everything the MTA daemon derives from one main.cf snapshot (plus a master.cf service's `-o` overrides):
/// opened tables, domain and network lists, restrictions, smtpd limits. `postfix reload` builds a new one.
public struct MTASettings: Sendable {
    public let config: MainConfig
    let hostname: String
    let myorigin: String
    let classifier: AddressClassifier
    let mynetworks: ClientNetworks
    /// smtpd_*_restrictions and what goes with them.
    let restrictions: RestrictionSettings
    let localRecipients: LocalRecipientCheck
    let unknownLocalRecipientCode: Int
    let virtualMailboxMaps: [any LookupTable]
    let aliasTables: [AliasTable]
    let recipientDelimiter: String
    let alwaysBcc: MailAddress?
    let deferTransports: Set<String>
    let defaultTransport: String
    let relayTransport: String
    let smtpd: SMTPServerConfiguration
    /// SMTP AUTH through a Dovecot auth server; nil when smtpd_sasl_auth_enable is off.
    let sasl: SMTPDSASLSettings?
    /// STARTTLS and wrapper-mode TLS (smtpd_tls_*).
    let tls: SMTPDTLSSettings
    let smtpdTimeout: Int
    /// smtpd_client_*_limit (anvil) and their exceptions.
    let clientLimits: ClientEventLimits
    /// anvil_rate_time_unit in seconds.
    let anvilTimeUnit: Int
    let cleanup: (addMissingHeaders: Bool, headerSizeLimit: Int, hopcountLimit: Int)
    /// header_checks, mime_header_checks, nested_header_checks and body_checks.
    let contentChecks: ContentChecks
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
    /// The sender of postmaster notifications (`double-bounce`, qualified with myorigin); their own failures
    /// are discarded, never reported again.
    let doubleBounceSender: String
    /// delay_warning_time in seconds; 0 sends no delay warnings.
    let delayWarningTime: Int
    /// notify_classes: which problems the postmaster hears about (bounce, 2bounce, delay, resource, ...).
    let notifyClasses: Set<String>
    /// The addresses for the postmaster notices: bounce, 2bounce, delay and error (resource, software).
    let noticeRecipients: (bounce: String, doubleBounce: String, delay: String, error: String)
    /// fast_flush_domains: the sites ETRN and `postqueue -s` may flush.
    let fastFlushDomains: DomainList

    /// Builds the settings; a problem names the parameter (and table) at fault. TLS key files come from
    /// `files` (what the root master read) or from disk.
    static func make(config: MainConfig, log: MailLog, files: TLSFiles) throws -> MTASettings {
        try MTASettings(config: config, log: log, files: files)
    }

    public static func make(config: MainConfig, log: MailLog) throws -> MTASettings {
        try MTASettings(config: config, log: log, files: .disk)
    }

    private init(config: MainConfig, log: MailLog, files: TLSFiles) throws {
        self.config = config
        let warn: @Sendable (String) -> Void = { log.warning("trivial-rewrite", $0) }
        let open: (String) throws -> any LookupTable = { spec in try Self.openTable(spec, warn: warn) }
        func domains(_ name: String) throws -> DomainList { try Self.domainList(name, config: config, warn: warn) }
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
        restrictions = try RestrictionSettings.make(config, open: open)
        recipientDelimiter = config.value("recipient_delimiter")
        localRecipients = LocalRecipientCheck(
            maps: try config.list("local_recipient_maps").map(open), recipientDelimiter: recipientDelimiter,
            doubleBounceSender: config.value("double_bounce_sender"))
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
        smtpd.checksHelo = !restrictions.delayReject && restrictions.has(.helo)
        smtpd.checksData = restrictions.has(.data)
        smtpd.softErrorLimit = config.int("smtpd_soft_error_limit") ?? 10
        smtpd.hardErrorLimit = config.int("smtpd_hard_error_limit") ?? 20
        smtpd.errorSleepSeconds = config.time("smtpd_error_sleep_time") ?? 1
        smtpd.junkCommandLimit = config.int("smtpd_junk_command_limit") ?? 100
        smtpd.lineLengthLimit = config.int("line_length_limit") ?? 2048
        smtpd.strictRFC821Envelopes = config.bool("strict_rfc821_envelopes") ?? false
        sasl = try SMTPDSASLSettings.make(config, warn: warn)
        smtpd.authAvailable = sasl != nil
        smtpd.brokenAuthClients = config.bool("broken_sasl_auth_clients") ?? false
        smtpd.saslResponseLimit = config.int("smtpd_sasl_response_limit") ?? 12288
        tls = try SMTPDTLSSettings.make(config, files: files)
        for problem in tls.problems { log.warning("smtpd", problem) }
        smtpd.tls = tls.policy
        self.smtpd = smtpd
        smtpdTimeout = config.time("smtpd_timeout") ?? 300
        clientLimits = try ClientEventLimits.make(config, open: open)
        anvilTimeUnit = config.time("anvil_rate_time_unit") ?? 60
        cleanup = (
            addMissingHeaders: config.bool("always_add_missing_headers") ?? false,
            headerSizeLimit: config.int("header_size_limit") ?? 102_400,
            hopcountLimit: config.int("hopcount_limit") ?? 50
        )
        contentChecks = try ContentChecks.make(config: config, open: open)
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
            timeouts: ReplyTimeouts(prefix: "smtp", time: config.time),
            lmtpTimeouts: ReplyTimeouts(prefix: "lmtp", time: config.time),
            ipv6: (try? config.list("inet_protocols"))?.contains { $0 == "all" || $0 == "ipv6" } ?? false,
            queueDirectory: config.value("queue_directory"),
            tls: try Self.clientTLS(config),
            sasl: config.bool("smtp_sasl_auth_enable") == true
                ? ClientSASLSettings(
                    passwordMaps: try config.list("smtp_sasl_password_maps").map(open),
                    securityOptions: try config.list("smtp_sasl_security_options"),
                    tlsSecurityOptions: try config.list("smtp_sasl_tls_security_options"),
                    filter: try config.list("smtp_sasl_mechanism_filter"))
                : nil,
            cache: try ConnectionCacheSettings(config: config, prefix: "smtp"),
            lmtpCache: try ConnectionCacheSettings(config: config, prefix: "lmtp"))
        doubleBounceSender = config.value("double_bounce_sender")
        delayWarningTime = config.time("delay_warning_time") ?? 0
        notifyClasses = Set(try config.list("notify_classes").map { $0.lowercased() })
        noticeRecipients = (
            bounce: config.value("bounce_notice_recipient"), doubleBounce: config.value("2bounce_notice_recipient"),
            delay: config.value("delay_notice_recipient"), error: config.value("error_notice_recipient")
        )
        fastFlushDomains = try domains("fast_flush_domains")
    }

    /// smtp_tls_security_level (or the older smtp_use_tls / smtp_enforce_tls) and what it needs.
    static func clientTLS(_ config: MainConfig) throws -> ClientTLSPolicy {
        let text = config.value("smtp_tls_security_level")
        guard
            let level = ClientTLSPolicy.level(
                text, useTLS: config.bool("smtp_use_tls") == true, enforceTLS: config.bool("smtp_enforce_tls") == true)
        else {
            throw FileError(file: config.file, message: "smtp_tls_security_level: unsupported TLS security level: \(text)")
        }
        var policy = ClientTLSPolicy(
            level: level, trustAnchors: [],
            mandatoryMinimum: ClientTLSPolicy.minimumVersion(config.value("smtp_tls_mandatory_protocols")),
            opportunisticMinimum: ClientTLSPolicy.minimumVersion(config.value("smtp_tls_protocols")),
            verifyMatch: try config.list("smtp_tls_verify_cert_match"),
            secureMatch: try config.list("smtp_tls_secure_cert_match"))
        guard level != .none else { return policy }
        policy.trustAnchors = ClientTLSPolicy.loadTrustAnchors(
            file: config.value("smtp_tls_CAfile"), directory: config.value("smtp_tls_CApath"))
        let certFile = config.value("smtp_tls_cert_file")
        if !certFile.isEmpty {
            let keyFile = config.value("smtp_tls_key_file").isEmpty ? certFile : config.value("smtp_tls_key_file")
            do {
                policy.clientCertificate = (
                    try NIOSSLCertificate.fromPEMFile(certFile), try NIOSSLPrivateKey(file: keyFile, format: .pem)
                )
            } catch {
                throw FileError(file: config.file, message: "smtp_tls_cert_file: cannot load \(certFile): \(error)")
            }
        }
        return policy
    }

    /// double_bounce_sender@myorigin, the envelope sender of postmaster notices.
    var postmasterNoticeSender: String { "\(doubleBounceSender)@\(myorigin)" }

    /// `transport_destination_concurrency_limit` / `transport_destination_recipient_limit`, else the
    /// `default_destination_...` value.
    func destinationLimit(_ transport: String, _ kind: String, default fallback: Int) -> Int {
        config.int("\(transport)_destination_\(kind)_limit") ?? config.int("default_destination_\(kind)_limit")
            ?? fallback
    }

    /// A domain list parameter (mydestination, relay_domains, fast_flush_domains, ...) with its tables open.
    static func domainList(
        _ name: String, config: MainConfig, warn: @escaping @Sendable (String) -> Void
    ) throws -> DomainList {
        let parentMatches = try config.list("parent_domain_matches_subdomains")
        return try DomainList(items: config.list(name), parentMatchesSubdomains: parentMatches.contains(name)) {
            try openTable($0, warn: warn)
        }
    }

    /// A host-or-address list parameter (smtpd_sasl_exceptions_networks, ...) with its tables open.
    static func hostAddressList(
        _ name: String, config: MainConfig, warn: @escaping @Sendable (String) -> Void
    ) throws -> HostAddressList {
        let parentMatches = try config.list("parent_domain_matches_subdomains")
        return try HostAddressList(items: config.list(name), parentMatchesSubdomains: parentMatches.contains(name)) {
            try openTable($0, warn: warn)
        }
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
