import CTernSys
import Dispatch
import Synchronization
public import TernMailbox

/// Brings a mailbox's FullTextIndex up to date: the messages it lacks are read and added, header and body
/// split as SEARCH splits them. A search does this first; with Dovecot's fts_autoindex a delivery does it too.
/// Indexing is slow next to scanning (a trigram index of every message), so a caller waits for at most
/// `waitLimit` messages; a longer backlog (a mailbox moved in, or filled by a delivery path that does not
/// index) is indexed by a background thread, and until it is done searches scan the messages it lacks.
public enum FullTextIndexer {
    /// About a fifth of a second of indexing.
    public static let waitLimit = 1000

    /// Index files a background thread of this process is working on.
    private static let running = Mutex(Set<String>())

    /// Adds at most `limit` of the messages of `mailbox` the index lacks, reading them with `read` (CRLF line
    /// ends; nil: gone). None while a background thread of this process indexes the mailbox: callers do not
    /// wait for its lock.
    @discardableResult
    public static func update(
        _ mailbox: any Mailbox, limit: Int = .max, read: (UInt32) -> [UInt8]?
    ) throws -> FullTextIndex {
        let path = mailbox.fullTextIndexPath
        let index = try FullTextIndex(path: path, uidValidity: mailbox.uidValidity)
        if !running.withLock({ $0.contains(path) }) { try add(mailbox, to: index, limit: limit, read: read) }
        return index
    }

    @discardableResult
    private static func add(
        _ mailbox: any Mailbox, to index: FullTextIndex, limit: Int, read: (UInt32) -> [UInt8]?
    ) throws -> Int {
        try index.add(uids: mailbox.messages.lazy.map(\.uid), limit: limit) { uid in
            guard let bytes = read(uid) else { return nil }
            let sections = MessageSections(bytes)
            return (Array(bytes[sections.root.header]), Array(bytes[sections.root.body]))
        }
    }

    /// Updates the index of `mailbox`, reading the messages from it; `limit` as above.
    @discardableResult
    public static func update(_ mailbox: any Mailbox, limit: Int = .max) throws -> FullTextIndex {
        try update(mailbox, limit: limit) { uid in SearchQuery.messageBytes(uid, in: mailbox) }
    }

    /// Whether the index lacks messages of `mailbox`.
    public static func isBehind(_ index: FullTextIndex, _ mailbox: any Mailbox) -> Bool {
        (mailbox.messages.last?.uid ?? 0) > index.lastUID
    }

    /// Indexes the rest of a mailbox on a background thread at a lower priority, `waitLimit` messages per
    /// transaction so searches meanwhile use what is done. `open` opens the mailbox anew on that thread (a
    /// session's mailbox is not shared between threads). One thread per index file and process; `done` runs
    /// when it ends (tests wait for it).
    public static func continueInBackground(
        _ path: String, open: @escaping @Sendable () throws -> any Mailbox, done: @escaping @Sendable () -> Void = {}
    ) {
        guard running.withLock({ $0.insert(path).inserted }) else { return }
        DispatchQueue.global(qos: .utility).async {
            _ = tern_lower_thread_priority(10)
            defer {
                running.withLock { _ = $0.remove(path) }
                done()
            }
            guard let mailbox = try? open() else { return }
            let read = { uid in SearchQuery.messageBytes(uid, in: mailbox) }
            while let index = try? FullTextIndex(path: path, uidValidity: mailbox.uidValidity),
                let added = try? add(mailbox, to: index, limit: waitLimit, read: read), added > 0,
                isBehind(index, mailbox)
            {}
        }
    }
}
