import Synchronization

/// Message headers (CRLF line ends) that SEARCH read, shared by the sessions of a process. A Maildir file
/// never changes its contents under one name, so an entry keyed by mailbox GUID and file base name never goes
/// stale; entries only leave when the cache is over its byte budget (oldest first).
final class HeaderCache: Sendable {
    static let shared = HeaderCache(byteBudget: 32 << 20)

    private struct State {
        var headers: [String: [UInt8]] = [:]
        /// Keys in insertion order, from `head` on (a queue without moving elements).
        var order: [String] = []
        var head = 0
        var bytes = 0
    }

    private let byteBudget: Int
    private let state = Mutex(State())

    init(byteBudget: Int) { self.byteBudget = byteBudget }

    func header(_ key: String) -> [UInt8]? { state.withLock { $0.headers[key] } }

    func store(_ header: [UInt8], for key: String) {
        guard header.count <= byteBudget / 16 else { return }
        state.withLock { state in
            guard state.headers.updateValue(header, forKey: key) == nil else { return }
            state.order.append(key)
            state.bytes += header.count
            while state.bytes > byteBudget, state.head < state.order.count {
                let oldest = state.order[state.head]
                state.head += 1
                state.bytes -= state.headers.removeValue(forKey: oldest)?.count ?? 0
            }
            if state.head > 1024 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }
}
