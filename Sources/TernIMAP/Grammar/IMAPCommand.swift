/// A complete client command with its tag (RFC 3501 §2.2.1). APPEND is not among them: its message is
/// streamed, see `IMAPCommandParser.Event.appendStart`.
public struct TaggedCommand: Sendable, Hashable {
    public var tag: String
    public var command: IMAPCommand

    public init(tag: String, command: IMAPCommand) {
        self.tag = tag
        self.command = command
    }
}

/// The commands of RFC 3501 §6 and the extensions Dovecot advertises that Tern implements.
public enum IMAPCommand: Sendable, Hashable {
    // Any state (RFC 3501 §6.1).
    case capability
    case noop
    case logout
    // Not authenticated (§6.2).
    case startTLS
    /// The initial response (RFC 4959 SASL-IR) as sent: base64 text, or `=` for an empty one.
    case authenticate(mechanism: String, initialResponse: String?)
    case login(username: String, password: String)
    // Authenticated (§6.3).
    /// `condstore`: the RFC 7162 §3.1.8 `(CONDSTORE)` parameter was given; `qresync`: the §3.2.5
    /// `(QRESYNC (...))` parameter.
    case select(MailboxName, condstore: Bool = false, qresync: QResyncParameters? = nil)
    case examine(MailboxName, condstore: Bool = false, qresync: QResyncParameters? = nil)
    case create(MailboxName)
    case delete(MailboxName)
    case rename(from: MailboxName, to: MailboxName)
    case subscribe(MailboxName)
    case unsubscribe(MailboxName)
    case list(ListCommand)
    /// LSUB reference pattern: the pattern keeps its wildcards (`%`, `*`).
    case lsub(reference: MailboxName, pattern: MailboxName)
    case status(MailboxName, [StatusAttribute])
    // Selected (§6.4).
    case check
    case close
    case expunge
    case search(SearchCommand, uid: Bool)
    /// `changedSince`: the RFC 7162 §3.1.4 CHANGEDSINCE modifier; `vanished`: the §3.2.6 VANISHED modifier.
    case fetch(SequenceSet, [FetchAttribute], uid: Bool, changedSince: UInt64? = nil, vanished: Bool = false)
    /// `unchangedSince`: the RFC 7162 §3.1.3 UNCHANGEDSINCE modifier.
    case store(SequenceSet, StoreFlags, uid: Bool, unchangedSince: UInt64? = nil)
    case copy(SequenceSet, MailboxName, uid: Bool)
    // Extensions.
    /// RFC 6851 MOVE / UID MOVE.
    case move(SequenceSet, MailboxName, uid: Bool)
    /// RFC 4315 UID EXPUNGE.
    case uidExpunge(SequenceSet)
    /// RFC 2971 ID: nil for `ID NIL`; values may be NIL.
    case id([IDParameter]?)
    /// RFC 5161 ENABLE, capability names as sent.
    case enable([String])
    /// RFC 2177 IDLE: the session sends `+ idling` and then asks the parser for the DONE line.
    case idle
    /// RFC 3691 UNSELECT.
    case unselect
    /// RFC 2342 NAMESPACE.
    case namespace
    /// RFC 4978 COMPRESS, with the mechanism as sent (upper case).
    case compress(mechanism: String)
    /// RFC 5464 SETMETADATA.
    case setMetadata(MailboxName, [MetadataValue])
    /// RFC 5464 GETMETADATA.
    case getMetadata(MailboxName, [String], MetadataOptions)
    /// RFC 9208 GETQUOTAROOT.
    case getQuotaRoot(MailboxName)
    /// RFC 9208 GETQUOTA, with the quota root's name.
    case getQuota(String)
    /// RFC 9208 SETQUOTA: only checked for its shape (Dovecot lets no user change a quota).
    case setQuota(String)
    /// RFC 5256 SORT / UID SORT (RFC 5267 ESORT's RETURN).
    case sort(SortCommand, uid: Bool)
    /// RFC 5256 THREAD / UID THREAD.
    case thread(ThreadCommand, uid: Bool)
    /// RFC 5267 §4.3 CANCELUPDATE: the tags of SEARCH RETURN (UPDATE) commands.
    case cancelUpdate([String])
    /// RFC 4314 §3.1 SETACL: identifier and rights as sent (`-id` negative, `+r` / `-r` to add or remove).
    case setACL(MailboxName, identifier: String, rights: String)
    /// RFC 4314 §3.2 DELETEACL.
    case deleteACL(MailboxName, identifier: String)
    /// RFC 4314 §3.3 GETACL.
    case getACL(MailboxName)
    /// RFC 4314 §3.4 LISTRIGHTS.
    case listRights(MailboxName, identifier: String)
    /// RFC 4314 §3.5 MYRIGHTS.
    case myRights(MailboxName)
    /// RFC 5465 NOTIFY SET, or NOTIFY NONE (nil).
    case notify(NotifySet?)

    /// The command name as Dovecot names it in `Error in IMAP command NAME: ...`.
    public var name: String {
        switch self {
        case .capability: return "CAPABILITY"
        case .noop: return "NOOP"
        case .logout: return "LOGOUT"
        case .startTLS: return "STARTTLS"
        case .authenticate: return "AUTHENTICATE"
        case .login: return "LOGIN"
        case .select: return "SELECT"
        case .examine: return "EXAMINE"
        case .create: return "CREATE"
        case .delete: return "DELETE"
        case .rename: return "RENAME"
        case .subscribe: return "SUBSCRIBE"
        case .unsubscribe: return "UNSUBSCRIBE"
        case .list: return "LIST"
        case .lsub: return "LSUB"
        case .status: return "STATUS"
        case .check: return "CHECK"
        case .close: return "CLOSE"
        case .expunge: return "EXPUNGE"
        case .search(_, let uid): return uid ? "UID SEARCH" : "SEARCH"
        case .fetch(_, _, let uid, _, _): return uid ? "UID FETCH" : "FETCH"
        case .store(_, _, let uid, _): return uid ? "UID STORE" : "STORE"
        case .copy(_, _, let uid): return uid ? "UID COPY" : "COPY"
        case .move(_, _, let uid): return uid ? "UID MOVE" : "MOVE"
        case .uidExpunge: return "UID EXPUNGE"
        case .id: return "ID"
        case .enable: return "ENABLE"
        case .idle: return "IDLE"
        case .unselect: return "UNSELECT"
        case .namespace: return "NAMESPACE"
        case .compress: return "COMPRESS"
        case .setMetadata: return "SETMETADATA"
        case .getMetadata: return "GETMETADATA"
        case .getQuotaRoot: return "GETQUOTAROOT"
        case .getQuota: return "GETQUOTA"
        case .setQuota: return "SETQUOTA"
        case .sort(_, let uid): return uid ? "UID SORT" : "SORT"
        case .thread(_, let uid): return uid ? "UID THREAD" : "THREAD"
        case .cancelUpdate: return "CANCELUPDATE"
        case .setACL: return "SETACL"
        case .deleteACL: return "DELETEACL"
        case .getACL: return "GETACL"
        case .listRights: return "LISTRIGHTS"
        case .myRights: return "MYRIGHTS"
        case .notify: return "NOTIFY"
        }
    }

    /// The commands after which Dovecot syncs the mailbox with MAILBOX_SYNC_FLAG_FAST (Mailbox.quickSync).
    public var syncsQuickly: Bool {
        switch self {
        case .fetch, .store, .search, .sort, .thread: return true
        default: return false
        }
    }
}

/// SELECT / EXAMINE's `(QRESYNC (uidvalidity modseq [known-uids [(seq-set uid-set)]]))` (RFC 7162 §3.2.5):
/// what the client last knew of the mailbox.
public struct QResyncParameters: Sendable, Hashable {
    public var uidValidity: UInt32
    public var modSeq: UInt64
    /// The UIDs the client knows; nil for all of them.
    public var knownUIDs: SequenceSet?
    /// `seq-match-data`: message numbers and the UIDs the client has for them, paired in order; nil also when
    /// the client sent more than `maxMatchPairs` pairs.
    public var sequenceMatch: SequenceMatch?

    public static let maxMatchPairs: UInt64 = 1 << 16

    public struct SequenceMatch: Sendable, Hashable {
        public var sequences: [UInt32]
        public var uids: [UInt32]

        public init(sequences: [UInt32], uids: [UInt32]) {
            self.sequences = sequences
            self.uids = uids
        }
    }

    public init(
        uidValidity: UInt32, modSeq: UInt64, knownUIDs: SequenceSet? = nil,
        sequenceMatch: SequenceMatch? = nil
    ) {
        self.uidValidity = uidValidity
        self.modSeq = modSeq
        self.knownUIDs = knownUIDs
        self.sequenceMatch = sequenceMatch
    }
}

/// One field of an ID command or response (RFC 2971 §3.3).
public struct IDParameter: Sendable, Hashable {
    public var key: String
    public var value: String?

    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

/// STATUS data items (RFC 3501 §6.3.10; SIZE from RFC 8438, which Dovecot advertises as STATUS=SIZE), in the
/// order Dovecot answers them.
public enum StatusAttribute: String, Sendable, Hashable, CaseIterable {
    case messages = "MESSAGES"
    case recent = "RECENT"
    case uidNext = "UIDNEXT"
    case uidValidity = "UIDVALIDITY"
    case unseen = "UNSEEN"
    /// RFC 7162 §3.1.10.
    case highestModSeq = "HIGHESTMODSEQ"
    case size = "SIZE"
    /// RFC 9051 §6.3.11: the number of messages with \Deleted (IMAP4rev2; Dovecot 2.3 does not know it).
    case deleted = "DELETED"
    /// RFC 8474 §4.
    case mailboxID = "MAILBOXID"
}

/// LIST in its extended form (RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE, RFC 5819 LIST-STATUS).
public struct ListCommand: Sendable, Hashable {
    public enum SelectionOption: String, Sendable, Hashable, CaseIterable {
        case subscribed = "SUBSCRIBED"
        case remote = "REMOTE"
        case recursiveMatch = "RECURSIVEMATCH"
        case specialUse = "SPECIAL-USE"
    }

    public enum ReturnOption: Sendable, Hashable {
        case subscribed
        case children
        case specialUse
        case status([StatusAttribute])
    }

    public var selectionOptions: [SelectionOption]
    public var reference: MailboxName
    /// One pattern for the basic form, several for `LIST "" (a b)`.
    public var patterns: [MailboxName]
    public var returnOptions: [ReturnOption]

    public init(
        selectionOptions: [SelectionOption] = [], reference: MailboxName, patterns: [MailboxName],
        returnOptions: [ReturnOption] = []
    ) {
        self.selectionOptions = selectionOptions
        self.reference = reference
        self.patterns = patterns
        self.returnOptions = returnOptions
    }

    /// Whether this is RFC 3501's LIST (no options, one pattern): Dovecot then answers `\HasNoChildren` etc.
    /// all the same, but an extended LIST with an empty pattern behaves differently (RFC 5258 §3).
    public var isExtended: Bool {
        !selectionOptions.isEmpty || !returnOptions.isEmpty || patterns.count != 1
    }
}

/// The first line of APPEND (RFC 3501 §6.3.11; MULTIAPPEND, RFC 3502, repeats flags/date/literal).
public struct AppendMessage: Sendable, Hashable {
    public var tag: String
    public var mailbox: MailboxName
    public var flags: [Flag]
    public var internalDate: IMAPDateTime?
    /// The literal's announced size.
    public var byteCount: Int
    /// `{n}` rather than `{n+}`: the session must send the continuation before the client sends the bytes.
    public var synchronizing: Bool
    /// 0 for the first message of the command, 1... for further MULTIAPPEND messages.
    public var index: Int
    /// CATENATE (RFC 4469): the message is made of the `catenateURL` / `catenateText` parts that follow;
    /// `byteCount` is 0 then.
    public var catenate: Bool
    /// `UTF8 (literal8)` (RFC 6855 §4): a message that may have UTF-8 header fields; only after UTF8=ACCEPT.
    public var utf8: Bool
    /// REPLACE / UID REPLACE (RFC 8508): the message of the selected mailbox this one replaces.
    public var replace: ReplaceTarget?

    public init(
        tag: String, mailbox: MailboxName, flags: [Flag], internalDate: IMAPDateTime?, byteCount: Int,
        synchronizing: Bool, index: Int = 0, catenate: Bool = false, utf8: Bool = false,
        replace: ReplaceTarget? = nil
    ) {
        self.catenate = catenate
        self.utf8 = utf8
        self.replace = replace
        self.tag = tag
        self.mailbox = mailbox
        self.flags = flags
        self.internalDate = internalDate
        self.byteCount = byteCount
        self.synchronizing = synchronizing
        self.index = index
    }
}

/// The message REPLACE names (RFC 8508 §3.2, §3.3): a sequence number, or a UID for UID REPLACE.
public struct ReplaceTarget: Sendable, Hashable {
    public var number: UInt32
    public var uid: Bool

    public init(number: UInt32, uid: Bool) {
        self.number = number
        self.uid = uid
    }

    /// The command name as Dovecot would name it in errors.
    public var commandName: String { uid ? "UID REPLACE" : "REPLACE" }
}

/// One entry of SETMETADATA (RFC 5464 §4.3); nil value: remove the entry.
public struct MetadataValue: Sendable, Hashable {
    public var entry: String
    public var value: [UInt8]?

    public init(entry: String, value: [UInt8]?) {
        self.entry = entry
        self.value = value
    }

    /// Why `name` is not an entry name, in Dovecot's words (imap_metadata_verify_entry_name); nil when it is one.
    static func problem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard bytes.first == UInt8(ascii: "/") else { return "Entry name must begin with '/'" }
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "/"):
                if index > 0 && bytes[index - 1] == UInt8(ascii: "/") { return "Entry name can't contain consecutive '/'" }
                if index == bytes.count - 1 { return "Entry name can't end with '/'" }
            case UInt8(ascii: "*"): return "Entry name can't contain '*'"
            case UInt8(ascii: "%"): return "Entry name can't contain '%'"
            case 0..<0x20: return "Entry name can't contain control characters"
            default: continue
            }
        }
        let lower = name.lowercased()
        for scope in ["/private", "/shared"] where lower == scope || lower.hasPrefix(scope + "/") { return nil }
        return "Entry name must begin with /private or /shared"
    }
}

/// GETMETADATA options (RFC 5464 §4.2).
public struct MetadataOptions: Sendable, Hashable {
    public enum Depth: Sendable, Hashable { case zero, one, infinity }

    public var maxSize: Int?
    public var depth = Depth.zero

    public init() {}
}
