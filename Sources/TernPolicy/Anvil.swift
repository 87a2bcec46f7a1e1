import Synchronization

/// The client counters of Postfix's anvil(8), in process: per service and client address, the number of
/// open connections and, per anvil_rate_time_unit, the connections, MAIL commands, recipients, new TLS
/// sessions and AUTH commands. smtpd compares them with its smtpd_client_*_limit settings.
///
/// As in anvil, all rates of an entry share one window: it starts at the entry's first event and restarts
/// with the first event more than one time unit later. An entry without open connections is dropped once
/// its window has passed (anvil_remote_expire), so memory stays bounded by the clients of the last
/// couple of time units.
public final class Anvil: Sendable {
    /// The events counted per time unit.
    public enum Event: Sendable, Hashable, CaseIterable {
        case connection, message, recipient, newTLSSession, auth
    }

    struct Entry {
        var connections = 0
        var windowStart: Double
        var rates: [Event: Int] = [:]
    }

    struct State {
        var entries: [String: Entry] = [:]
        var timeUnit: Double
        var lastSweep: Double
    }

    private let state: Mutex<State>
    private let now: @Sendable () -> Double

    /// `timeUnit`: anvil_rate_time_unit in seconds; `now`: a monotonic clock in seconds (tests pass their own).
    public init(timeUnit: Int = 60, now: (@Sendable () -> Double)? = nil) {
        let clock = now ?? Self.monotonicSeconds()
        self.now = clock
        state = Mutex(State(timeUnit: Double(max(1, timeUnit)), lastSweep: clock()))
    }

    /// anvil_rate_time_unit changed (`postfix reload`); running windows keep their start.
    public func setTimeUnit(_ seconds: Int) {
        state.withLock { $0.timeUnit = Double(max(1, seconds)) }
    }

    /// A connection opened: the open connection count and the connection rate, both including this one
    /// (anvil_clnt_connect). Each call must be matched by one `disconnect`.
    public func connect(service: String, client: String) -> (count: Int, rate: Int) {
        update(.connection, service, client) { entry in
            entry.connections += 1
            return (entry.connections, entry.rates[.connection, default: 0])
        }
    }

    /// The connection closed (anvil_clnt_disconnect).
    public func disconnect(service: String, client: String) {
        let time = now()
        state.withLock { state in
            let key = Self.key(service, client)
            if var entry = state.entries[key] {
                entry.connections = max(0, entry.connections - 1)
                state.entries[key] = entry
            }
            state.sweep(at: time)
        }
    }

    /// Counts `event` (not `.connection`) and returns its rate in the current window, this one included.
    public func count(_ event: Event, service: String, client: String) -> Int {
        update(event, service, client) { $0.rates[event, default: 0] }
    }

    /// The rate of `event` in the current window without counting one (anvil_clnt_newtls_stat).
    public func rate(_ event: Event, service: String, client: String) -> Int {
        let time = now()
        return state.withLock { state in
            guard let entry = state.entries[Self.key(service, client)],
                time <= entry.windowStart + state.timeUnit
            else { return 0 }
            return entry.rates[event, default: 0]
        }
    }

    /// How many clients are remembered (for tests of the expiry).
    public var entryCount: Int { state.withLock { $0.entries.count } }

    /// Counts `event` for the client (in a new window if the last one is over), then reads the entry.
    private func update<T>(_ event: Event, _ service: String, _ client: String, _ read: (inout Entry) -> T) -> T {
        let time = now()
        return state.withLock { state in
            let key = Self.key(service, client)
            var entry = state.entries[key] ?? Entry(windowStart: time)
            // ANVIL_REMOTE_RSET_RATE: a new window once the old one is over.
            if entry.windowStart + state.timeUnit < time {
                entry.windowStart = time
                entry.rates = [:]
            }
            entry.rates[event, default: 0] = min(Int.max - 1, entry.rates[event, default: 0]) + 1
            let result = read(&entry)
            state.entries[key] = entry
            state.sweep(at: time)
            return result
        }
    }

    /// anvil's `service:address` key.
    static func key(_ service: String, _ client: String) -> String { "\(service):\(client)" }

    static func monotonicSeconds() -> @Sendable () -> Double {
        let origin = ContinuousClock.now
        return {
            let elapsed = ContinuousClock.now - origin
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
    }
}

extension Anvil.State {
    /// At most once per time unit: forget clients without connections whose window has passed.
    mutating func sweep(at time: Double) {
        guard time - lastSweep >= timeUnit else { return }
        lastSweep = time
        let unit = timeUnit
        entries = entries.filter { $0.value.connections > 0 || $0.value.windowStart + unit >= time }
    }
}
