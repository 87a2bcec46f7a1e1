import Glibc
import TernCore

/// A user's mbox mailboxes in Dovecot 2.3's fs layout (`mbox:~/mail:INBOX=/var/mail/%u`): each mailbox is a
/// file under the root, levels are directories (`Archive/2024` is `~/mail/Archive/2024`, and `Archive` a
/// `\Noselect` directory), names in modified UTF-7 on disk, INBOX at `INBOX=` (else `~/mail/inbox`),
/// subscriptions in `~/mail/.subscriptions`, and Dovecot's control files (`dovecot-uidvalidity`, its indexes,
/// dovecot-acl, Tern's `tern.index`) in `.imap` directories (`controlDirectory`). A file cannot have children
/// (`\NoInferiors`).
struct MboxStore {
    let settings: MailStoreSettings
    let root: String

    /// Listing goes no deeper than this many levels (a directory loop or a huge tree stays bounded).
    static let maximumDepth = 16

    var separator: Character { settings.separator }

    func path(_ name: String) throws(MailboxError) -> String {
        if name == "INBOX" { return settings.inboxPath.map(MailStore.trimmed) ?? root + "/inbox" }
        let levels = name.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        if levels.first == "INBOX" {
            throw MailboxError.invalidName(name, reason: "Mailbox doesn't allow inferior mailboxes")
        }
        var encoded: [String] = []
        for level in levels {
            if level.isEmpty {
                throw MailboxError.invalidName(name, reason: "Invalid mailbox name: Empty hierarchy level")
            }
            if level.hasPrefix(".") || level.hasPrefix("~") || level.contains("/") {
                throw MailboxError.invalidName(name, reason: "Character not allowed in mailbox name: '\(level.first!)'")
            }
            if level.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw MailboxError.invalidName(name, reason: "Character not allowed in mailbox name")
            }
            encoded.append(ModifiedUTF7.encode(level))
        }
        guard levels.count <= Self.maximumDepth, encoded.allSatisfy({ $0.utf8.count <= 255 }) else {
            throw MailboxError.invalidName(name, reason: "Mailbox name too long")
        }
        return root + "/" + encoded.joined(separator: "/")
    }

    /// Dovecot's control (and index) directory of a mailbox: `.imap/<name>` beside the mailbox file
    /// (`~/mail/.imap/Sent`, `~/mail/Archive/.imap/2024`; INBOX's `~/mail/.imap/INBOX` wherever INBOX= puts the
    /// file). Its dovecot-acl and Tern's `tern.index` live there, so RENAME and DELETE take them along.
    func controlDirectory(_ name: String) throws(MailboxError) -> String {
        if name == "INBOX" { return controlRoot + "/INBOX" }
        let path = try path(name)
        let parent = Posix.parent(of: path)
        return parent + "/.imap/" + path.dropFirst(parent.count + 1)
    }

    /// The root's control directory: dovecot-uidvalidity, dovecot-acl-list and the default dovecot-acl.
    var controlRoot: String { root + "/.imap" }

    func location(_ name: String) throws(MailboxError) -> MboxLocation {
        MboxLocation(
            path: try path(name), root: root, indexDirectory: try controlDirectory(name),
            privilegedGroup: settings.privilegedGroup)
    }

    func exists(_ name: String) -> Bool {
        name == "INBOX" || ((try? path(name)).map(Self.isFile) ?? false)
    }

    static func isFile(_ path: String) -> Bool {
        guard let st = Posix.fileStat(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFREG
    }

    func openMailbox(_ name: String, readOnly: Bool) throws(MailboxError) -> MboxMailbox {
        guard exists(name) else {
            if Posix.isDirectory(try path(name)) { throw MailboxError.notSelectable(name) }
            throw MailboxError.nonexistent(name)
        }
        return try MboxMailbox(name: name, location: try location(name), readOnly: readOnly)
    }

    func beginAppend(to name: String, flags: MessageFlags, keywords: [String], internalDate: Int?)
        throws(MailboxError) -> MboxAppender
    {
        guard exists(name) else { throw MailboxError.nonexistent(name) }
        return try MboxAppender(
            location: try location(name), flags: flags, keywords: keywords, internalDate: internalDate)
    }

    /// CREATE: the parents as directories, the mailbox as a file holding Dovecot's pseudo message, so its
    /// UIDVALIDITY is fixed from the start.
    func createMailbox(_ name: String) throws(MailboxError) {
        if name == "INBOX" { throw MailboxError.alreadyExists(name) }
        let path = try path(name)
        if Posix.exists(path) { throw MailboxError.alreadyExists(name) }
        let parent = Posix.parent(of: path)
        var ancestor = parent
        while ancestor.count > root.count {
            if Self.isFile(ancestor) {
                throw MailboxError.invalidName(name, reason: "Mailbox doesn't allow inferior mailboxes")
            }
            ancestor = Posix.parent(of: ancestor)
        }
        try Posix.makeDirectories(parent)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { throw MailboxError.alreadyExists(name) }
            throw Posix.failure("open", path)
        }
        close(fd)
        try MboxFile.rewrite(try location(name))
    }

    /// DELETE: a mailbox file, or an empty directory; a directory with mailboxes in it is refused, as Dovecot
    /// refuses it.
    func deleteMailbox(_ name: String) throws(MailboxError) {
        if name == "INBOX" { throw MailboxError.cannotDeleteInbox }
        let path = try path(name)
        if Self.isFile(path) {
            if unlink(path) != 0 { throw Posix.failure("unlink", path) }
        } else if Posix.isDirectory(path) {
            let entries = (Posix.directoryEntries(path) ?? []).filter { $0 != ".imap" }
            guard entries.isEmpty else { throw MailboxError.hasChildren(name) }
            try Posix.removeTree(path)
        } else {
            throw MailboxError.nonexistent(name)
        }
        try? Posix.removeTree(try location(name).indexDirectory)
        Posix.syncDirectory(Posix.parent(of: path))
    }

    /// RENAME of a file or a directory with everything in it; the control directory (dovecot-acl, Tern's index)
    /// moves along, as in Dovecot.
    func renameMailbox(_ from: String, to: String) throws(MailboxError) {
        if from == "INBOX" { throw MailboxError.invalidName(from, reason: "Renaming INBOX isn't supported.") }
        if from == to { throw MailboxError.cannotRenameToItself }
        let source = try path(from)
        let target = try path(to)
        if to == "INBOX" || Posix.exists(target) { throw MailboxError.alreadyExists(to) }
        if to.hasPrefix(from + String(separator)) {
            throw MailboxError.invalidName(to, reason: "Can't rename mailbox under itself.")
        }
        guard Posix.exists(source) else { throw MailboxError.nonexistent(from) }
        try Posix.makeDirectories(Posix.parent(of: target))
        if rename(source, target) != 0 { throw Posix.failure("rename", source) }
        let oldIndex = try location(from).indexDirectory
        let newIndex = try location(to).indexDirectory
        if Posix.isDirectory(oldIndex) {
            try? Posix.removeTree(newIndex)
            try? Posix.makeDirectories(Posix.parent(of: newIndex))
            _ = rename(oldIndex, newIndex)
        }
        Posix.syncDirectory(Posix.parent(of: target))
    }

    /// Every mailbox: files (`\NoInferiors`) and directories (`\Noselect`, with or without children), INBOX
    /// first, then by name.
    func listMailboxes(subscribed: Set<String>, specialUse: (String) -> [String]) throws(MailboxError)
        -> [MailboxListEntry]
    {
        var found: [(name: String, isDirectory: Bool, hasChildren: Bool)] = []
        if Posix.isDirectory(root) {
            try walk(root, prefix: "", depth: 1, into: &found)
        } else if errno != ENOENT {
            throw Posix.failure("opendir", root)
        }
        var entries = [
            MailboxListEntry(
                name: "INBOX",
                attributes: subscribed.contains("INBOX") ? [.hasNoChildren, .subscribed] : .hasNoChildren,
                specialUse: specialUse("INBOX"))
        ]
        for item in found.sorted(by: { $0.name < $1.name }) {
            var attributes: MailboxAttributes =
                item.isDirectory ? [.noSelect, item.hasChildren ? .hasChildren : .hasNoChildren] : .noInferiors
            if subscribed.contains(item.name) { attributes.insert(.subscribed) }
            entries.append(MailboxListEntry(name: item.name, attributes: attributes, specialUse: specialUse(item.name)))
        }
        return entries
    }

    private func walk(
        _ directory: String, prefix: String, depth: Int,
        into found: inout [(name: String, isDirectory: Bool, hasChildren: Bool)]
    ) throws(MailboxError) {
        guard depth <= Self.maximumDepth, let names = Posix.directoryEntries(directory) else { return }
        for entry in names where !entry.hasPrefix(".") {
            if prefix.isEmpty && (entry == "INBOX" || (settings.inboxPath == nil && entry == "inbox")) { continue }
            let name = prefix + (ModifiedUTF7.decode(entry) ?? entry)
            let path = directory + "/" + entry
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            let type = st.st_mode & S_IFMT
            if type == S_IFREG {
                found.append((name, false, false))
            } else if type == S_IFDIR {
                let before = found.count
                try walk(path, prefix: name + String(separator), depth: depth + 1, into: &found)
                found.append((name, true, found.count > before))
            }
        }
    }
}
