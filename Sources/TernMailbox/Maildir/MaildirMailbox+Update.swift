import Glibc

extension MaildirMailbox {
    /// STORE: changes flags and keywords of the given messages by renaming their files (`:2,` letters), the way
    /// Dovecot does; a rename is atomic, so a crash leaves the old or the new name and never loses the message.
    /// Not fsynced, as with Dovecot's default mail_fsync = optimized: a power loss may undo a flag change.
    /// New keywords are added to dovecot-keywords. Messages already expunged are skipped; those whose flags
    /// really changed get new MODSEQs. Returns the messages as they are now (for the untagged FETCH replies).
    @discardableResult
    public func updateFlags(uids: [UInt32], _ change: FlagChange, flags: MessageFlags, keywords names: [String])
        throws(MailboxError) -> [MessageInfo]
    {
        if isReadOnly { throw MailboxError.readOnly }
        var keywordIndexes: [Int] = []
        if change == .remove {
            keywordIndexes = names.compactMap { keywords.index(of: $0) }
        } else if !names.isEmpty {
            keywordIndexes = try folder.keywordIndexes(for: names, known: &keywords)
        }
        var result: [UInt32] = []
        var changed: [UInt32] = []
        for uid in uids {
            guard let index = index(of: uid) else { continue }
            // The new name is computed from the file's current name, so flags that another session set
            // meanwhile (found when the rename misses the old name) are kept.
            var newFlags: MessageFlags = []
            var newKeywords = Set<Int>()
            let transform = { (current: String) -> String in
                let parsed = MaildirFileName(current)
                newFlags = parsed.flags
                newKeywords = Set(parsed.keywordIndexes)
                switch change {
                case .add:
                    newFlags.formUnion(flags)
                    newKeywords.formUnion(keywordIndexes)
                case .remove:
                    newFlags.subtract(flags)
                    newKeywords.subtract(keywordIndexes)
                case .replace:
                    newFlags = flags
                    newKeywords = Set(keywordIndexes)
                }
                return parsed.with(flags: newFlags, keywordIndexes: Array(newKeywords)).name
            }
            let target = transform(messages[index].fileName)
            if target != messages[index].fileName || messages[index].directory == .new {
                guard try renameMessage(at: index, transform) else { continue }
            }
            let newNames = newKeywords.sorted().compactMap { keywords.name(at: $0) }
            if messages[index].flags != newFlags || messages[index].keywords != newNames { changed.append(uid) }
            messages[index].flags = newFlags
            messages[index].keywords = newNames
            result.append(uid)
        }
        try recordFlagChanges(changed)
        return result.compactMap { message(uid: $0) }
    }

    /// EXPUNGE for the given UIDs: unlinks the files. Returns the UIDs removed, ascending.
    @discardableResult
    public func expunge(uids: [UInt32]) throws(MailboxError) -> [UInt32] {
        if isReadOnly { throw MailboxError.readOnly }
        var removed: [UInt32] = []
        var removedBytes = 0
        for uid in Set(uids).sorted() {
            guard let index = index(of: uid) else { continue }
            removedBytes += messages[index].size
            var path = messagePath(messages[index])
            if unlink(path) != 0 {
                guard errno == ENOENT else { throw Posix.failure("unlink", path) }
                // Renamed by someone else meanwhile: find it by its base name, or it is gone already.
                if let found = try locate(messages[index].baseName) {
                    path = (found.directory == .cur ? folder.cur : folder.new) + "/" + found.name
                    if unlink(path) != 0 && errno != ENOENT { throw Posix.failure("unlink", path) }
                }
            }
            messages.remove(at: index)
            removed.append(uid)
        }
        if !removed.isEmpty { Posix.syncDirectory(folder.cur) }
        if folder.recordsQuota {
            MaildirSizeFile.record(root: folder.root, bytes: -Int64(removedBytes), count: -Int64(removed.count))
        }
        try recordExpunges(removed)
        return removed
    }

    /// Marks messages no longer `\Recent` for this session (Dovecot keeps \Recent for the session that saw
    /// the mail first; nothing is stored on disk).
    public func clearRecent() {
        for index in messages.indices { messages[index].isRecent = false }
    }

    func messagePath(_ message: MessageInfo) -> String {
        (message.directory == .cur ? folder.cur : folder.new) + "/" + message.fileName
    }

    /// The time at the start of the file's base name, which whoever saved the file into the Maildir (MTA, LMTP,
    /// APPEND, COPY) wrote (`1700000000.M1P2.host`); the file's ctime for names without one. Unlike the
    /// ctime it stays when the flags change the name.
    public func saveDate(uid: UInt32) -> Int? {
        guard let message = message(uid: uid) else { return nil }
        if let seconds = Int(message.baseName.prefix { $0 != "." }), seconds > 0 { return seconds }
        var status = stat()
        guard stat(messagePath(message), &status) == 0 else { return nil }
        return Int(status.st_ctim.tv_sec)
    }

    /// Renames the message at `index` into cur/ under `transform(current name)`. False when the file is gone
    /// (expunged by someone else; the next sync reports it).
    func renameMessage(at index: Int, _ transform: (String) -> String) throws(MailboxError) -> Bool {
        var source = messagePath(messages[index])
        var target = transform(messages[index].fileName)
        for attempt in 0..<2 {
            if rename(source, folder.cur + "/" + target) == 0 {
                messages[index].directory = .cur
                messages[index].fileName = target
                return true
            }
            guard errno == ENOENT, attempt == 0 else { break }
            guard let found = try locate(messages[index].baseName) else { return false }
            source = (found.directory == .cur ? folder.cur : folder.new) + "/" + found.name
            target = transform(found.name)
        }
        if errno == ENOENT { return false }
        throw Posix.failure("rename", source)
    }

    /// Where a base name's file is now, by a new scan.
    func locate(_ base: String) throws(MailboxError) -> ScannedFile? {
        try scanDirectories().files[base]
    }
}
