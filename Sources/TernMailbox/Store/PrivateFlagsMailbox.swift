/// Another user's mailbox opened through a shared namespace with `INDEXPVT=<dir>`: `\Seen` is the session user's
/// own, as in Dovecot, where it is the only private flag. The other flags, keywords and the messages are the
/// owner's. The private `\Seen` set lives in `PrivateFlagsFile` under the INDEXPVT directory; a message starts
/// unseen for each user, whatever the owner's `\Seen`.
public final class PrivateFlagsMailbox: Mailbox {
    /// The flags kept per user.
    static let privateFlags: MessageFlags = .seen

    let inner: any Mailbox
    let file: PrivateFlagsFile
    /// The UIDs the session user has seen, as last read from or written to `file`.
    var seen: Set<UInt32> = []
    var fileStamp: FileStamp?
    /// The UIDNEXT of that read: UIDs at or above it were not taken from the file.
    var readBelow: UInt32 = 0
    public private(set) var messages: [MessageInfo] = []

    init(_ inner: any Mailbox, file: PrivateFlagsFile) throws(MailboxError) {
        self.inner = inner
        self.file = file
        _ = try reloadSeen()
        messages = overlay(inner.messages)
    }

    public var name: String { inner.name }
    public var isReadOnly: Bool { inner.isReadOnly }
    public var uidValidity: UInt32 { inner.uidValidity }
    public var nextUID: UInt32 { inner.nextUID }
    public var guid: String { inner.guid }
    public var definedKeywords: [String] { inner.definedKeywords }
    public var highestModSeq: UInt64 { inner.highestModSeq }
    public var fullTextIndexPath: String { inner.fullTextIndexPath }
    public var cacheDirectory: String { inner.cacheDirectory }

    @discardableResult
    public func sync() throws(MailboxError) -> MailboxChanges { try refresh(inner.sync()) }

    @discardableResult
    public func syncKeepingExpunged() throws(MailboxError) -> MailboxChanges {
        try refresh(inner.syncKeepingExpunged())
    }

    @discardableResult
    public func quickSync() throws(MailboxError) -> MailboxChanges { try refresh(inner.quickSync()) }

    /// STORE: `\Seen` goes to the private file, the rest to the owner's mailbox.
    @discardableResult
    public func updateFlags(uids: [UInt32], _ change: FlagChange, flags: MessageFlags, keywords: [String])
        throws(MailboxError) -> [MessageInfo]
    {
        if isReadOnly { throw MailboxError.readOnly }
        let shared = flags.subtracting(Self.privateFlags)
        if change == .replace || !shared.isEmpty || !keywords.isEmpty {
            try inner.updateFlags(uids: uids, change, flags: shared, keywords: keywords)
        }
        if change == .replace || flags.contains(.seen) {
            _ = try reloadSeen()
            let present = uids.filter { inner.index(of: $0) != nil }
            let setSeen = change == .add || (change == .replace && flags.contains(.seen))
            let updated = setSeen ? seen.union(present) : seen.subtracting(present)
            if updated != seen {
                seen = updated
                try file.write(seen, uidValidity: uidValidity)
                fileStamp = file.stamp
            }
        }
        messages = overlay(inner.messages)
        return uids.compactMap { message(uid: $0) }
    }

    @discardableResult
    public func expunge(uids: [UInt32]) throws(MailboxError) -> [UInt32] {
        let removed = try inner.expunge(uids: uids)
        messages = overlay(inner.messages)
        return removed
    }

    public func clearRecent() {
        inner.clearRecent()
        messages = overlay(inner.messages)
    }

    public func expungedUIDs(since modSeq: UInt64) -> [UInt32]? { inner.expungedUIDs(since: modSeq) }
    public func openMessage(uid: UInt32) throws(MailboxError) -> MessageReader { try inner.openMessage(uid: uid) }
    public func saveDate(uid: UInt32) -> Int? { inner.saveDate(uid: uid) }
    public func messageGUID(uid: UInt32) -> String? { inner.messageGUID(uid: uid) }
    public func virtualSize(uid: UInt32) throws(MailboxError) -> Int { try inner.virtualSize(uid: uid) }
    public func pop3UIDL(uid: UInt32, format: String) -> String? { inner.pop3UIDL(uid: uid, format: format) }

    /// APPEND: the owner's flags; a `\Seen` given is the user's.
    public func beginAppend(flags: MessageFlags, keywords: [String], internalDate: Int?) throws(MailboxError)
        -> any MailboxAppender
    {
        let appender = try inner.beginAppend(
            flags: flags.subtracting(Self.privateFlags), keywords: keywords, internalDate: internalDate)
        if flags.contains(.seen) { (appender as? MessageAppender)?.privateSeen = file }
        return appender
    }

    /// After the owner's mailbox synced: re-reads the private file when another session of the user changed
    /// it, and adds the messages whose private `\Seen` changed to the flag changes.
    private func refresh(_ changes: MailboxChanges) throws(MailboxError) -> MailboxChanges {
        var changes = changes
        let before = seen
        if try reloadSeen() {
            let known = Set(messages.map(\.uid))
            let flipped = before.symmetricDifference(seen).filter { known.contains($0) && inner.index(of: $0) != nil }
            let reported = Set(changes.flagsChanged)
            changes.flagsChanged = (changes.flagsChanged + flipped.filter { !reported.contains($0) }).sorted()
        }
        messages = overlay(inner.messages)
        return changes
    }

    /// Reads the private file if it or UIDNEXT changed since the last read; true when it was read. A file of
    /// another UIDVALIDITY counts as empty.
    private func reloadSeen() throws(MailboxError) -> Bool {
        let stamp = file.stamp
        if stamp == fileStamp && inner.nextUID == readBelow { return false }
        fileStamp = stamp
        readBelow = inner.nextUID
        seen = try file.read(uidValidity: inner.uidValidity, nextUID: readBelow)
        return true
    }

    private func overlay(_ owners: [MessageInfo]) -> [MessageInfo] {
        owners.map { message in
            var message = message
            message.flags.subtract(Self.privateFlags)
            if seen.contains(message.uid) { message.flags.insert(.seen) }
            return message
        }
    }
}
