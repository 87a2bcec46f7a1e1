import Glibc

/// Dovecot's acl plugin with the vfile backend: each mailbox's ACL is the `dovecot-acl` file in its Maildir
/// directory (INBOX's in the root), or for mbox in its control directory (`~/mail/.imap/INBOX`,
/// `~/mail/Archive/.imap/2024`); a name without a mailbox has none (the owner's defaults). CREATE takes the
/// create right from the nearest existing parent's ACL on Maildir, which it copies, as Dovecot does (a
/// top-level one has none); on mbox from the root's default ACL (`~/mail/.imap/dovecot-acl`: Dovecot's parent
/// lookup never stops at an mbox directory), which a nested new mailbox copies.
extension MailStore {
    static let aclFileName = "dovecot-acl"
    /// Dovecot's list of mailboxes with ACL files (for shared namespaces); removed on a change so that Dovecot
    /// rebuilds it, and its shared-mailboxes dict with it.
    static let aclListFileName = "dovecot-acl-list"

    /// The ACL of a mailbox, with the global ACL of `acl = vfile:PATH` after it: PATH a directory of files
    /// named after mailboxes (`PATH/INBOX`, `PATH/Lists/Tern`), or one file of `mailbox-pattern identifier
    /// rights` lines. `creating`: the ACL that CREATE and RENAME's target take the create right from.
    public func acl(_ name: String, global: String? = nil, creating: Bool = false) throws(MailboxError)
        -> MailboxACL
    {
        if let target = sharedTarget(normalize(name)) {
            return try target.store?.acl(target.name, global: global, creating: creating) ?? MailboxACL()
        }
        var acl = try localACL(name, creating: creating)
        if let global { acl.add(fileText: try globalACLText(normalize(name), global), global: true) }
        return acl
    }

    private func globalACLText(_ name: String, _ path: String) throws(MailboxError) -> String {
        if Posix.isDirectory(path) {
            let file = path + "/" + name.split(separator: separator).joined(separator: "/")
            return try Posix.readFile(file, limit: 1 << 20).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        guard let bytes = try Posix.readFile(path, limit: 1 << 20) else { return "" }
        var text = ""
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1)
            guard fields.count == 2, !line.hasPrefix("#"),
                ListPatternMatcher.matches(Array(name.utf8), Array(fields[0].utf8))
            else { continue }
            text += fields[1] + "\n"
        }
        return text
    }

    private func localACL(_ name: String, creating: Bool = false) throws(MailboxError) -> MailboxACL {
        if let mbox {
            guard let directory = creating ? mbox.controlRoot : try? mbox.controlDirectory(normalize(name)) else {
                return MailboxACL()
            }
            return try Self.readACL(directory)
        }
        var name = normalize(name)
        while true {
            guard let path = try? folderPath(name) else { return MailboxACL() }
            if name == "INBOX" || Posix.isDirectory(path) { return try Self.readACL(path) }
            guard creating, let cut = name.lastIndex(of: separator) else { return MailboxACL() }
            name = String(name[..<cut])
        }
    }

    /// The dovecot-acl file in `directory`; none is an empty ACL.
    private static func readACL(_ directory: String) throws(MailboxError) -> MailboxACL {
        guard let bytes = try Posix.readFile(directory + "/" + aclFileName, limit: 1 << 20) else { return MailboxACL() }
        return MailboxACL(fileText: String(decoding: bytes, as: UTF8.self))
    }

    /// The directory holding a mailbox's dovecot-acl.
    private func aclDirectory(_ name: String) throws(MailboxError) -> String {
        if let mbox { return try mbox.controlDirectory(name) }
        return try folderPath(name)
    }

    /// Dovecot's dovecot-acl-list, in the root's control directory.
    private var aclListPath: String { (mbox?.controlRoot ?? root) + "/" + Self.aclListFileName }

    /// The rights the store's user has on their own mailbox, or on another user's in the shared namespace
    /// (none when that user is unknown).
    public func myRights(
        _ name: String, user: String, groups: [String] = [], global: String? = nil, creating: Bool = false
    ) -> ACLRights {
        let target = sharedTarget(normalize(name))
        guard target == nil || target?.store != nil, let acl = try? acl(name, global: global, creating: creating)
        else { return [] }
        return acl.rights(of: user, isOwner: target == nil, groups: groups)
    }

    /// Changes an existing mailbox's ACL under Dovecot's dotlock and writes the file Dovecot's way (a file
    /// left without entries is removed).
    public func updateACL(_ name: String, _ change: (inout MailboxACL) -> Void) throws(MailboxError) {
        let name = normalize(name)
        if let target = sharedTarget(name) {
            guard let store = target.store else { throw MailboxError.nonexistent(name) }
            return try store.updateACL(target.name, change)
        }
        guard exists(name) else { throw MailboxError.nonexistent(name) }
        let directory = try aclDirectory(name)
        // An mbox control directory may not be there yet.
        try Posix.makeDirectories(directory)
        let path = directory + "/" + Self.aclFileName
        let lock = try DotLock.acquire(
            for: path, timeout: DotLock.keywordsTimeout, staleTimeout: DotLock.keywordsStaleTimeout)
        defer { lock.release() }
        let current = try localACL(name)
        var updated = current
        change(&updated)
        guard updated != current else { return }
        if updated.entries.isEmpty {
            if unlink(path) != 0 && errno != ENOENT { throw Posix.failure("unlink", path) }
        } else {
            try Posix.replaceFile(path, with: Array(updated.fileText.utf8), mode: fileMode(directory))
        }
        unlink(aclListPath)
    }

    /// After CREATE: the new mailbox starts with its parent's ACL file (on mbox the root's default, for a
    /// nested name only), as in Dovecot.
    public func inheritACL(_ name: String) {
        let name = normalize(name)
        if let target = sharedTarget(name) { return target.store?.inheritACL(target.name) ?? () }
        guard let cut = name.lastIndex(of: separator), let path = try? aclDirectory(name),
            let parent = try? localACL(String(name[..<cut]), creating: true), !parent.entries.isEmpty
        else { return }
        try? Posix.makeDirectories(path)
        try? Posix.replaceFile(path + "/" + Self.aclFileName, with: Array(parent.fileText.utf8), mode: fileMode(path))
        unlink(aclListPath)
    }

    /// The mode Dovecot gives new files in a mailbox directory: the directory's read/write bits.
    private func fileMode(_ directory: String) -> mode_t {
        guard let info = Posix.fileStat(directory) else { return 0o600 }
        return info.st_mode & 0o666
    }
}

/// `*` and `?` patterns of a global ACL file, as Dovecot's wildcard_match.
enum ListPatternMatcher {
    static func matches(_ name: [UInt8], _ pattern: [UInt8]) -> Bool {
        var n = 0
        var p = 0
        var star: Int?
        var resume = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == name[n] {
                n += 1
                p += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = n
                p += 1
            } else if let s = star {
                p = s + 1
                resume += 1
                n = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
