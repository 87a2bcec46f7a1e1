import Synchronization

/// Message headers (CRLF line ends) that SEARCH read, shared by the sessions of a process. A Maildir file
/// never changes its contents under one name, so an entry keyed by mailbox GUID and file base name never goes
/// stale; entries only leave when the cache is over its byte budget (oldest first).
///
/// A SEARCH of a header looks up every message of the mailbox, so twenty sessions searching at once meet here
/// thousands of times a second: the keys are spread over separately locked shards, each with its share of the
/// budget.
final class HeaderCache: Sendable {
    static let shared = HeaderCache(byteBudget: 32 << 20, shards: 32)

    private struct State {
        var headers: [String: [UInt8]] = [:]
        /// Keys in insertion order, from `head` on (a queue without moving elements).
        var order: [String] = []
        var head = 0
        var bytes = 0
    }

    private final class Shard: Sendable {
        let state = Mutex(State())
    }

    private let shardBudget: Int
    private let shards: [Shard]

    init(byteBudget: Int, shards count: Int = 1) {
        shardBudget = byteBudget / count
        shards = (0..<count).map { _ in Shard() }
    }

    private func withShard<T: Sendable>(of key: String, _ body: (inout State) -> T) -> T {
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))].state.withLock { body(&$0) }
    }

    func header(_ key: String) -> [UInt8]? { withShard(of: key) { $0.headers[key] } }

    /// Headers over a sixteenth of a shard's budget are not kept.
    func store(_ header: [UInt8], for key: String) {
        guard header.count <= shardBudget / 16 else { return }
        let budget = shardBudget
        withShard(of: key) { shard in
            guard shard.headers.updateValue(header, forKey: key) == nil else { return }
            shard.order.append(key)
            shard.bytes += header.count
            while shard.bytes > budget, shard.head < shard.order.count {
                let oldest = shard.order[shard.head]
                shard.head += 1
                shard.bytes -= shard.headers.removeValue(forKey: oldest)?.count ?? 0
            }
            if shard.head > 1024 && shard.head * 2 > shard.order.count {
                shard.order.removeFirst(shard.head)
                shard.head = 0
            }
        }
    }
}
