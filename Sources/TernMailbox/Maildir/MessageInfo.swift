/// One message of an open mailbox as a session sees it (RFC 3501 §2.3).
public struct MessageInfo: Sendable, Equatable {
    public let uid: UInt32
    public internal(set) var flags: MessageFlags
    /// Keyword names in dovecot-keywords order.
    public internal(set) var keywords: [String]
    /// `\Recent`: this session is the first to see the message (it moved it out of new/, or appended it).
    public internal(set) var isRecent: Bool
    /// Bytes in the file (`,S=` in the name, the uidlist `S` field, or stat).
    public let size: Int
    /// The CRLF size (RFC822.SIZE, POP3 LIST) when known without reading the file; see
    /// `MaildirMailbox.virtualSize(uid:)`.
    public internal(set) var knownVirtualSize: Int?
    /// INTERNALDATE: the file's mtime in seconds since the epoch, as Dovecot uses it.
    public let internalDate: Int
    /// The uidlist key (file name before `:2,`); stable across flag changes. Dovecot's `%f` / `%g` in UIDLs.
    public let baseName: String
    /// MODSEQ (RFC 7162 §3.1.1): raised whenever the message's flags or keywords change; from `tern.index`.
    public internal(set) var modSeq: UInt64 = 0

    /// Where the file is now: `cur` or `new`, and its name there.
    var directory: MaildirDirectory
    var fileName: String
}

enum MaildirDirectory: Sendable, Equatable {
    case cur
    case new
}

/// What changed in a mailbox since the previous `sync()`, for untagged EXPUNGE / EXISTS / FETCH replies.
public struct MailboxChanges: Sendable, Equatable {
    /// UIDs that are gone, ascending.
    public var expunged: [UInt32] = []
    /// UIDs that appeared, ascending (all above the UIDs known before).
    public var added: [UInt32] = []
    /// UIDs whose flags, keywords or MODSEQ another session or Dovecot changed.
    public var flagsChanged: [UInt32] = []
    /// Keywords that are now defined in the mailbox but were not before (a new FLAGS response).
    public var keywordsChanged = false
    /// The uidlist was recreated with another UIDVALIDITY: every UID the session knows is void, and an IMAP
    /// session has to end (Dovecot sends `* BYE`).
    public var uidValidityChanged = false

    public var isEmpty: Bool {
        expunged.isEmpty && added.isEmpty && flagsChanged.isEmpty && !keywordsChanged && !uidValidityChanged
    }

    public init() {}
}

/// Values kept in ascending UID order (messages of a mailbox, uidlist records), found by binary search.
protocol UIDOrdered {
    var uid: UInt32 { get }
}

extension MessageInfo: UIDOrdered {}
extension UIDList.Record: UIDOrdered {}

extension Array where Element: UIDOrdered {
    func index(ofUID uid: UInt32) -> Int? {
        var low = 0
        var high = count - 1
        while low <= high {
            let mid = (low + high) / 2
            if self[mid].uid == uid { return mid }
            if self[mid].uid < uid { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }
}
