import Glibc

/// A mailbox whose MODSEQs (RFC 7162 §3.1) live in a `tern.index` file, Maildir and mbox alike. Several
/// processes may share a mailbox: the index is re-read when its file changed, and every change to it is a
/// read-modify-write under IndexLock, so MODSEQs only grow and one process's changes are seen by the others at
/// their next `sync()`.
protocol IndexedMailbox: Mailbox {
    var messages: [MessageInfo] { get set }
    var highestModSeq: UInt64 { get set }
    /// The UIDVALIDITY `highestModSeq` belongs to.
    var modSeqUIDValidity: UInt32 { get set }
    /// `tern.index` as last read or written, and its file identity.
    var loadedIndex: MailboxIndex? { get set }
    var indexStamp: FileStamp? { get set }
    var indexPath: String { get }
}

extension MaildirMailbox {
    var indexPath: String { folder.path + "/" + MailboxIndex.fileName }

    public func expungedUIDs(since modSeq: UInt64) -> [UInt32]? { indexedExpungedUIDs(since: modSeq) }
}

extension IndexedMailbox {
    /// After a sync has set `messages`: gives every message its MODSEQ. Flags or keywords that differ from what
    /// the index recorded, and new messages, get new MODSEQs; the file is only locked when something changed.
    func reconcileIndex() throws(MailboxError) {
        if let cached = try cachedIndex(), isUsable(cached), !cached.isOutdated(for: messages) {
            adoptIndex(cached)
            return
        }
        let current = messages
        try updateIndex { $0.record(current) }
    }

    /// After `updateFlags` renamed files: the changed messages get new MODSEQs.
    func recordFlagChanges(_ uids: [UInt32]) throws(MailboxError) {
        guard !uids.isEmpty else { return }
        let changed = uids.compactMap { message(uid: $0) }
        try updateIndex { $0.recordChanges(changed) }
    }

    /// After `expunge` removed files: HIGHESTMODSEQ goes up.
    func recordExpunges(_ uids: [UInt32]) throws(MailboxError) {
        guard !uids.isEmpty else { return }
        try updateIndex { $0.recordExpunges(uids) }
    }

    /// QRESYNC (RFC 7162 §3.2.5, §3.2.6): the UIDs expunged after `modSeq` that this mailbox no longer lists,
    /// ascending; nil when `tern.index` does not remember that far back (it was rebuilt since, or pruned).
    func indexedExpungedUIDs(since modSeq: UInt64) -> [UInt32]? {
        guard let index = try? cachedIndex(), index.uidValidity == uidValidity,
            let uids = index.expungedUIDs(since: modSeq)
        else { return nil }
        return uids.filter { self.index(of: $0) == nil }
    }

    // MARK: reading and writing

    /// The index as last read, re-read when the file's inode, size or mtime changed; nil when it is missing
    /// or unreadable.
    func cachedIndex() throws(MailboxError) -> MailboxIndex? {
        let stamp = FileStamp(indexPath)
        if let stamp, stamp == indexStamp, let loadedIndex { return loadedIndex }
        loadedIndex = try readIndex()
        indexStamp = loadedIndex == nil ? nil : stamp
        return loadedIndex
    }

    private func readIndex() throws(MailboxError) -> MailboxIndex? {
        guard let bytes = try Posix.readFile(indexPath) else { return nil }
        return MailboxIndex.parsedFiles.value(path: indexPath, bytes: bytes, parse: MailboxIndex.parse)
    }

    /// An index of another UIDVALIDITY, or one whose HIGHESTMODSEQ is below what this mailbox already reported
    /// (deleted and rebuilt by another process), cannot be used.
    private func isUsable(_ index: MailboxIndex) -> Bool {
        index.uidValidity == uidValidity && index.highestModSeq >= modSeqFloor
    }

    /// The HIGHESTMODSEQ a rebuilt index must exceed: what this mailbox reported under the same UIDVALIDITY.
    private var modSeqFloor: UInt64 { modSeqUIDValidity == uidValidity ? highestModSeq : 0 }

    /// Read-modify-write of the index under IndexLock, starting from a rebuilt index when the file is
    /// missing, broken or unusable. Written through a temporary file and rename.
    private func updateIndex(_ change: (inout MailboxIndex) -> Void) throws(MailboxError) {
        let lock = try IndexLock.acquire(for: indexPath)
        defer { lock.release() }
        let onDisk = try readIndex()
        var index: MailboxIndex
        if let onDisk, isUsable(onDisk) {
            index = onDisk
        } else {
            // Everything counts as changed for clients that knew an older state: one MODSEQ above it.
            index = MailboxIndex.rebuilt(uidValidity: uidValidity, messages: messages, modSeq: modSeqFloor + 1)
        }
        change(&index)
        if index != onDisk {
            let bytes = index.serialized()
            try Posix.replaceFile(indexPath, with: bytes, durable: false)
            MailboxIndex.parsedFiles.store(index, bytes: bytes, path: indexPath)
        }
        loadedIndex = index
        indexStamp = FileStamp(indexPath)
        adoptIndex(index)
    }

    /// Sets every message's MODSEQ and the mailbox's HIGHESTMODSEQ from `index`.
    private func adoptIndex(_ index: MailboxIndex) {
        for position in messages.indices {
            messages[position].modSeq = index.entries[messages[position].uid]?.modSeq ?? index.highestModSeq
        }
        highestModSeq = index.highestModSeq
        modSeqUIDValidity = index.uidValidity
    }
}
