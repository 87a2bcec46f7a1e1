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
    /// Messages `syncKeepingExpunged` left listed after they were expunged on disk.
    var keptExpunged: Set<UInt32> { get set }
}

extension MaildirMailbox {
    var indexPath: String { folder.path + "/" + MailboxIndex.fileName }

    /// Dovecot gives the messages of one save (an APPEND, a MULTIAPPEND, a COPY) one MODSEQ of their own when
    /// they are saved. So does this, in the folder's tern.index; otherwise the next sync would give them one
    /// MODSEQ together with whatever else it finds. Left to that sync when the index is missing, of another
    /// UIDVALIDITY, already lists one of the UIDs, or ends in a torn line.
    static func recordSaved(_ saved: [UInt32: MailboxIndex.Entry], uidValidity: UInt32, in folder: MaildirFolder) {
        let path = folder.path + "/" + MailboxIndex.fileName
        guard !saved.isEmpty, let lock = try? IndexLock.acquire(for: path) else { return }
        defer { lock.release() }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard let stamp = FileStamp(fd: fd), let before = savedIndex(fd, path: path, stamp: stamp),
            before.uidValidity == uidValidity, saved.keys.allSatisfy({ before.entries[$0] == nil })
        else { return }
        var index = before
        index.recordSaved(saved)
        guard let log = index.log(since: before), (try? Posix.appendToFile(path, log, durable: false)) != nil,
            let written = FileStamp(path), written.size == stamp.size + log.count
        else { return }
        MailboxIndex.latest.store(IndexState(index: index, stamp: written), path: path)
    }

    /// The index in `fd`, from the lines appended since this process last read it when it can; nil when the
    /// file ends in a torn line or does not parse.
    private static func savedIndex(_ fd: Int32, path: String, stamp: FileStamp) -> MailboxIndex? {
        if let shared = MailboxIndex.latest.state(of: path), shared.stamp.inode == stamp.inode,
            shared.stamp.size <= stamp.size, stamp.size - shared.stamp.size <= maxTail,
            let header = try? Posix.read(fd, at: 0, count: 256, path: path),
            let written = MailboxIndex.header(of: header[...]), shared.index.isSameFile(as: written),
            let tail = try? Posix.read(fd, at: shared.stamp.size, count: stamp.size - shared.stamp.size, path: path)
        {
            guard tail.isEmpty || tail.last == UInt8(ascii: "\n") else { return nil }
            return shared.index.appending(tail[...])
        }
        guard let bytes = try? Posix.readAll(fd, path: path), bytes.last == UInt8(ascii: "\n") else { return nil }
        return MailboxIndex.parse(bytes)
    }

    public func expungedUIDs(since modSeq: UInt64) -> [UInt32]? { indexedExpungedUIDs(since: modSeq) }
}

extension IndexedMailbox {
    /// `syncKeepingExpunged`: a `sync()` whose expunged messages are put back in UID order.
    func keepingExpunged() throws(MailboxError) -> MailboxChanges {
        let before = messages
        var changes = try sync()
        guard !changes.expunged.isEmpty, !changes.uidValidityChanged else { return changes }
        let gone = Set(changes.expunged)
        messages = (messages + before.filter { gone.contains($0.uid) }).sorted { $0.uid < $1.uid }
        keptExpunged.formUnion(gone)
        changes.expunged = []
        return changes
    }

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

    /// The index as last read, brought up to date: unchanged when the file's inode, size and mtime are; when the
    /// same file grew, only the lines appended since this session or, if further, another session of this
    /// process read it (`MailboxIndex.latest`); else read whole. Nil when it is missing or unreadable.
    func cachedIndex() throws(MailboxError) -> MailboxIndex? {
        let fd = open(indexPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            guard errno == ENOENT else { throw Posix.failure("open", indexPath) }
            loadedIndex = nil
            indexStamp = nil
            return nil
        }
        defer { close(fd) }
        guard let stamp = FileStamp(fd: fd) else { throw Posix.failure("fstat", indexPath) }
        if stamp == indexStamp, let loadedIndex { return loadedIndex }
        var base = loadedIndex.flatMap { index in indexStamp.map { IndexState(index: index, stamp: $0) } }
        if let shared = MailboxIndex.latest.state(of: indexPath), shared.stamp.inode == stamp.inode,
            shared.stamp.size <= stamp.size, base?.stamp.inode != stamp.inode || shared.stamp.size > base!.stamp.size
        {
            base = shared
        }
        if let base, base.stamp.inode == stamp.inode, base.stamp.size <= stamp.size,
            let grown = try readLog(fd, of: base.index, from: base.stamp.size, to: stamp)
        {
            return grown
        }
        let bytes = try Posix.readAll(fd, path: indexPath)
        // A log line being appended right now is left for the next read.
        let whole = bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        loadedIndex = MailboxIndex.parse(Array(bytes[..<whole]))
        indexStamp = loadedIndex == nil ? nil : stamp.truncated(to: whole)
        shareIndex()
        return loadedIndex
    }

    /// The lines appended to the file `index` was read from, from `offset` on, applied to it (and kept); nil
    /// when the file is another one now (its header differs) or a line is unsound: it is read whole then.
    private func readLog(_ fd: Int32, of index: MailboxIndex, from offset: Int, to stamp: FileStamp)
        throws(MailboxError) -> MailboxIndex?
    {
        // A tail beyond what a whole file may be is garbage: the whole read refuses it.
        guard stamp.size - offset <= Self.maxTail else { return nil }
        let header = try Posix.read(fd, at: 0, count: 256, path: indexPath)
        guard let written = MailboxIndex.header(of: header[...]), index.isSameFile(as: written) else { return nil }
        let tail = try Posix.read(fd, at: offset, count: stamp.size - offset, path: indexPath)
        let end = tail.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        guard let grown = index.appending(tail[..<end]) else { return nil }
        loadedIndex = grown
        indexStamp = stamp.truncated(to: offset + end)
        shareIndex()
        return grown
    }

    /// What `Posix.readFile` reads at most.
    static var maxTail: Int { 256 << 20 }

    /// Offers the index as this session read or wrote it to the other sessions of the process.
    private func shareIndex() {
        guard let loadedIndex, let indexStamp else { return }
        MailboxIndex.latest.store(IndexState(index: loadedIndex, stamp: indexStamp), path: indexPath)
    }

    /// An index of another UIDVALIDITY, or one whose HIGHESTMODSEQ is below what this mailbox already reported
    /// (deleted and rebuilt by another process), cannot be used.
    private func isUsable(_ index: MailboxIndex) -> Bool {
        index.uidValidity == uidValidity && index.highestModSeq >= modSeqFloor
    }

    /// The HIGHESTMODSEQ a rebuilt index must exceed: what this mailbox reported under the same UIDVALIDITY.
    private var modSeqFloor: UInt64 { modSeqUIDValidity == uidValidity ? highestModSeq : 0 }

    /// Read-modify-write of the index under IndexLock, starting from a rebuilt index when the file is missing,
    /// broken or unusable. The change is appended to the file as log lines; the file is written anew (through a
    /// temporary file and rename) when it has none that can be used, when the change cannot be logged, or when
    /// the log has grown past `rewriteSize`.
    private func updateIndex(_ change: (inout MailboxIndex) -> Void) throws(MailboxError) {
        let lock = try IndexLock.acquire(for: indexPath)
        defer { lock.release() }
        let onDisk = try cachedIndex()  // the whole file: writers are locked out
        var index: MailboxIndex
        if let onDisk, isUsable(onDisk) {
            index = onDisk
        } else {
            // Everything counts as changed for clients that knew an older state: one MODSEQ above it.
            index = MailboxIndex.rebuilt(uidValidity: uidValidity, messages: messages, modSeq: modSeqFloor + 1)
        }
        let before = index
        change(&index)
        // Read to its end (a writer that died mid-line leaves a tail without a newline): appending is safe.
        if let onDisk, isUsable(onDisk), let size = indexStamp?.size, FileStamp(indexPath)?.size == size {
            if index != before {
                if let log = index.log(since: before), size + log.count <= Self.rewriteSize(index) {
                    try Posix.appendToFile(indexPath, log, durable: false)
                } else {
                    try rewriteIndex(&index)
                }
            }
        } else {
            try rewriteIndex(&index)
        }
        loadedIndex = index
        indexStamp = FileStamp(indexPath)
        shareIndex()
        adoptIndex(index)
    }

    private func rewriteIndex(_ index: inout MailboxIndex) throws(MailboxError) {
        index.headerModSeq = index.highestModSeq
        let bytes = index.serialized()
        try Posix.replaceFile(indexPath, with: bytes, durable: false)
    }

    /// The file size past which the log is folded into a new file: about two and a half times what the records
    /// take, and at least 64 KiB, so a rewrite (and every session's reading it whole) comes once in thousands of
    /// changes.
    static func rewriteSize(_ index: MailboxIndex) -> Int {
        max(64 << 10, index.entries.count * 100)
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
