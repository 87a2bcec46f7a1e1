import Glibc

/// Dovecot's acl plugin with the vfile backend on a Maildir: each mailbox's ACL is the `dovecot-acl` file in
/// its directory (INBOX's in the root). A mailbox that does not exist yet has its nearest parent's ACL, which
/// CREATE copies, as Dovecot does; a top-level one has none (the owner's defaults).
extension MailStore {
    static let aclFileName = "dovecot-acl"
    /// Dovecot's list of mailboxes with ACL files (for shared namespaces); removed on a change so that Dovecot
    /// rebuilds it, and its shared-mailboxes dict with it.
    static let aclListFileName = "dovecot-acl-list"

    /// The ACL of a mailbox (of its nearest existing parent when it does not exist). Maildir only: an mbox
    /// store has no ACL files.
    public func acl(_ name: String) throws(MailboxError) -> MailboxACL {
        guard mbox == nil else { return MailboxACL() }
        var name = normalize(name)
        while true {
            guard let path = try? folderPath(name) else { return MailboxACL() }
            if name == "INBOX" || Posix.isDirectory(path) {
                guard let bytes = try Posix.readFile(path + "/" + Self.aclFileName, limit: 1 << 20) else {
                    return MailboxACL()
                }
                return MailboxACL(fileText: String(decoding: bytes, as: UTF8.self))
            }
            guard let cut = name.lastIndex(of: separator) else { return MailboxACL() }
            name = String(name[..<cut])
        }
    }

    /// The rights the store's user has on their own mailbox.
    public func myRights(_ name: String, user: String, groups: [String] = []) -> ACLRights {
        guard let acl = try? acl(name) else { return [] }
        return acl.rights(of: user, isOwner: true, groups: groups)
    }

    /// Changes an existing mailbox's ACL under Dovecot's dotlock and writes the file Dovecot's way (a file
    /// left without entries is removed).
    public func updateACL(_ name: String, _ change: (inout MailboxACL) -> Void) throws(MailboxError) {
        let name = normalize(name)
        guard mbox == nil, exists(name) else { throw MailboxError.nonexistent(name) }
        let directory = try folderPath(name)
        let path = directory + "/" + Self.aclFileName
        let lock = try DotLock.acquire(
            for: path, timeout: DotLock.keywordsTimeout, staleTimeout: DotLock.keywordsStaleTimeout)
        defer { lock.release() }
        let current = try acl(name)
        var updated = current
        change(&updated)
        guard updated != current else { return }
        if updated.entries.isEmpty {
            if unlink(path) != 0 && errno != ENOENT { throw Posix.failure("unlink", path) }
        } else {
            try Posix.replaceFile(path, with: Array(updated.fileText.utf8), mode: fileMode(directory))
        }
        unlink(root + "/" + Self.aclListFileName)
    }

    /// After CREATE: the new mailbox starts with its parent's ACL file, as in Dovecot.
    public func inheritACL(_ name: String) {
        let name = normalize(name)
        guard mbox == nil, let cut = name.lastIndex(of: separator), let path = try? folderPath(name) else { return }
        guard let parent = try? acl(String(name[..<cut])), !parent.entries.isEmpty else { return }
        try? Posix.replaceFile(path + "/" + Self.aclFileName, with: Array(parent.fileText.utf8), mode: fileMode(path))
        unlink(root + "/" + Self.aclListFileName)
    }

    /// The mode Dovecot gives new files in a mailbox directory: the directory's read/write bits.
    private func fileMode(_ directory: String) -> mode_t {
        guard let info = Posix.fileStat(directory) else { return 0o600 }
        return info.st_mode & 0o666
    }
}
