import Glibc

/// The paths of one Maildir (INBOX or a Maildir++ folder) and the locked read-modify-write of its control files
/// (`dovecot-uidlist`, `dovecot-keywords`). The Maildir root is where `dovecot-uidvalidity` lives.
struct MaildirFolder: Sendable {
    let path: String
    let root: String
    /// Whether changes here go into the root's `maildirsize` (not for a quota `ignore` rule's mailbox).
    var recordsQuota = true

    var cur: String { path + "/cur" }
    var new: String { path + "/new" }
    var tmp: String { path + "/tmp" }
    var uidlistPath: String { path + "/dovecot-uidlist" }
    var keywordsPath: String { path + "/dovecot-keywords" }

    /// Creates cur/, new/ and tmp/ where missing, as Dovecot does when it opens a mailbox.
    func ensureDirectories() throws(MailboxError) {
        guard Posix.isDirectory(path) else { throw .system(operation: "opendir", path: path, errno: ENOENT) }
        for dir in [cur, new, tmp] where !Posix.isDirectory(dir) { try Posix.makeDirectory(dir) }
    }

    // MARK: dovecot-uidlist

    /// The parsed uidlist and whether it must be rewritten (missing, broken, old version).
    struct LoadedUIDList {
        var list: UIDList?
        var needsRewrite: Bool
    }

    func loadUIDList() throws(MailboxError) -> LoadedUIDList {
        guard let bytes = try Posix.readFile(uidlistPath) else { return LoadedUIDList(list: nil, needsRewrite: true) }
        guard let parsed = UIDList.parsedFiles.value(path: uidlistPath, bytes: bytes, parse: UIDList.parse) else { return LoadedUIDList(list: nil, needsRewrite: true) }
        let version3 = bytes.starts(with: Array("3 ".utf8))
        return LoadedUIDList(
            list: parsed.list, needsRewrite: parsed.damage != nil || !version3 || parsed.list.guid.isEmpty)
    }

    /// Runs `body` with the uidlist dotlock held and the current uidlist loaded (a new one with a fresh
    /// UIDVALIDITY when there is none), then writes what `body` left: appended lines when only records were
    /// added to a sound file, else the whole file through `dovecot-uidlist.tmp` and rename, as Dovecot does.
    func updateUIDList<T>(
        timeout: Int = DotLock.uidlistTimeout, _ body: (inout UIDList, inout Bool) throws(MailboxError) -> T
    ) throws(MailboxError) -> T {
        let lock = try DotLock.acquire(
            for: uidlistPath, timeout: timeout, staleTimeout: DotLock.uidlistStaleTimeout)
        defer { lock.release() }
        let loaded = try loadUIDList()
        var list =
            loaded.list
            ?? UIDList(uidValidity: UIDValidityAllocator.next(root: root), nextUID: 1, guid: UIDList.newGUID())
        var rewrite = loaded.needsRewrite
        let before = list
        let result = try body(&list, &rewrite)
        if rewrite {
            try Posix.replaceFile(uidlistPath, with: list.serialized())
        } else if list != before {
            let oldRecords = before.records
            let appendedOnly =
                list.records.count >= oldRecords.count && Array(list.records.prefix(oldRecords.count)) == oldRecords
                && list.uidValidity == before.uidValidity && list.guid == before.guid
            if appendedOnly && list.records.count > oldRecords.count {
                var bytes: [UInt8] = []
                for record in list.records[oldRecords.count...] { bytes += UIDList.line(for: record) }
                try Posix.appendToFile(uidlistPath, bytes)
            } else if !appendedOnly || list.nextUID != before.nextUID {
                try Posix.replaceFile(uidlistPath, with: list.serialized())
            }
        }
        return result
    }

    // MARK: dovecot-keywords

    func loadKeywords() throws(MailboxError) -> KeywordList {
        guard let bytes = try Posix.readFile(keywordsPath, limit: 1 << 20) else { return KeywordList() }
        return KeywordList.parse(bytes)
    }

    /// Indexes for `names`, adding the missing ones to dovecot-keywords under its dotlock.
    func keywordIndexes(for names: [String], known: inout KeywordList) throws(MailboxError) -> [Int] {
        if names.allSatisfy({ known.index(of: $0) != nil }) { return names.compactMap { known.index(of: $0) } }
        let lock = try DotLock.acquire(
            for: keywordsPath, timeout: DotLock.keywordsTimeout, staleTimeout: DotLock.keywordsStaleTimeout)
        defer { lock.release() }
        var current = try loadKeywords()
        let onDisk = current
        var indexes: [Int] = []
        for name in names {
            guard let index = current.add(name) else { throw MailboxError.tooManyKeywords }
            indexes.append(index)
        }
        if current != onDisk {
            try Posix.replaceFile(keywordsPath, with: current.serialized())
        }
        known = current
        return indexes
    }
}
