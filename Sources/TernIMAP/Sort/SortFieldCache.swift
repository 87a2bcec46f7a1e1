import Synchronization

/// The SortFields of messages, shared by the sessions of a worker process (a user's sessions), so SORT and
/// THREAD read each message's header once: a Maildir file never changes its contents under one name, so an
/// entry keyed by mailbox GUID and file base name never goes stale. Bounded by a number of entries (a few
/// hundred bytes each); when full it starts over, which a mailbox bigger than the bound pays with re-reading.
/// It also remembers which mailboxes' `tern.sort` files it has read.
final class SortFieldCache: Sendable {
    static let shared = SortFieldCache(capacity: 131_072)

    private struct State {
        var entries: [String: SortFields] = [:]
        var filesRead: Set<String> = []
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    func fields(_ key: String) -> SortFields? { state.withLock { $0.entries[key] } }

    func store(_ fields: SortFields, for key: String) {
        state.withLock { state in
            if state.entries.count >= capacity {
                state.entries.removeAll(keepingCapacity: true)
                state.filesRead.removeAll()
            }
            state.entries[key] = fields
        }
    }

    /// True the first time it is asked for `file` (until the cache starts over): the caller reads it then.
    func shouldRead(_ file: String) -> Bool {
        state.withLock { $0.filesRead.insert(file).inserted }
    }
}
