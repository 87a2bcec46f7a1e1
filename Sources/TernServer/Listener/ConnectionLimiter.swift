import Synchronization

/// Bounds the sessions of one listener (master.cf maxproc, default_process_limit): `acquire` waits while
/// `limit` sessions run.
final class ConnectionLimiter: Sendable {
    private let state: Mutex<(active: Int, waiting: [CheckedContinuation<Void, Never>])>
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
        state = Mutex((0, []))
    }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let admitted = state.withLock { state in
                if state.active < limit {
                    state.active += 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.active -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
