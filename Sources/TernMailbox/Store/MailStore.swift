import TernCore
import Glibc

/// A user's mailboxes. Maildir in Maildir++ layout as Dovecot 2.3 keeps it: INBOX in the root, every other
/// mailbox a `.Level1.Level2` directory next to it with a `maildirfolder` file, names in modified UTF-7 on disk,
/// `subscriptions` in the root; or mbox files in Dovecot's fs layout (`MboxStore`), chosen by
/// `settings.format`. Synchronous; a session calls it off the event loop.
public struct MailStore: Sendable {
    public let settings: MailStoreSettings

    public init(settings: MailStoreSettings) { self.settings = settings }

    var separator: Character { settings.separator }
    var root: String { Self.trimmed(settings.root) }
    var subscriptionsPath: String { root + (mbox == nil ? "/subscriptions" : "/.subscriptions") }
    /// The mbox side, when the location is `mbox:`.
    var mbox: MboxStore? { settings.format == .mbox ? MboxStore(settings: settings, root: root) : nil }

    // MARK: Names

    /// `INBOX` in any case is INBOX (RFC 3501 §5.1); a trailing separator is dropped (§6.3.3).
    public func normalize(_ name: String) -> String {
        var name = name
        while name.count > 1, name.last == separator { name.removeLast() }
        let levels = name.split(separator: separator, maxSplits: 1, omittingEmptySubsequences: false)
        if let first = levels.first, first.uppercased() == "INBOX" {
            return levels.count == 1 ? "INBOX" : "INBOX" + String(separator) + levels[1]
        }
        return name
    }

    /// The directory of a mailbox, or `invalidName` for names Maildir++ cannot hold.
    func folderPath(_ name: String) throws(MailboxError) -> String {
        let name = normalize(name)
        if let mbox { return try mbox.path(name) }
        if let target = sharedTarget(name) {
            guard let store = target.store else { throw MailboxError.nonexistent(name) }
            return try store.folderPath(target.name)
        }
        if name == "INBOX" { return settings.inboxPath.map(Self.trimmed) ?? root }
        if name.isEmpty { throw MailboxError.invalidName(name, reason: "Invalid mailbox name: Name is empty") }
        let levels = name.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        var encoded: [String] = []
        for level in levels {
            if level.isEmpty {
                throw MailboxError.invalidName(name, reason: "Invalid mailbox name: Empty hierarchy level")
            }
            for forbidden: Character in [".", "/", "~"] where level.contains(forbidden) && forbidden != separator {
                if forbidden == "~" && !level.hasPrefix("~") { continue }
                throw MailboxError.invalidName(name, reason: "Character not allowed in mailbox name: '\(forbidden)'")
            }
            if level.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw MailboxError.invalidName(name, reason: "Character not allowed in mailbox name")
            }
            encoded.append(ModifiedUTF7.encode(level))
        }
        let directory = "." + encoded.joined(separator: ".")
        guard directory.utf8.count <= 255 else {
            throw MailboxError.invalidName(name, reason: "Mailbox name too long")
        }
        return root + "/" + directory
    }

    /// The mailbox name of a `.A.B` directory entry, or nil for entries that are not Maildir++ folders.
    func mailboxName(directoryEntry entry: String) -> String? {
        guard entry.hasPrefix("."), entry.count > 1, !entry.hasPrefix(".."), entry != ".DOVECOT-TRASH" else {
            return nil
        }
        let levels = entry.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard !levels.contains(where: \.isEmpty) else { return nil }
        let decoded = levels.map { ModifiedUTF7.decode(String($0)) ?? String($0) }
        let name = decoded.joined(separator: String(separator))
        return normalize(name)
    }

    func folder(_ name: String) throws(MailboxError) -> MaildirFolder {
        MaildirFolder(
            path: try folderPath(name), root: sharedTarget(normalize(name))?.store?.root ?? root,
            recordsQuota: !settings.maildirSizeIgnored.contains(normalize(name)))
    }

    static func trimmed(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }

    // MARK: Mailboxes

    /// Opens a mailbox for a session (SELECT: `readOnly` false; EXAMINE, STATUS: true). INBOX is created when
    /// missing, as Dovecot does.
    public func openMailbox(_ name: String, readOnly: Bool = false) throws(MailboxError) -> any Mailbox {
        let name = normalize(name)
        if let mbox { return try mbox.openMailbox(name, readOnly: readOnly) }
        let folder = try folder(name)
        if name == "INBOX" {
            try makeMaildir(folder.path, marker: false)
        } else if !Posix.isDirectory(folder.path) {
            throw MailboxError.nonexistent(name)
        }
        let mailbox = try MaildirMailbox(name: name, folder: folder, readOnly: readOnly)
        guard let privateFlags = privateFlagsDirectory(name) else { return mailbox }
        return try PrivateFlagsMailbox(mailbox, file: PrivateFlagsFile(directory: privateFlags))
    }

    /// Makes the messages of one MULTIAPPEND (RFC 3502) visible and returns their UIDs in order. In a Maildir
    /// they are renamed into place under one uidlist lock, so all or none are kept; an mbox takes them one after
    /// another.
    public func commitAppends(_ appenders: [any MailboxAppender]) throws(MailboxError) -> [UInt32] {
        let maildir = appenders.compactMap { $0 as? MessageAppender }
        if maildir.count == appenders.count { return try MessageAppender.commitAll(maildir) }
        var uids: [UInt32] = []
        do throws(MailboxError) {
            for appender in appenders { uids.append(try appender.commit()) }
        } catch {
            for appender in appenders { appender.abort() }
            throw error
        }
        return uids
    }

    /// Starts an APPEND into a mailbox that need not be open.
    public func beginAppend(
        to name: String, flags: MessageFlags = [], keywords: [String] = [], internalDate: Int? = nil
    ) throws(MailboxError) -> any MailboxAppender {
        let name = normalize(name)
        if let mbox {
            return try mbox.beginAppend(to: name, flags: flags, keywords: keywords, internalDate: internalDate)
        }
        let folder = try folder(name)
        if name == "INBOX" { try makeMaildir(folder.path, marker: false) }
        guard Posix.isDirectory(folder.path) else { throw MailboxError.nonexistent(name) }
        try folder.ensureDirectories()
        // With INDEXPVT, \Seen is the saving user's, kept in their private flags.
        guard let privateFlags = privateFlagsDirectory(name) else {
            return try MessageAppender(folder: folder, flags: flags, keywords: keywords, internalDate: internalDate)
        }
        let appender = try MessageAppender(
            folder: folder, flags: flags.subtracting(PrivateFlagsMailbox.privateFlags), keywords: keywords,
            internalDate: internalDate)
        if flags.contains(.seen) { appender.privateSeen = PrivateFlagsFile(directory: privateFlags) }
        return appender
    }

    /// COPY from an open mailbox into another mailbox by name. Returns (source UID, new UID) pairs for
    /// COPYUID (RFC 4315); expunged sources are left out.
    public func copy(uids: [UInt32], from source: any Mailbox, to name: String) throws(MailboxError)
        -> [(UInt32, UInt32)]
    {
        let name = normalize(name)
        guard let source = source as? MaildirMailbox, privateFlagsDirectory(name) == nil else {
            return try copyByStreaming(uids: uids, from: source, to: name)
        }
        let target = try folder(name)
        if name == "INBOX" { try makeMaildir(target.path, marker: false) }
        guard Posix.isDirectory(target.path) else { throw MailboxError.nonexistent(name) }
        return try source.copy(uids: uids, into: target)
    }

    /// COPY message by message through `openMessage` and an APPEND with the same flags, keywords and
    /// INTERNALDATE (`\Recent` is not copied).
    func copyByStreaming(uids: [UInt32], from source: any Mailbox, to name: String) throws(MailboxError)
        -> [(UInt32, UInt32)]
    {
        guard exists(name) else { throw MailboxError.nonexistent(name) }
        var pairs: [(UInt32, UInt32)] = []
        for uid in uids {
            guard let message = source.message(uid: uid) else { continue }
            var reader: MessageReader
            do {
                reader = try source.openMessage(uid: uid)
            } catch .noSuchMessage {
                continue
            }
            let appender = try beginAppend(
                to: name, flags: message.flags, keywords: message.keywords, internalDate: message.internalDate)
            while true {
                let chunk = try reader.read(upTo: 65536)
                if chunk.isEmpty { break }
                try appender.write(chunk)
            }
            pairs.append((uid, try appender.commit()))
        }
        return pairs
    }

    public func exists(_ name: String) -> Bool {
        if let mbox { return mbox.exists(normalize(name)) }
        guard let path = try? folderPath(name) else { return false }
        return normalize(name) == "INBOX" || Posix.isDirectory(path)
    }

    /// CREATE. In Maildir++ a parent needs no directory of its own (it lists as `\Noselect`), so only the
    /// mailbox itself is made, as Dovecot does: `.A.B` with cur/, new/, tmp/ and an empty `maildirfolder`.
    public func createMailbox(_ name: String) throws(MailboxError) {
        let name = normalize(name)
        if let mbox { return try mbox.createMailbox(name) }
        let path = try folderPath(name)
        if name == "INBOX" || Posix.isDirectory(path) { throw MailboxError.alreadyExists(name) }
        try makeMaildir(path, marker: true)
    }

    /// Makes a Maildir with its subdirectories; `marker` adds Maildir++'s `maildirfolder` file.
    /// The parent is fsynced only when something was made: INBOX goes through here at every open.
    func makeMaildir(_ path: String, marker: Bool) throws(MailboxError) {
        var made = try Posix.makeDirectory(root)
        if path != root { made = try Posix.makeDirectory(path) || made }
        for sub in ["cur", "new", "tmp"] { made = try Posix.makeDirectory(path + "/" + sub) || made }
        if marker {
            let fd = open(path + "/maildirfolder", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if fd < 0 { throw Posix.failure("open", path + "/maildirfolder") }
            close(fd)
        }
        if made { Posix.syncDirectory(Posix.parent(of: path)) }
    }

    /// DELETE: removes the mailbox directory with its messages. Children are separate directories in
    /// Maildir++ and stay; the deleted name then lists as `\Noselect` while it has children.
    public func deleteMailbox(_ name: String) throws(MailboxError) {
        let name = normalize(name)
        if let mbox { return try mbox.deleteMailbox(name) }
        if name == "INBOX" { throw MailboxError.cannotDeleteInbox }
        if let target = sharedTarget(name) {
            guard let store = target.store else { throw MailboxError.nonexistent(name) }
            return try store.deleteMailbox(target.name)
        }
        let path = try folderPath(name)
        guard Posix.isDirectory(path) else { throw MailboxError.nonexistent(name) }
        // Move it out of the listing first (one rename), then remove the files.
        let trash = root + "/.DOVECOT-TRASH"
        try? Posix.removeTree(trash)
        if rename(path, trash) != 0 { throw Posix.failure("rename", path) }
        Posix.syncDirectory(root)
        try Posix.removeTree(trash)
    }

    /// RENAME with children (`A` and every `A/...`), and their subscriptions. Renaming INBOX is refused as
    /// Dovecot's Maildir++ layout refuses it.
    public func renameMailbox(_ from: String, to: String) throws(MailboxError) {
        let from = normalize(from)
        let to = normalize(to)
        if let mbox {
            try mbox.renameMailbox(from, to: to)
            let children = try subscriptions().filter { $0.hasPrefix(from + String(separator)) }
            try renameSubscriptions(from, to: to, [from] + children)
            return
        }
        if from == "INBOX" { throw MailboxError.invalidName(from, reason: "Renaming INBOX isn't supported.") }
        if let source = sharedTarget(from) {
            // Within one owner's mailboxes only, as between namespaces Dovecot refuses it too.
            guard let store = source.store, let target = sharedTarget(to), target.owner == source.owner else {
                throw MailboxError.nonexistent(from)
            }
            return try store.renameMailbox(source.name, to: target.name)
        }
        if sharedTarget(to) != nil { throw MailboxError.nonexistent(to) }
        if from == to { throw MailboxError.cannotRenameToItself }
        let source = try folderPath(from)
        let target = try folderPath(to)
        if to == "INBOX" || Posix.isDirectory(target) { throw MailboxError.alreadyExists(to) }
        let prefix = from + String(separator)
        if to.hasPrefix(prefix) { throw MailboxError.invalidName(to, reason: "Can't rename mailbox under itself.") }
        let children = try allMailboxNames().filter { $0.hasPrefix(prefix) }
        guard Posix.isDirectory(source) || !children.isEmpty else { throw MailboxError.nonexistent(from) }
        let moves = ([from] + children).map { name in (name, to + name.dropFirst(from.count)) }
        for (_, newName) in moves.dropFirst() where Posix.isDirectory(try folderPath(newName)) {
            throw MailboxError.alreadyExists(newName)
        }
        for (oldName, newName) in moves {
            let oldPath = try folderPath(oldName)
            guard Posix.isDirectory(oldPath) else { continue }
            if rename(oldPath, try folderPath(newName)) != 0 { throw Posix.failure("rename", oldPath) }
        }
        Posix.syncDirectory(root)
        try renameSubscriptions(from, to: to, moves.map(\.0))
    }

    /// After RENAME: the subscriptions of the renamed mailboxes follow them.
    private func renameSubscriptions(_ from: String, to: String, _ names: [String]) throws(MailboxError) {
        let renamed = Set(names)
        try updateSubscriptions { subscribed in
            subscribed = subscribed.map { name in renamed.contains(name) ? to + name.dropFirst(from.count) : name }
        }
    }

    /// Names of every mailbox directory (INBOX first, then sorted).
    func allMailboxNames() throws(MailboxError) -> [String] {
        guard let entries = Posix.directoryEntries(root) else {
            if errno == ENOENT { return ["INBOX"] }
            throw Posix.failure("opendir", root)
        }
        var names: [String] = []
        for entry in entries {
            guard let name = mailboxName(directoryEntry: entry), name != "INBOX",
                Posix.isDirectory(root + "/" + entry)
            else { continue }
            names.append(name)
        }
        return ["INBOX"] + names.sorted()
    }
}
