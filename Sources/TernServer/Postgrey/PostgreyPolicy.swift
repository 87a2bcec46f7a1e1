import Foundation
public import TernCore
import TernMaps
import TernPolicy

/// The greylisting state of one `tern postgrey`: whitelists, the database and the decision logic. An actor,
/// so requests from all connections are decided one at a time, as in postgrey's single process.
public actor PostgreyPolicy {
    let settings: PostgreySettings
    let log: MailLog
    private var greylister: Greylister
    private var whitelist = PostgreyWhitelist()
    private let database: GreylistDatabase
    private var lastMaintenance: Int64 = 0
    private let clock: @Sendable () -> Int64

    /// Opens the database (creating --dbdir when missing) and reads the whitelists.
    /// `clock` gives the time in seconds since the epoch (nil: the system clock).
    public init(settings: PostgreySettings, log: MailLog, clock: (@Sendable () -> Int64)? = nil) throws {
        self.settings = settings
        self.log = log
        self.clock = clock ?? { Int64(time(nil)) }
        var parameters = settings.parameters
        if parameters.hostname.isEmpty { parameters.hostname = Self.systemHostname() }
        greylister = Greylister(parameters: parameters)
        if !FileManager.default.fileExists(atPath: settings.databaseDirectory) {
            try FileManager.default.createDirectory(
                atPath: settings.databaseDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        database = try GreylistDatabase(directory: settings.databaseDirectory)
        whitelist = Self.readWhitelists(settings, log: log)
    }

    /// gethostname(2), what Perl's Sys::Hostname gives postgrey.
    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// SIGHUP: postgrey re-reads its whitelists.
    public func reloadWhitelists() {
        log.info("", "HUP received: reloading whitelists...")
        whitelist = Self.readWhitelists(settings, log: log)
    }

    static func readWhitelists(_ settings: PostgreySettings, log: MailLog) -> PostgreyWhitelist {
        var whitelist = PostgreyWhitelist()
        func read(_ file: String) -> String? {
            do {
                return try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                // postgrey does not warn about a missing .local file: the admin may just not have one.
                if !file.hasSuffix(".local") { log.warning("", "can't open \(file): \(Self.reason(error))") }
                return nil
            }
        }
        for file in settings.clientWhitelistFiles {
            guard let text = read(file) else { continue }
            for warning in whitelist.addClients(text, file: file) { log.warning("", warning) }
        }
        for file in settings.recipientWhitelistFiles {
            guard let text = read(file) else { continue }
            for warning in whitelist.addRecipients(text, file: file) { log.warning("", warning) }
        }
        return whitelist
    }

    private static func reason(_ error: any Error) -> String {
        let code = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.code ?? Int(ENOENT)
        return String(cString: strerror(Int32(code)))
    }

    /// The reply's action for a complete request, or nil for a request type other than smtpd_access_policy
    /// (postgrey logs it and answers nothing).
    public func answer(_ attributes: [String: String]) -> String? {
        guard attributes["request"] == "smtpd_access_policy" else {
            log.warning("", "unrecognized request type: '\(attributes["request"] ?? "")'")
            return nil
        }
        var now = clock()
        if let test = attributes["policy_test_time"].flatMap({ Int64($0) }) { now = test }
        if settings.logLevel >= 3 {
            log.info("", attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        let action = decide(attributes, now: now)
        if now - lastMaintenance >= PostgreySettings.maintenanceInterval { maintain(now: now) }
        return action
    }

    private func decide(_ attributes: [String: String], now: Int64) -> String {
        let parameters = greylister.parameters
        var reason: String?
        var keys: GreylistKeys?
        if let address = attributes["client_address"], let name = attributes["client_name"] {
            if let bytes = CIDRNetwork.parseAddress(address) {
                if whitelist.whitelists(clientName: name, address: bytes) { reason = "client whitelist" }
            }
            if reason == nil, let recipient = attributes["recipient"], whitelist.whitelists(recipient: recipient) {
                reason = "recipient whitelist"
            }
            if let recipient = attributes["recipient"], let sender = attributes["sender"] {
                keys = GreylistKeys(
                    clientAddress: address, sender: sender, recipient: recipient, parameters: parameters)
                if keys == nil {
                    log.warning("", "can't parse client_address from postfix: \(address)")
                    return "DUNNO"
                }
            }
        }
        var triplet: TripletRecord?
        var client: ClientRecord?
        do {
            if let keys, reason == nil {
                triplet = try database.triplet(keys)
                client = parameters.autoWhitelistClients > 0 ? try database.client(keys) : nil
            }
        } catch {
            log.warning("", "\(error)")
            return "DUNNO"
        }
        let decision = greylister.decide(attributes, whitelisted: reason, triplet: triplet, client: client, now: now)
        for warning in decision.warnings { log.warning("", warning) }
        if let line = decision.log, settings.logLevel >= 2 { log.info("", line) }
        for line in decision.notices { log.info("", line) }
        if let keys {
            do {
                try database.store(keys, triplet: decision.triplet, client: decision.client)
            } catch {
                log.warning("", "\(error)")
            }
        }
        return decision.action
    }

    /// Removes old entries (postgrey's do_maintenance), at most once per maintenance interval.
    public func maintain(now: Int64? = nil) {
        let now = now ?? clock()
        lastMaintenance = now
        do {
            let result = try database.clean(now: now, parameters: greylister.parameters)
            if settings.logLevel >= 2 && result.triplets.0 != result.triplets.1 || settings.logLevel >= 3 {
                log.info(
                    "",
                    "cleaning main database finished. before: \(result.triplets.0), after: \(result.triplets.1)")
                log.info(
                    "", "cleaning clients database finished. before: \(result.clients.0), after: \(result.clients.1)")
            }
        } catch {
            log.warning("", "\(error)")
        }
    }
}
