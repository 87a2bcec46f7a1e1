import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization
import TernSMTP

/// scache(8) with the sessions that live in it: the smtp and lmtp clients' open connections run as tasks of
/// this service, so a session outlives the delivery that opened it and waits, parked under its keys, for the
/// next delivery to the same destination (smtp_connection_cache_time_limit at most). Without the service
/// running (one-shot tools, tests of the delivery alone) every session ends after its delivery.
final class SMTPConnectionPool: Service, Sendable {
    static let shared = SMTPConnectionPool()

    private struct State {
        var cache = ConnectionCache<ParkedSession>()
        var spawn: AsyncStream<@Sendable () async -> Void>.Continuation?
    }
    private let state = Mutex(State())

    /// Seconds on the monotonic clock, as the cache counts them.
    static var now: Double { Double(DispatchTime.now().uptimeNanoseconds) / 1_000_000_000 }

    func run() async throws {
        let (work, continuation) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
        state.withLock { $0.spawn = continuation }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await session in work { group.addTask(operation: session) }
            }
        } onGracefulShutdown: {
            // Parked sessions say QUIT; busy ones finish their delivery and then find no cache to park in.
            let parked = self.state.withLock { state in
                state.spawn?.finish()
                state.spawn = nil
                return state.cache.removeAll()
            }
            for session in parked { session.next.send(nil) }
        }
    }

    /// Runs a session as a task of the service; false when the service is not running.
    func spawn(_ session: @escaping @Sendable () async -> Void) -> Bool {
        state.withLock { state in
            guard let spawn = state.spawn else { return false }
            if case .enqueued = spawn.yield(session) { return true }
            return false
        }
    }

    var isRunning: Bool { state.withLock { $0.spawn != nil } }

    /// Parks an idle session that has made `uses` deliveries; nil when it may not be kept (limits reached,
    /// service stopping): the session then ends.
    func park(
        _ session: ParkedSession, keys: [ConnectionCacheKey], uses: Int, firstUse: Double,
        settings: ConnectionCacheSettings
    ) -> UInt64? {
        state.withLock { state in
            guard state.spawn != nil else { return nil }
            return state.cache.park(
                session, keys: keys, uses: uses, firstUse: firstUse, now: Self.now, settings: settings)
        }
    }

    /// An idle session parked under `key` whose connection is still open, taken out of the cache. Sessions
    /// found expired or closed on the way are told to end.
    func take(_ key: ConnectionCacheKey) -> ParkedSession? {
        let (found, evicted) = state.withLock { state -> (ParkedSession?, [ParkedSession]) in
            let taken = state.cache.take(key, now: Self.now) { $0.channel.isActive }
            return (taken.found?.handle, taken.evicted)
        }
        for session in evicted { session.next.send(nil) }
        return found
    }

    /// smtp_connection_cache_time_limit ran out for a parked session: it ends, unless a delivery took it.
    func expire(_ id: UInt64) {
        state.withLock { $0.cache.remove(id) }?.next.send(nil)
    }
}

/// A session in the cache: the connection (to see whether the server closed it) and where the next delivery,
/// or nil for QUIT, is handed to the task that runs the session.
final class ParkedSession: Sendable {
    let channel: any Channel
    /// What the session was opened with and is parked under (a delivery that takes it goes on with the same).
    let security: SMTPClientStateMachine.Security
    let keys: [ConnectionCacheKey]
    let next = Handover<SessionJob?>()

    init(channel: any Channel, security: SMTPClientStateMachine.Security, keys: [ConnectionCacheKey]) {
        self.channel = channel
        self.security = security
        self.keys = keys
    }
}

/// One value handed from one task to another that waits for it (a delivery to a parked session, a result back
/// to the delivery). Only the first `send` counts.
final class Handover<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, Never>)
        case sent(Value)
        case done
    }
    private let state = Mutex(State.empty)

    func send(_ value: Value) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, Never>? in
            switch state {
            case .empty:
                state = .sent(value)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .sent, .done:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }

    /// Waits for the value; once only.
    func wait() async -> Value {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Value? in
                switch state {
                case .empty:
                    state = .waiting(continuation)
                    return nil
                case .sent(let value):
                    state = .done
                    return value
                case .waiting, .done:
                    preconditionFailure("Handover.wait called twice")
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
