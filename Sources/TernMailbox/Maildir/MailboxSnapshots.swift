import Synchronization

/// The state a `sync()` leaves behind, shared between the sessions of one process that open the same Maildir.
///
/// A session opening a mailbox whose files are exactly as another session's last sync saw them (same
/// `SyncFingerprint`, settled) takes that session's state instead of reading the directories and the uidlist
/// again. The arrays and dictionaries are copy-on-write, so sessions that only look at the mailbox (IDLE, FETCH)
/// share one copy of the message list: a thousand sessions on one INBOX cost one message list, not a thousand.
struct MailboxSnapshot: Sendable {
    var fingerprint: SyncFingerprint
    var uidValidity: UInt32
    var nextUID: UInt32
    var guid: String
    /// Without `\Recent`: that belongs to the session that saw the messages first.
    var messages: [MessageInfo]
    var keywords: KeywordList
    var records: [String: UIDList.Record]
    var uidlistStamp: FileStamp?
    var index: MailboxIndex?
    var indexStamp: FileStamp?
    var highestModSeq: UInt64
    var modSeqUIDValidity: UInt32
}

/// The latest snapshot per Maildir path in this process, for the most recently used `capacity` paths.
final class MailboxSnapshots: Sendable {
    static let shared = MailboxSnapshots(capacity: 64)

    private struct State {
        var byPath: [String: MailboxSnapshot] = [:]
        /// Paths, least recently used first.
        var order: [String] = []

        mutating func touch(_ path: String) {
            if let position = order.lastIndex(of: path) { order.remove(at: position) }
            order.append(path)
        }
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    /// The snapshot of `path` taken when its files looked like `fingerprint`, if there is one.
    func snapshot(of path: String, matching fingerprint: SyncFingerprint) -> MailboxSnapshot? {
        state.withLock { state -> MailboxSnapshot? in
            guard let snapshot = state.byPath[path], snapshot.fingerprint == fingerprint else { return nil }
            state.touch(path)
            return snapshot
        }
    }

    /// The latest snapshot of `path`, whatever the files look like now.
    func latest(of path: String) -> MailboxSnapshot? {
        state.withLock { $0.byPath[path] }
    }

    /// Whether the snapshot kept for `path` is the one for `fingerprint` already.
    func holds(_ path: String, fingerprint: SyncFingerprint) -> Bool {
        state.withLock { $0.byPath[path]?.fingerprint == fingerprint }
    }

    func store(_ snapshot: MailboxSnapshot, for path: String) {
        state.withLock { state in
            state.byPath[path] = snapshot
            state.touch(path)
            if state.order.count > capacity {
                state.byPath[state.order.removeFirst()] = nil
            }
        }
    }
}

extension MaildirMailbox {
    /// On the first sync of a freshly opened mailbox: takes the state another session of this process left for
    /// exactly these files. Returns false when there is none.
    func adoptSharedSnapshot(_ fingerprint: SyncFingerprint) -> Bool {
        guard lastSync == nil, fingerprint.isSettled,
            let snapshot = MailboxSnapshots.shared.snapshot(of: folder.path, matching: fingerprint)
        else { return false }
        adopt(snapshot)
        return true
    }

    /// On the first sync, when the files changed since another session's snapshot: starts from that state, so
    /// that the sync only looks closer at what changed since (the UID assignments, flags and dates of the
    /// other messages are known). Messages the snapshot has are not `\Recent` here: another session saw them.
    func startFromSharedSnapshot() {
        guard lastSync == nil, messages.isEmpty, let snapshot = MailboxSnapshots.shared.latest(of: folder.path)
        else { return }
        adopt(snapshot)
    }

    private func adopt(_ snapshot: MailboxSnapshot) {
        uidValidity = snapshot.uidValidity
        nextUID = snapshot.nextUID
        guid = snapshot.guid
        messages = snapshot.messages
        keywords = snapshot.keywords
        records = snapshot.records
        uidlistStamp = snapshot.uidlistStamp
        loadedIndex = snapshot.index
        indexStamp = snapshot.indexStamp
        highestModSeq = snapshot.highestModSeq
        modSeqUIDValidity = snapshot.modSeqUIDValidity
        lastSync = snapshot.fingerprint
    }

    /// After a sync that left the mailbox matching settled files: offers this state to the other sessions. Not
    /// while messages are still in new/ (a read-only session sees those as `\Recent`).
    func shareSnapshot() {
        guard let fingerprint = lastSync, fingerprint.isSettled, pendingVirtualSizes.isEmpty,
            !MailboxSnapshots.shared.holds(folder.path, fingerprint: fingerprint),
            !messages.contains(where: { $0.directory == .new })
        else { return }
        var shared = messages
        if shared.contains(where: \.isRecent) {
            for position in shared.indices { shared[position].isRecent = false }
        }
        let snapshot = MailboxSnapshot(
            fingerprint: fingerprint, uidValidity: uidValidity, nextUID: nextUID, guid: guid, messages: shared,
            keywords: keywords, records: records, uidlistStamp: uidlistStamp, index: loadedIndex,
            indexStamp: indexStamp, highestModSeq: highestModSeq, modSeqUIDValidity: modSeqUIDValidity)
        MailboxSnapshots.shared.store(snapshot, for: folder.path)
    }
}

/// Parsed control files (dovecot-uidlist, tern.index) shared by the sessions of a process: a file whose bytes
/// are exactly those parsed before is not parsed again. Comparing the bytes, not the file's stamp, keeps this
/// safe when a file is rewritten within the file system's timestamp granularity.
final class ParsedFiles<Value: Sendable>: Sendable {
    private struct Entry {
        var bytes: [UInt8]
        var value: Value
    }

    private let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(capacity: Int) { self.capacity = capacity }

    func value(path: String, bytes: [UInt8], parse: ([UInt8]) -> Value) -> Value {
        if let cached = entries.withLock({ $0[path] }), cached.bytes == bytes { return cached.value }
        let value = parse(bytes)
        store(value, bytes: bytes, path: path)
        return value
    }

    /// What this process just wrote to `path`, so that reading it back needs no parsing.
    func store(_ value: Value, bytes: [UInt8], path: String) {
        entries.withLock { entries in
            if entries.count >= capacity && entries[path] == nil { entries.removeAll(keepingCapacity: true) }
            entries[path] = Entry(bytes: bytes, value: value)
        }
    }
}

extension UIDList {
    /// dovecot-uidlist files parsed by this process.
    static let parsedFiles = ParsedFiles<(list: UIDList, damage: UIDList.Damage?)?>(capacity: 64)
}

/// A tern.index as read up to `stamp.size` bytes of the file `stamp` names.
struct IndexState: Sendable {
    var index: MailboxIndex
    var stamp: FileStamp
}

/// The furthest state of each tern.index that the sessions of this process read or wrote, so a session that
/// opens the mailbox reads only the log lines appended since, not the whole file.
final class IndexStates: Sendable {
    private let capacity: Int
    private let states = Mutex<[String: IndexState]>([:])

    init(capacity: Int) { self.capacity = capacity }

    func state(of path: String) -> IndexState? { states.withLock { $0[path] } }

    /// Keeps `state` unless the one kept is of the same file and read further.
    func store(_ state: IndexState, path: String) {
        states.withLock { states in
            if let kept = states[path], kept.stamp.inode == state.stamp.inode, kept.stamp.size >= state.stamp.size {
                return
            }
            if states.count >= capacity && states[path] == nil { states.removeAll(keepingCapacity: true) }
            states[path] = state
        }
    }
}

extension MailboxIndex {
    /// tern.index files read or written by this process.
    static let latest = IndexStates(capacity: 64)
}
