import Synchronization
import TernMailbox

/// The SortFields of messages, shared by the sessions of a worker process (a user's sessions), so SORT and
/// THREAD read each message's header once: a message never changes under its UID and UIDVALIDITY, so an
/// entry keyed by mailbox GUID, UIDVALIDITY and UID never goes stale. Bounded by a number of entries (a few
/// hundred bytes each); when full it starts over, which a mailbox bigger than the bound pays with re-reading.
/// It also remembers which mailboxes' `tern.sort` files it has read.
final class SortFieldCache: Sendable {
    static let shared = SortFieldCache(capacity: 131_072)

    private struct State {
        /// Per mailbox (`GUID/UIDVALIDITY`), per UID: two levels, so a lookup hashes only the UID.
        var mailboxes: [String: [UInt32: SortFields]] = [:]
        var count = 0
        var filesRead: Set<String> = []
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    /// The cached fields of the messages at `positions` (nil where there are none), under one lock.
    func fields(_ positions: [Int], of messages: [MessageInfo], in mailbox: String) -> [SortFields?] {
        state.withLock { state in
            guard let entries = state.mailboxes[mailbox] else { return Array(repeating: nil, count: positions.count) }
            return positions.map { entries[messages[$0].uid] }
        }
    }

    func store(_ entries: [(uid: UInt32, fields: SortFields)], in mailbox: String) {
        state.withLock { state in
            if state.count + entries.count > capacity {
                state.mailboxes.removeAll()
                state.filesRead.removeAll()
                state.count = 0
            }
            for entry in entries where state.mailboxes[mailbox, default: [:]].updateValue(entry.fields, forKey: entry.uid) == nil {
                state.count += 1
            }
        }
    }

    /// True the first time it is asked for `file` (until the cache starts over): the caller reads it then.
    func shouldRead(_ file: String) -> Bool {
        state.withLock { $0.filesRead.insert(file).inserted }
    }
}
