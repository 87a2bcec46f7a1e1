/// Where a user's mail lives and how mailboxes are named, from `mail_location` and the inbox namespace of
/// dovecot.conf, already expanded for the user (`maildir:~/Maildir` → `/home/carla/Maildir`).
public struct MailStoreSettings: Sendable, Equatable {
    /// The mailbox format of mail_location (`maildir:` or `mbox:`).
    public enum Format: String, Sendable {
        case maildir
        case mbox
    }

    public var format: Format
    /// The Maildir root (`~/Maildir`) or the mbox directory (`~/mail`); INBOX lives here unless `inboxPath`
    /// says otherwise.
    public var root: String
    /// `:INBOX=<path>` of mail_location, if given.
    public var inboxPath: String?
    /// The namespace hierarchy separator clients see (`separator = /`; Dovecot's Maildir++ default is `.`).
    /// On disk the levels are always joined with `.`.
    public var separator: Character
    /// `mailbox NAME { special_use = ...  auto = ... }` of the inbox namespace.
    public var mailboxes: [MailboxSettings]
    /// mail_privileged_group as a gid: switched to for the dotlock and rewrites of an mbox INBOX in a spool
    /// directory (/var/mail) the user cannot write.
    public var privilegedGroup: UInt32?
    /// The shared namespace (other users' mailboxes), when one is configured.
    public var shared: SharedNamespace?
    /// Keeps `shared`'s owners current during the session (acl_shared_dict changes); nil: `shared` as it is.
    public var sharedOwners: SharedOwnerDirectory?
    /// Mailboxes a `quota = maildir` root's `ignore` rule leaves out: saves and expunges there write no
    /// `maildirsize` line, as in Dovecot.
    public var maildirSizeIgnored: Set<String> = []

    public init(
        format: Format = .maildir, root: String, inboxPath: String? = nil, separator: Character = ".",
        mailboxes: [MailboxSettings] = [], privilegedGroup: UInt32? = nil, shared: SharedNamespace? = nil
    ) {
        self.shared = shared
        self.format = format
        self.root = root
        self.inboxPath = inboxPath
        self.separator = separator
        self.mailboxes = mailboxes
        self.privilegedGroup = privilegedGroup
    }
}

/// One `mailbox` section of a namespace (Dovecot 2.3 mailbox settings).
public struct MailboxSettings: Sendable, Equatable {
    public enum Auto: String, Sendable {
        case no
        case create
        case subscribe
    }

    public var name: String
    /// RFC 6154 attributes, e.g. `["\\Sent"]`.
    public var specialUse: [String]
    public var auto: Auto

    public init(name: String, specialUse: [String] = [], auto: Auto = .no) {
        self.name = name
        self.specialUse = specialUse
        self.auto = auto
    }
}

/// RFC 3501 §7.2.2 / RFC 3348 / RFC 6154 attributes of a LIST reply.
public struct MailboxAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let noSelect = MailboxAttributes(rawValue: 1 << 0)
    public static let hasChildren = MailboxAttributes(rawValue: 1 << 1)
    public static let hasNoChildren = MailboxAttributes(rawValue: 1 << 2)
    public static let subscribed = MailboxAttributes(rawValue: 1 << 3)
    public static let nonExistent = MailboxAttributes(rawValue: 1 << 4)
    /// An mbox file: it cannot have children (RFC 3501 §7.2.2).
    public static let noInferiors = MailboxAttributes(rawValue: 1 << 5)
}

/// One mailbox in a listing.
public struct MailboxListEntry: Sendable, Equatable {
    /// The name in UTF-8 with the namespace separator (`Drafts/Sub`, `Café`); IMAP encodes it with
    /// `ModifiedUTF7.encode`.
    public var name: String
    public var attributes: MailboxAttributes
    /// Special-use attributes from the configuration (`\Sent`).
    public var specialUse: [String]

    /// Attribute names in Dovecot's order: `\Noselect \HasChildren` / `\HasNoChildren`, then special use.
    public var imapAttributes: [String] {
        var names: [String] = []
        if attributes.contains(.subscribed) { names.append("\\Subscribed") }
        if attributes.contains(.nonExistent) { names.append("\\NonExistent") }
        if attributes.contains(.noSelect) { names.append("\\Noselect") }
        if attributes.contains(.noInferiors) { names.append("\\NoInferiors") }
        if attributes.contains(.hasChildren) { names.append("\\HasChildren") }
        if attributes.contains(.hasNoChildren) { names.append("\\HasNoChildren") }
        return names + specialUse
    }
}
