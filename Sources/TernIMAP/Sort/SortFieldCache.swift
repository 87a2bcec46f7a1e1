import Synchronization

/// The SortFields of messages, shared by the sessions of a worker process (a user's sessions), so SORT and
/// THREAD read each message's header once: a Maildir file never changes its contents under one name, so an
/// entry keyed by mailbox GUID and file base name never goes stale. Bounded by a number of entries (a few
/// hundred bytes each); when full it starts over, which a mailbox bigger than the bound pays with re-reading.
final class SortFieldCache: Sendable {
    static let shared = SortFieldCache(capacity: 131_072)

    private let capacity: Int
    private let entries = Mutex([String: SortFields]())

    init(capacity: Int) { self.capacity = capacity }

    func fields(_ key: String) -> SortFields? { entries.withLock { $0[key] } }

    func store(_ fields: SortFields, for key: String) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = fields
        }
    }
}
