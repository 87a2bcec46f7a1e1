/// An open mailbox as a session uses it, whatever the format on disk (Maildir or mbox): the message list kept
/// in step with the files by `sync()`, flag changes, expunges, reading and appending. One session owns an open
/// mailbox and calls it off the event loop; it is not thread-safe.
public protocol Mailbox: AnyObject {
    /// The mailbox name as the store knows it (`INBOX`, `Drafts/Sub`).
    var name: String { get }
    /// EXAMINE / STATUS / POP3 without deletes: nothing on disk is changed.
    var isReadOnly: Bool { get }
    var uidValidity: UInt32 { get }
    /// UIDNEXT.
    var nextUID: UInt32 { get }
    /// The mailbox GUID (32 hex digits).
    var guid: String { get }
    /// The messages in UID order; the index + 1 is the IMAP sequence number.
    var messages: [MessageInfo] { get }
    /// All keywords defined in the mailbox (FLAGS / PERMANENTFLAGS).
    var definedKeywords: [String] { get }
    /// HIGHESTMODSEQ (RFC 7162 §3.1.2.1).
    var highestModSeq: UInt64 { get }
    /// Where the mailbox's full-text index is (FullTextIndex).
    var fullTextIndexPath: String { get }
    /// Where Tern keeps its caches of the mailbox (`cacheFile`).
    var cacheDirectory: String { get }

    /// Brings the message list up to date with the disk and reports what changed since the last call.
    @discardableResult
    func sync() throws(MailboxError) -> MailboxChanges
    /// Dovecot's MAILBOX_SYNC_FLAG_NO_EXPUNGES (NOTIFY's `selected-delayed` between commands): like `sync()`,
    /// but messages expunged on disk stay listed, so sequence numbers hold; the next `sync()` reports them.
    @discardableResult
    func syncKeepingExpunged() throws(MailboxError) -> MailboxChanges
    /// The cheaper sync Dovecot does after FETCH, STORE, SEARCH, SORT and THREAD (MAILBOX_SYNC_FLAG_FAST): may
    /// leave changes for the next `sync()`.
    @discardableResult
    func quickSync() throws(MailboxError) -> MailboxChanges
    /// STORE; returns the messages as they are now.
    @discardableResult
    func updateFlags(uids: [UInt32], _ change: FlagChange, flags: MessageFlags, keywords: [String])
        throws(MailboxError) -> [MessageInfo]
    /// EXPUNGE of the given UIDs; returns those removed, ascending.
    @discardableResult
    func expunge(uids: [UInt32]) throws(MailboxError) -> [UInt32]
    /// Marks every message no longer `\Recent` for this session.
    func clearRecent()
    /// QRESYNC (RFC 7162 §3.2.5, §3.2.6): the UIDs expunged after `modSeq` that this mailbox no longer lists,
    /// ascending; nil when `tern.index` does not remember that far back.
    func expungedUIDs(since modSeq: UInt64) -> [UInt32]?
    /// Opens a message for reading.
    func openMessage(uid: UInt32) throws(MailboxError) -> MessageReader
    /// SAVEDATE (RFC 8514): when the message was saved into this mailbox, in seconds since the epoch; nil
    /// where the format does not record it.
    func saveDate(uid: UInt32) -> Int?
    /// The message's GUID as Dovecot knows it: a Maildir message's `G` uidlist field, else its file base name
    /// (a COPY keeps the source's in `G`); nil for a message not there. It names the content, so OBJECTID's
    /// EMAILID (RFC 8474 §5.1) is made from it.
    func messageGUID(uid: UInt32) -> String?
    /// RFC822.SIZE / POP3 size: the message size with bare LFs counted as CRLF.
    func virtualSize(uid: UInt32) throws(MailboxError) -> Int
    /// The POP3 UIDL of a message (`pop3_uidl_format`).
    func pop3UIDL(uid: UInt32, format: String) -> String?
    /// Starts an APPEND into this mailbox; the message shows up at the next `sync()`.
    func beginAppend(flags: MessageFlags, keywords: [String], internalDate: Int?) throws(MailboxError)
        -> any MailboxAppender
}

/// APPEND in progress, streamed: `write` the pieces, then `commit` (returns the UID) or `abort`.
public protocol MailboxAppender: AnyObject {
    func write(_ bytes: [UInt8]) throws(MailboxError)
    /// The bytes written so far.
    var size: Int { get }
    /// Makes the message durable and visible; returns its UID (APPENDUID, RFC 4315).
    func commit() throws(MailboxError) -> UInt32
    /// Drops the message.
    func abort()
}

extension Mailbox {
    /// The message with this UID, if present.
    public func message(uid: UInt32) -> MessageInfo? {
        index(of: uid).map { messages[$0] }
    }

    /// The index (sequence number - 1) of a UID.
    public func index(of uid: UInt32) -> Int? { messages.index(ofUID: uid) }

    public var recentCount: Int { messages.reduce(0) { $0 + ($1.isRecent ? 1 : 0) } }

    /// The first unseen message's sequence number (`OK [UNSEEN n]`).
    public var firstUnseenSequence: Int? { messages.firstIndex { !$0.flags.contains(.seen) }.map { $0 + 1 } }

    /// EXPUNGE / CLOSE / POP3 QUIT: removes every message with `\Deleted`.
    @discardableResult
    public func expungeDeleted() throws(MailboxError) -> [UInt32] {
        try expunge(uids: messages.filter { $0.flags.contains(.deleted) }.map(\.uid))
    }

    @discardableResult
    public func updateFlags(uids: [UInt32], _ change: FlagChange, flags: MessageFlags) throws(MailboxError)
        -> [MessageInfo]
    {
        try updateFlags(uids: uids, change, flags: flags, keywords: [])
    }

    public func pop3UIDL(uid: UInt32) -> String? { pop3UIDL(uid: uid, format: POP3UIDLFormat.dovecotDefault) }

    public func beginAppend() throws(MailboxError) -> any MailboxAppender {
        try beginAppend(flags: [], keywords: [], internalDate: nil)
    }
}
