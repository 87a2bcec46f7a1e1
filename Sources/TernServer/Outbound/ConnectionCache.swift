import TernConfig
import TernCore

/// smtp(8)'s connection cache settings (postconf(5) smtp_connection_cache_*, smtp_connection_reuse_*, and
/// the lmtp_ ones): when a session is kept open after a delivery, how long it may wait idle, and how often and
/// how long it may be used.
struct ConnectionCacheSettings: Sendable, Equatable {
    /// smtp_connection_cache_on_demand: cache sessions to destinations with a backlog.
    var onDemand = true
    /// smtp_connection_cache_destinations: always cache sessions to these next hops.
    var destinations: Set<String> = []
    /// smtp_connection_cache_time_limit: how long an idle session waits for the next delivery.
    var timeLimit = 2.0
    /// smtp_connection_reuse_count_limit: reuses of one session (0: no limit).
    var reuseCountLimit = 0
    /// smtp_connection_reuse_time_limit: how long after its first use a session may still be reused.
    var reuseTimeLimit = 300.0
    /// smtp_tls_connection_reuse: sessions that did STARTTLS are cached too (otherwise, as in Postfix
    /// without tlsproxy(8), only plaintext ones are).
    var tlsReuse = false

    init() {}

    /// Reads the `smtp_` or `lmtp_` parameters.
    /// - Throws: `FileError` naming the parameter whose value is not valid.
    init(config: MainConfig, prefix: String) throws {
        func time(_ name: String) throws -> Double {
            let parameter = "\(prefix)_\(name)"
            guard let seconds = config.time(parameter), seconds >= 0 else {
                throw FileError(file: config.file, message: "\(parameter): bad time value: \(config.value(parameter))")
            }
            return Double(seconds)
        }
        func flag(_ name: String) throws -> Bool {
            let parameter = "\(prefix)_\(name)"
            guard let value = config.bool(parameter) else {
                throw FileError(file: config.file, message: "\(parameter): bad boolean value: \(config.value(parameter))")
            }
            return value
        }
        onDemand = try flag("connection_cache_on_demand")
        destinations = Set(try config.list("\(prefix)_connection_cache_destinations").map { $0.lowercased() })
        timeLimit = try time("connection_cache_time_limit")
        reuseTimeLimit = try time("connection_reuse_time_limit")
        let count = "\(prefix)_connection_reuse_count_limit"
        guard let reuses = config.int(count), reuses >= 0 else {
            throw FileError(file: config.file, message: "\(count): bad numerical value: \(config.value(count))")
        }
        reuseCountLimit = reuses
        tlsReuse = prefix == "smtp" ? try flag("tls_connection_reuse") : false
    }

    /// The next hop's host is listed in smtp_connection_cache_destinations (Postfix matches the domain or
    /// host without `[]` and port: `relay.example` for `[relay.example]:587`).
    func lists(host: String) -> Bool {
        destinations.contains(host.lowercased())
    }
}

/// What a cached session is found by: the next hop as the delivery named it, or the server address it is
/// connected to, each with the transport and the security the session was opened with (a delivery takes only
/// a session with its own TLS level and SASL account, as Postfix's scache(8) keys do).
struct ConnectionCacheKey: Hashable, Sendable, CustomStringConvertible {
    enum Kind: String, Sendable {
        case destination, endpoint
    }

    var kind: Kind
    /// `smtp` or `lmtp`.
    var transport: String
    /// `example.com`, `[relay.example]:587`; or `192.0.2.1:25`, a socket path.
    var name: String
    /// TLS level and SASL username (`may|` , `encrypt|alice`).
    var security: String

    var description: String { "\(kind.rawValue):\(transport):\(name.lowercased()):\(security)" }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.description == rhs.description }
    func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

/// The bookkeeping of scache(8): idle sessions under their keys, with the use count and times that decide
/// whether one may be used again. Times are seconds on any monotonic clock (the tests use a fake one); the
/// handle is whatever reaches the session.
struct ConnectionCache<Handle> {
    struct Entry {
        var handle: Handle
        var keys: [ConnectionCacheKey]
        /// Deliveries made on the session so far (Postfix's `conn_use`).
        var uses: Int
        /// When the session was first used.
        var firstUse: Double
        /// When it becomes too old to keep idle (smtp_connection_cache_time_limit after it was parked).
        var idleUntil: Double
        /// The limits it was parked under.
        var settings: ConnectionCacheSettings

        /// May the session, with `uses` deliveries since `firstUse`, make another?
        func mayReuse(now: Double) -> Bool {
            Self.mayReuse(uses: uses, firstUse: firstUse, now: now, settings: settings)
        }

        static func mayReuse(uses: Int, firstUse: Double, now: Double, settings: ConnectionCacheSettings) -> Bool {
            if settings.reuseCountLimit > 0 && uses > settings.reuseCountLimit { return false }
            return now - firstUse < settings.reuseTimeLimit
        }
    }

    private(set) var entries: [UInt64: Entry] = [:]
    private var nextID: UInt64 = 0

    init() {}

    /// Parks an idle session; nil (the caller ends it) when it has been used as often or as long as allowed.
    mutating func park(
        _ handle: Handle, keys: [ConnectionCacheKey], uses: Int, firstUse: Double, now: Double,
        settings: ConnectionCacheSettings
    ) -> UInt64? {
        guard !keys.isEmpty, Entry.mayReuse(uses: uses, firstUse: firstUse, now: now, settings: settings) else {
            return nil
        }
        nextID &+= 1
        entries[nextID] = Entry(
            handle: handle, keys: keys, uses: uses, firstUse: firstUse, idleUntil: now + settings.timeLimit,
            settings: settings)
        return nextID
    }

    /// Takes the idle session parked longest ago under `key` that may still be used; `alive` rules out
    /// sessions whose server has gone. What was found expired or dead comes back in `evicted`, to be closed.
    mutating func take(
        _ key: ConnectionCacheKey, now: Double, alive: (Handle) -> Bool = { _ in true }
    ) -> (found: Entry?, evicted: [Handle]) {
        var evicted: [Handle] = []
        for id in entries.keys.sorted() {
            guard let entry = entries[id], entry.keys.contains(key) else { continue }
            entries[id] = nil
            if entry.idleUntil <= now || !entry.mayReuse(now: now)
                || !alive(entry.handle)
            {
                evicted.append(entry.handle)
                continue
            }
            return (entry, evicted)
        }
        return (nil, evicted)
    }

    /// Removes one session (its idle time ran out); nil when a delivery took it meanwhile.
    mutating func remove(_ id: UInt64) -> Handle? {
        entries.removeValue(forKey: id)?.handle
    }

    /// Removes and returns the sessions idle for longer than the time limit.
    mutating func expire(now: Double) -> [Handle] {
        let old = entries.filter { $0.value.idleUntil <= now }
        for id in old.keys { entries[id] = nil }
        return old.keys.sorted().compactMap { old[$0]?.handle }
    }

    /// Every session (shutdown).
    mutating func removeAll() -> [Handle] {
        defer { entries = [:] }
        return entries.keys.sorted().compactMap { entries[$0]?.handle }
    }
}
