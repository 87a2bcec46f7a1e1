/// What went wrong in the mail store. The descriptions are Dovecot 2.3's texts, so an IMAP session can put them
/// after `NO` (with `imapResponseCode` in brackets) and a POP3 session after `-ERR`.
public enum MailboxError: Error, Sendable, Equatable, CustomStringConvertible {
    case nonexistent(String)
    case alreadyExists(String)
    /// A name the store cannot map to a directory (Dovecot: `Character not allowed in mailbox name: '.'`).
    case invalidName(String, reason: String)
    case cannotDeleteInbox
    /// DELETE of an mbox directory that still holds mailboxes.
    case hasChildren(String)
    /// SELECT of an mbox directory (`\Noselect`).
    case notSelectable(String)
    case cannotRenameToItself
    case readOnly
    /// The UID is not (or no longer) in the mailbox.
    case noSuchMessage(UInt32)
    /// A mailbox holds at most 26 keywords in file names (`a`..`z`, dovecot-keywords).
    case tooManyKeywords
    /// The dotlock was held by a live process for longer than Dovecot's timeout.
    case lockTimeout(path: String)
    /// A system call failed: the operation, the path and errno.
    case system(operation: String, path: String, errno: Int32)
    /// An mbox file that does not start with a `From ` line (Dovecot: `Mailbox isn't a valid mbox file`).
    case invalidMbox(reason: String)
    /// Saving would take the user over quota (quota_exceeded_message).
    case overQuota(String)

    public var description: String {
        switch self {
        case .nonexistent(let name): "Mailbox doesn't exist: \(name)"
        case .alreadyExists: "Mailbox already exists"
        case .invalidName(_, let reason): reason
        case .cannotDeleteInbox: "INBOX can't be deleted."
        case .hasChildren: "Mailbox has children, delete them first"
        case .notSelectable: "Mailbox isn't selectable"
        case .cannotRenameToItself: "Can't rename mailbox to itself."
        case .readOnly: "Mailbox is read-only."
        case .noSuchMessage: "Message was expunged"
        case .tooManyKeywords: "Too many keywords in mailbox"
        case .lockTimeout: "Timeout while waiting for lock"
        case .system, .invalidMbox: "Internal error occurred. Refer to server log for more information."
        case .overQuota(let message): message
        }
    }

    /// The RFC 5530 response code Dovecot sends with this error, if any.
    public var imapResponseCode: String? {
        switch self {
        case .nonexistent: "NONEXISTENT"
        case .alreadyExists: "ALREADYEXISTS"
        case .cannotDeleteInbox, .readOnly, .tooManyKeywords, .hasChildren, .notSelectable: nil
        case .cannotRenameToItself, .invalidName: "CANNOT"
        case .noSuchMessage: "EXPUNGEISSUED"
        case .lockTimeout: "INUSE"
        case .system, .invalidMbox: "SERVERBUG"
        case .overQuota: "OVERQUOTA"
        }
    }

    /// The text for the log, with the path and system error that the client does not see.
    public var logDescription: String {
        switch self {
        case .system(let operation, let path, let code): "\(operation)(\(path)) failed: \(Posix.errorText(code))"
        case .lockTimeout(let path): "Timeout while waiting for lock \(path)"
        case .invalidMbox(let reason): "Mailbox isn't a valid mbox file: \(reason)"
        default: description
        }
    }
}
