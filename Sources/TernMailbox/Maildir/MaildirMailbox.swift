import Glibc

/// An open Maildir mailbox: the message list one session works with, kept in step with the directory and with
/// `dovecot-uidlist` the way Dovecot 2.3 keeps it, so Tern, Dovecot and the MTA can use the same Maildir at once.
///
/// Not thread-safe and synchronous: one session owns it and calls it off the event loop. Messages are listed
/// by name and stat only; contents are read only by `openMessage` and `virtualSize`.
public final class MaildirMailbox: IndexedMailbox {
    /// The mailbox name as the store knows it (`INBOX`, `Drafts/Sub`).
    public let name: String
    /// EXAMINE / POP3 without deletes: new/ is not moved to cur/, nothing is changed.
    public let isReadOnly: Bool
    public internal(set) var uidValidity: UInt32 = 0
    /// UIDNEXT.
    public internal(set) var nextUID: UInt32 = 1
    /// The mailbox GUID from the uidlist header (32 hex digits).
    public internal(set) var guid: String = ""
    /// The messages in UID order; the index + 1 is the IMAP sequence number.
    public internal(set) var messages: [MessageInfo] = []
    /// All keywords defined in the mailbox (FLAGS / PERMANENTFLAGS).
    public var definedKeywords: [String] { keywords.all }
    /// HIGHESTMODSEQ (RFC 7162 §3.1.2.1) from `tern.index`: the MODSEQ of the latest change to the mailbox.
    public internal(set) var highestModSeq: UInt64 = 0

    let folder: MaildirFolder
    var keywords = KeywordList()
    /// uidlist records by base name, for the S/W/P fields.
    var records: [String: UIDList.Record] = [:]
    var uidlistStamp: FileStamp?
    /// CRLF sizes computed here that the uidlist does not have yet.
    var pendingVirtualSizes: [String: Int] = [:]
    var uidValidityChangedSinceSync = false
    /// `tern.index` as last read or written, and its file identity.
    var loadedIndex: MailboxIndex?
    var indexStamp: FileStamp?
    /// The UIDVALIDITY `highestModSeq` belongs to.
    var modSeqUIDValidity: UInt32 = 0
    /// The files as the last sync left them (see `SyncFingerprint`).
    var lastSync: SyncFingerprint?
    /// When `sync()` last looked at the directories (seconds since the epoch), for `quickSync()`.
    var lastFullSync = 0
    var keptExpunged = Set<UInt32>()

    init(name: String, folder: MaildirFolder, readOnly: Bool) throws(MailboxError) {
        self.name = name
        self.folder = folder
        self.isReadOnly = readOnly
        try folder.ensureDirectories()
        _ = try sync()
    }

    /// Opens the Maildir at `path` directly (no store), e.g. for tests and tools. `root` is where
    /// `dovecot-uidvalidity` is kept (the user's Maildir).
    public convenience init(path: String, root: String? = nil, name: String = "INBOX", readOnly: Bool = false)
        throws(MailboxError)
    {
        try self.init(name: name, folder: MaildirFolder(path: path, root: root ?? path), readOnly: readOnly)
    }

    /// Where the mailbox's full-text index is (FullTextIndex).
    public var fullTextIndexPath: String { folder.path + "/tern.fts.sqlite" }

    // MARK: Sync

    /// Brings the message list up to date with the directory: gives UIDs to new files under the uidlist lock
    /// (oldest first, as Dovecot does), moves new/ to cur/ unless read-only, and reports what changed since the
    /// last call (new mail from the MTA, expunges and flag changes by other sessions or Dovecot).
    @discardableResult
    public func sync() throws(MailboxError) -> MailboxChanges {
        lastFullSync = Posix.now().tv_sec
        let fingerprint = SyncFingerprint(folder, indexPath: indexPath)
        if fingerprint == lastSync && fingerprint.isSettled && pendingVirtualSizes.isEmpty && keptExpunged.isEmpty {
            shareSnapshot()
            return MailboxChanges()
        }
        // A full sync lists only what is on disk: messages kept after their expunge are reported now.
        keptExpunged = []
        if adoptSharedSnapshot(fingerprint) { return MailboxChanges() }
        startFromSharedSnapshot()
        var changes = MailboxChanges()
        var scan = try scanDirectories()
        let oldKeywords = keywords
        keywords = try folder.loadKeywords()
        changes.keywordsChanged = !messages.isEmpty && keywords.all != oldKeywords.all

        let loaded = try loadUIDListIfChanged()
        let unknown = scan.files.keys.contains { records[$0] == nil }
        if unknown || loaded.needsRewrite || !pendingVirtualSizes.isEmpty {
            try assignUIDs(scan: scan, pruneMissing: scan.isStable)
        }
        if uidValidityChangedSinceSync {
            uidValidityChangedSinceSync = false
            changes.uidValidityChanged = true
            messages = []
        }

        var movedFromNew = Set<String>()
        if !isReadOnly {
            var lostDuringMove = false
            for (base, file) in scan.files where file.directory == .new {
                let target = file.name.contains(":") ? file.name : file.name + ":2,"
                if rename(folder.new + "/" + file.name, folder.cur + "/" + target) == 0 {
                    scan.files[base] = ScannedFile(directory: .cur, name: target)
                    movedFromNew.insert(base)
                } else if errno == ENOENT {
                    lostDuringMove = true  // another session moved it first; it is in cur/ now
                }
            }
            if !movedFromNew.isEmpty { Posix.syncDirectory(folder.cur) }
            if lostDuringMove { scan = try scanDirectories() }
        }

        let previous = messages
        var previousByUID: [UInt32: MessageInfo] = [:]
        previousByUID.reserveCapacity(previous.count)
        for message in previous { previousByUID[message.uid] = message }

        // Sizes and dates of messages this session has not seen yet come from tern.index when it has them,
        // instead of a stat per file.
        let index = try cachedIndex().flatMap { $0.uidValidity == uidValidity ? $0 : nil }
        var updated: [MessageInfo] = []
        updated.reserveCapacity(records.count)
        for record in records.values.sorted(by: { $0.uid < $1.uid }) {
            guard let file = scan.files[record.base] else {
                // Not found: keep a known message when the directory changed under the scan; a later sync
                // decides. Otherwise it was expunged.
                if !scan.isStable, let kept = previousByUID[record.uid] { updated.append(kept) }
                continue
            }
            if let known = previousByUID[record.uid], known.fileName == file.name, known.directory == file.directory,
                !changes.keywordsChanged
            {
                updated.append(known)  // same name, same flags: nothing to parse
                continue
            }
            let parsed = MaildirFileName(file.name)
            let keywordNames = parsed.keywordIndexes.compactMap { keywords.name(at: $0) }
            if var known = previousByUID[record.uid] {
                known.flags = parsed.flags
                known.keywords = keywordNames
                known.directory = file.directory
                known.fileName = file.name
                updated.append(known)
            } else if let info = makeInfo(
                record: record, file: file, parsed: parsed, keywords: keywordNames, indexed: index?.entries[record.uid])
            {
                var info = info
                info.isRecent = movedFromNew.contains(record.base) || (isReadOnly && file.directory == .new)
                updated.append(info)
                changes.added.append(record.uid)
            }
        }
        let remaining = Set(updated.map(\.uid))
        changes.expunged = previous.map(\.uid).filter { !remaining.contains($0) }
        messages = updated
        try reconcileIndex()
        changes.flagsChanged = messages.filter { message in
            guard let known = previousByUID[message.uid] else { return false }
            return known.flags != message.flags || known.keywords != message.keywords || known.modSeq != message.modSeq
        }.map(\.uid)
        lastSync = SyncFingerprint(folder, indexPath: indexPath)
        shareSnapshot()
        return changes
    }

    @discardableResult
    public func syncKeepingExpunged() throws(MailboxError) -> MailboxChanges { try keepingExpunged() }

    /// Dovecot's MAILBOX_SYNC_FLAG_FAST, which its FETCH, STORE, SEARCH, SORT and THREAD use: within
    /// `quickSyncInterval` seconds of the last `sync()`, while new/, dovecot-uidlist and dovecot-keywords are as
    /// that sync left them, cur/ is not read again. Flag changes other Tern sessions made are taken from
    /// tern.index instead; everything else (expunges, renames by Dovecot or a MUA) waits for the next `sync()`,
    /// as in Dovecot. Twenty sessions storing flags in one mailbox otherwise read the directory at every command.
    @discardableResult
    public func quickSync() throws(MailboxError) -> MailboxChanges {
        guard let last = lastSync, Posix.now().tv_sec - lastFullSync < Self.quickSyncInterval,
            FileStamp(folder.new) == last.new, FileStamp(folder.uidlistPath) == last.uidlist,
            FileStamp(folder.keywordsPath) == last.keywords, let changed = try indexedFlagChanges()
        else { return try sync() }
        var changes = MailboxChanges()
        changes.flagsChanged = changed
        return changes
    }

    /// Dovecot's MAILBOX_FULL_SYNC_INTERVAL.
    static let quickSyncInterval = 5

    /// The messages whose flags tern.index records differently from this session's list, now updated (with the
    /// file name the renaming session gave them); nil when the index lists other messages than this session
    /// (new mail or an expunge: a full sync's job) or names a keyword this session does not know.
    private func indexedFlagChanges() throws(MailboxError) -> [UInt32]? {
        if let stamp = FileStamp(indexPath), stamp == indexStamp { return [] }
        guard let index = try cachedIndex(), index.uidValidity == uidValidity,
            index.entries.count == messages.count, index.highestModSeq >= highestModSeq
        else { return nil }
        var updates: [(position: Int, entry: MailboxIndex.Entry, fileName: String)] = []
        for (position, message) in messages.enumerated() {
            guard let entry = index.entries[message.uid] else { return nil }
            guard entry.differs(from: message) else { continue }
            var keywordIndexes: [Int] = []
            for name in entry.keywords {
                guard let keyword = keywords.index(of: name) else { return nil }
                keywordIndexes.append(keyword)
            }
            let renamed = MaildirFileName(message.fileName).with(flags: entry.flags, keywordIndexes: keywordIndexes)
            updates.append((position, entry, renamed.name))
        }
        for update in updates {
            messages[update.position].flags = update.entry.flags
            messages[update.position].keywords = update.entry.keywords
            messages[update.position].fileName = update.fileName
            messages[update.position].directory = .cur
        }
        for position in messages.indices {
            messages[position].modSeq = index.entries[messages[position].uid]?.modSeq ?? messages[position].modSeq
        }
        highestModSeq = index.highestModSeq
        return updates.map { messages[$0.position].uid }
    }

    /// Builds the info of a message seen for the first time: size and INTERNALDATE from its tern.index entry,
    /// else from a stat of the file (the size from `S=` in the name or the uidlist when present).
    private func makeInfo(
        record: UIDList.Record, file: ScannedFile, parsed: MaildirFileName, keywords: [String],
        indexed: MailboxIndex.Entry?
    ) -> MessageInfo? {
        let size: Int
        let internalDate: Int
        if let indexed {
            size = indexed.size
            internalDate = indexed.internalDate
        } else {
            let path = (file.directory == .cur ? folder.cur : folder.new) + "/" + file.name
            guard let st = Posix.fileStat(path) else { return nil }
            size = parsed.size ?? record.value("S").flatMap { Int($0) } ?? Int(st.st_size)
            internalDate = st.st_mtim.tv_sec
        }
        let vsize = parsed.virtualSize ?? record.value("W").flatMap { Int($0) } ?? pendingVirtualSizes[record.base]
        return MessageInfo(
            uid: record.uid, flags: parsed.flags, keywords: keywords, isRecent: false, size: size,
            knownVirtualSize: vsize, internalDate: internalDate, baseName: record.base,
            directory: file.directory, fileName: file.name)
    }
}
