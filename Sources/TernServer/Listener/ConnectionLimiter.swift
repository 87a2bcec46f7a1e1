import NIOCore
import Synchronization

/// Bounds the sessions of one listener (master.cf maxproc, default_process_limit). A connection beyond the
/// limit waits, connected but unanswered, until a session ends, and the listener stops accepting while any
/// wait (so further clients wait in the kernel's backlog), as with Postfix when all smtpd processes are busy.
final class ConnectionLimiter: Sendable {
    private struct State {
        var active = 0
        var waiting: [@Sendable () -> Void] = []
        var serverChannel: (any Channel)?
    }
    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// The listening channel whose accepting is paused while connections wait.
    func attach(_ channel: any Channel) {
        state.withLock { $0.serverChannel = channel }
    }

    /// Runs `start` now if a session slot is free, otherwise when one is. Each admitted start must be
    /// matched by one `release()`.
    func admit(_ start: @escaping @Sendable () -> Void) {
        let (admitted, pause) = state.withLock { state -> (Bool, (any Channel)?) in
            if state.active < limit {
                state.active += 1
                return (true, nil)
            }
            state.waiting.append(start)
            return (false, state.waiting.count == 1 ? state.serverChannel : nil)
        }
        if admitted { start() }
        pause?.setOption(.autoRead, value: false).whenFailure { _ in }
    }

    func release() {
        let (next, resume) = state.withLock { state -> ((@Sendable () -> Void)?, (any Channel)?) in
            guard !state.waiting.isEmpty else {
                state.active -= 1
                return (nil, nil)
            }
            let next = state.waiting.removeFirst()
            return (next, state.waiting.isEmpty ? state.serverChannel : nil)
        }
        next?()
        resume?.setOption(.autoRead, value: true).whenFailure { _ in }
    }
}
