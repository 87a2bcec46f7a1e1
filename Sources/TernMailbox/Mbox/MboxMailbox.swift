import Glibc

/// An open mbox mailbox (Dovecot 2.3's mbox format, see `MboxParser` and `MboxHeaders`): UIDs, UIDVALIDITY,
/// UIDNEXT and keywords live in the file's `X-UID` / `X-IMAPbase` headers and flags in `Status`, `X-Status` and
/// `X-Keywords`, so Dovecot, Tern and mail readers share the file. Mail the MTA appended gets its UIDs at the
/// next sync, which rewrites the file. Every change (flags, expunge, append) rewrites the file under the
/// write locks (`MboxFile.rewrite`); the session keeps reading messages from the file it parsed last, which
/// the rewrite does not touch (a new file is renamed over it).
public final class MboxMailbox: Mailbox, IndexedMailbox {
    public let name: String
    public let isReadOnly: Bool
    public internal(set) var uidValidity: UInt32 = 0
    public internal(set) var nextUID: UInt32 = 1
    public internal(set) var messages: [MessageInfo] = []
    var keptExpunged = Set<UInt32>()
    public internal(set) var definedKeywords: [String] = []
    public internal(set) var highestModSeq: UInt64 = 0

    let location: MboxLocation
    /// Where each message of `messages` lies in `fd` (same order).
    var entries: [MboxEntry] = []
    /// The file `entries` point into, kept open until the next sync parses a newer one.
    var fd: Int32 = -1
    /// The file as the last sync read it; nil forces the next sync to read it again.
    var stamp: FileStamp?
    var loadedIndex: MailboxIndex?
    var indexStamp: FileStamp?
    var modSeqUIDValidity: UInt32 = 0
    /// STOREs not written to the file yet (`updateFlags`).
    var pendingEdits: [FlagEdit] = []
    var indexPath: String { location.indexDirectory + "/" + MailboxIndex.fileName }
    /// Where the mailbox's full-text index is (FullTextIndex), beside `tern.index`.
    public var fullTextIndexPath: String { location.indexDirectory + "/tern.fts.sqlite" }
    public var cacheDirectory: String { location.indexDirectory }

    init(name: String, location: MboxLocation, readOnly: Bool) throws(MailboxError) {
        self.name = name
        self.location = location
        self.isReadOnly = readOnly
        try Posix.makeDirectories(location.indexDirectory)
        try sync()
    }

    deinit {
        try? writePendingEdits()
        if fd >= 0 { close(fd) }
    }

    /// The mailbox GUID: Dovecot keeps an mbox's in its index; Tern derives one from UIDVALIDITY and the path.
    public var guid: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in location.path.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let text = String(hash, radix: 16)
        return UIDValidityAllocator.hex8(uidValidity) + "00000000" + String(repeating: "0", count: 16 - text.count)
            + text
    }

    // MARK: Sync

    /// An unchanged mbox costs one stat already; a changed one has to be read either way.
    @discardableResult
    public func quickSync() throws(MailboxError) -> MailboxChanges { try sync() }

    @discardableResult
    public func syncKeepingExpunged() throws(MailboxError) -> MailboxChanges { try keepingExpunged() }

    @discardableResult
    public func sync() throws(MailboxError) -> MailboxChanges {
        try writePendingEdits()
        if let stamp, FileStamp(location.path) == stamp, stamp.isSettled, keptExpunged.isEmpty {
            return MailboxChanges()
        }
        // A full sync lists only what is in the file: messages kept after their expunge are reported now.
        keptExpunged = []
        var read = try readFile()
        var recent = Set<UInt32>()
        let needsWrite = MboxFile.plan(read.parsed, newUIDValidity: { 0 }).needsWrite
        if needsWrite || (!isReadOnly && read.parsed.entries.contains { !$0.isOld }) {
            // Give new mail its UIDs in the file (and, for a session that selected the mailbox, take over the
            // new messages: they are \Recent here and Status O from now on).
            close(read.fd)
            let result = try MboxFile.rewrite(location, markOld: !isReadOnly)
            if !isReadOnly { recent = Set(result.wereNew) }
            read = try readFile()
        }
        let fresh = MboxFile.plan(read.parsed, newUIDValidity: location.newUIDValidity)
        if isReadOnly { recent = Set(fresh.messages.filter { !$0.old }.map(\.uid)) }

        var changes = MailboxChanges()
        if uidValidity != 0 && fresh.base.uidValidity != uidValidity {
            changes.uidValidityChanged = true
            messages = []
        }
        var previousByUID: [UInt32: MessageInfo] = [:]
        for message in messages { previousByUID[message.uid] = message }
        let mtime = read.stamp?.seconds ?? 0
        var updated: [MessageInfo] = []
        updated.reserveCapacity(fresh.messages.count)
        for planned in fresh.messages {
            if var known = previousByUID[planned.uid] {
                known.flags = planned.flags
                known.keywords = planned.keywords
                known.knownVirtualSize = known.size == planned.entry.size ? known.knownVirtualSize : nil
                updated.append(known)
                continue
            }
            updated.append(
                MessageInfo(
                    uid: planned.uid, flags: planned.flags, keywords: planned.keywords,
                    isRecent: recent.contains(planned.uid), size: planned.entry.size, knownVirtualSize: nil,
                    internalDate: MboxHeaders.date(fromLine: planned.entry.fromLine) ?? mtime,
                    baseName: String(planned.uid),
                    directory: .cur, fileName: ""))
            changes.added.append(planned.uid)
        }
        let remaining = Set(updated.map(\.uid))
        changes.expunged = messages.map(\.uid).filter { !remaining.contains($0) }
        let oldKeywords = definedKeywords
        definedKeywords = fresh.base.keywords
        changes.keywordsChanged = !messages.isEmpty && definedKeywords != oldKeywords
        messages = updated
        entries = fresh.messages.map(\.entry)
        uidValidity = fresh.base.uidValidity
        nextUID = fresh.base.nextUID
        if fd >= 0 { close(fd) }
        fd = read.fd
        stamp = read.stamp
        try reconcileIndex()
        changes.flagsChanged = messages.filter { message in
            guard let known = previousByUID[message.uid] else { return false }
            return known.flags != message.flags || known.keywords != message.keywords || known.modSeq != message.modSeq
        }.map(\.uid)
        return changes
    }

    /// Opens the file under a read lock and parses it. A missing file is an empty mailbox; it is created
    /// (INBOX in the spool is made on first use, as Dovecot does).
    private func readFile() throws(MailboxError) -> (fd: Int32, parsed: ParsedMbox, stamp: FileStamp?) {
        var lock = try MboxLock.read(location.path)
        if lock == nil {
            try MboxFile.rewrite(location)
            lock = try MboxLock.read(location.path)
        }
        guard let lock else { throw Posix.failure("open", location.path, ENOENT) }
        defer { lock.release() }
        let fd = dup(lock.fd)
        if fd < 0 { throw Posix.failure("dup", location.path) }
        do throws(MailboxError) {
            let parsed = try MboxParser.parse(MboxSource(fd: fd))
            return (fd, parsed, FileStamp(fd: fd))
        } catch {
            close(fd)
            throw error
        }
    }

    // MARK: Changes

    /// STORE. Like Dovecot's default mbox_lazy_writes, the file is written at the next `sync()` (after the
    /// command; so `FETCH 1:* BODY[]` setting \Seen rewrites it once), at an expunge, or when the mailbox is
    /// closed; the changes are replayed on the file as it is then, so flags others set meanwhile stay.
    public func updateFlags(uids: [UInt32], _ change: FlagChange, flags: MessageFlags, keywords names: [String])
        throws(MailboxError) -> [MessageInfo]
    {
        if isReadOnly { throw MailboxError.readOnly }
        let edit = FlagEdit(uids: Set(uids), change: change, flags: flags, keywords: names)
        var changed: [UInt32] = []
        var result: [MessageInfo] = []
        for uid in Set(uids).sorted() {
            guard let position = index(of: uid) else { continue }
            var planned = MboxPlanned(
                entry: entries[position], uid: uid, flags: messages[position].flags,
                keywords: messages[position].keywords, old: true)
            edit.apply(to: &planned, defined: definedKeywords)
            if planned.flags != messages[position].flags || planned.keywords != messages[position].keywords {
                changed.append(uid)
                messages[position].flags = planned.flags
                messages[position].keywords = planned.keywords
            }
            for keyword in planned.keywords where !definedKeywords.contains(keyword) { definedKeywords.append(keyword) }
            result.append(messages[position])
        }
        if !changed.isEmpty { pendingEdits.append(edit) }
        try recordFlagChanges(changed)
        return result
    }

    /// Writes the flag changes not yet in the file.
    func writePendingEdits() throws(MailboxError) {
        guard !pendingEdits.isEmpty else { return }
        let edits = pendingEdits
        let validity = uidValidity
        try MboxFile.rewrite(location) { (planned: inout [MboxPlanned], base: inout MboxBase) throws(MailboxError) in
            guard base.uidValidity == validity else { return }
            for edit in edits {
                for position in planned.indices where edit.uids.contains(planned[position].uid) {
                    edit.apply(to: &planned[position], defined: base.keywords)
                }
            }
        }
        pendingEdits = []
        stamp = nil
    }

    public func expunge(uids: [UInt32]) throws(MailboxError) -> [UInt32] {
        if isReadOnly { throw MailboxError.readOnly }
        let wanted = Set(uids.filter { index(of: $0) != nil })
        guard !wanted.isEmpty else { return [] }
        var removed: [UInt32] = []
        let validity = uidValidity
        let edits = pendingEdits
        try MboxFile.rewrite(location) { (planned: inout [MboxPlanned], base: inout MboxBase) throws(MailboxError) in
            guard base.uidValidity == validity else { return }
            for position in planned.indices {
                for edit in edits where edit.uids.contains(planned[position].uid) {
                    edit.apply(to: &planned[position], defined: base.keywords)
                }
                if wanted.contains(planned[position].uid) { planned[position].keep = false }
            }
        }
        pendingEdits = []
        for uid in wanted.sorted() {
            guard let position = index(of: uid) else { continue }
            messages.remove(at: position)
            entries.remove(at: position)
            removed.append(uid)
        }
        stamp = nil
        try recordExpunges(removed)
        return removed
    }

    public func expungedUIDs(since modSeq: UInt64) -> [UInt32]? { indexedExpungedUIDs(since: modSeq) }

    public func clearRecent() {
        for index in messages.indices { messages[index].isRecent = false }
    }

    // MARK: Reading

    /// mbox keeps no save dates (FETCH SAVEDATE answers NIL, as RFC 8514 allows).
    public func saveDate(uid: UInt32) -> Int? { nil }

    /// mbox keeps no message GUID: the mailbox GUID and the UID stand in (not kept by a COPY).
    public func messageGUID(uid: UInt32) -> String? { index(of: uid) == nil ? nil : "\(guid)-\(uid)" }

    public func openMessage(uid: UInt32) throws(MailboxError) -> MessageReader {
        guard let position = index(of: uid) else { throw MailboxError.noSuchMessage(uid) }
        let copy = dup(fd)
        if copy < 0 { throw Posix.failure("dup", location.path) }
        return MessageReader(fd: copy, segments: entries[position].segments)
    }

    public func virtualSize(uid: UInt32) throws(MailboxError) -> Int {
        guard let position = index(of: uid) else { throw MailboxError.noSuchMessage(uid) }
        if let known = messages[position].knownVirtualSize { return known }
        let size = try openMessage(uid: uid).crlfSize()
        messages[position].knownVirtualSize = size
        return size
    }

    public func pop3UIDL(uid: UInt32, format: String) -> String? {
        guard message(uid: uid) != nil else { return nil }
        return POP3UIDLFormat.expand(format, uid: uid, uidValidity: uidValidity, baseName: String(uid), guid: guid)
    }

    public func beginAppend(flags: MessageFlags, keywords: [String], internalDate: Int?) throws(MailboxError)
        -> any MailboxAppender
    {
        try MboxAppender(location: location, flags: flags, keywords: keywords, internalDate: internalDate)
    }
}

/// One STORE, replayed on the file's messages when it is written.
struct FlagEdit {
    var uids: Set<UInt32>
    var change: FlagChange
    var flags: MessageFlags
    var keywords: [String]

    /// Applies the change; keywords match case-insensitively and keep the spelling the mailbox has.
    func apply(to message: inout MboxPlanned, defined: [String]) {
        func same(_ a: String, _ b: String) -> Bool { a.lowercased() == b.lowercased() }
        let spelled = keywords.map { name in defined.first { same($0, name) } ?? name }
        switch change {
        case .add:
            message.flags.formUnion(flags)
            for name in spelled where !message.keywords.contains(where: { same($0, name) }) {
                message.keywords.append(name)
            }
        case .remove:
            message.flags.subtract(flags)
            message.keywords.removeAll { keyword in keywords.contains { same($0, keyword) } }
        case .replace:
            message.flags = flags
            message.keywords = []
            for name in spelled where !message.keywords.contains(where: { same($0, name) }) {
                message.keywords.append(name)
            }
        }
    }
}
