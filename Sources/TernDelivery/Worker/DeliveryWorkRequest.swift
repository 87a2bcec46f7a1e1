/// One final delivery handed to a worker running as the recipient (DESIGN.md §2, "Privilege"): everything
/// local(8)/virtual(8) know about the recipient and the destination, without the message itself, whose
/// open descriptor travels with the request (`WorkerWire`). Plain Codable so that the same value runs
/// in-process in demo mode.
public struct DeliveryWorkRequest: Codable, Sendable, Equatable {
    /// What kind of destination `target` names.
    public enum Kind: String, Codable, Sendable {
        /// A Maildir directory (`home_mailbox = Maildir/`, virtual maildirs, `/path/` alias targets).
        case maildir
        /// The user's mbox (`mail_spool_directory/user` or `home_mailbox = Mailbox`).
        case mbox
        /// A `/file/name` alias, :include: or .forward target (mbox format; a trailing `/` means Maildir).
        case file
        /// `mailbox_command` or a `|command` target; `target` is the command line.
        case command
    }

    public var kind: Kind
    /// Path of the mailbox or file, or the command line.
    public var target: String
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]
    public var home: String
    /// Login name (`for user %s`, LOGNAME, USER).
    public var userName: String
    public var shell: String
    public var sender: String
    /// Final recipient (`Delivered-To`, RECIPIENT).
    public var recipient: String
    /// Original recipient (`X-Original-To`, ORIGINAL_RECIPIENT); empty when unknown.
    public var originalRecipient: String
    /// Recipient local part with extension (LOCAL), extension (EXTENSION) and domain (DOMAIN).
    public var localPart: String
    public var extensionPart: String
    public var domain: String
    /// `mailbox_size_limit` (`virtual_mailbox_limit`); 0 means none.
    public var mailboxSizeLimit: Int
    /// `command_time_limit` in seconds.
    public var commandTimeLimit: Int
    /// Host name for Maildir file names (empty: gethostname(2)).
    public var hostname: String
    /// Header lines written before the message (see `DeliveredHeaders.render`), LF line ends.
    public var prependHeaders: String
    /// `mailbox_delivery_lock`, `deliver_lock_attempts`, `deliver_lock_delay`, `stale_lock_time`.
    public var lockPolicy: MailboxLockPolicy
    /// `strict_mailbox_ownership` for `.mbox`.
    public var strictMailboxOwnership: Bool
    /// Owner for a mailbox file created by this delivery (see `MboxWriter.spoolCredentials`).
    public var createOwnership: FileOwnership?
    /// `local_command_shell`, `command_expansion_filter`, `export_environment`, `command_execution_directory`.
    public var commandShell: String
    public var commandExpansionFilter: String
    public var exportEnvironment: [String]
    public var commandDirectory: String
    /// CLIENT_HOSTNAME, CLIENT_ADDRESS, CLIENT_HELO, CLIENT_PROTOCOL, SASL_* values for commands.
    public var clientEnvironment: [String: String]
    /// Daemon name for messages (`local` or `virtual`).
    public var programName: String
    /// Where the message starts in the descriptor passed with the request; nil: at its current offset.
    public var contentOffset: Int?
    /// Length of the message; the worker treats an earlier EOF as a damaged queue file (deferred) instead of
    /// delivering a truncated message. nil: read until EOF.
    public var contentLength: Int?
    /// A Maildir file name unique to this message, recipient and copy (see `MaildirWriter.deliver`).
    public var maildirUniqueName: String?
    /// Look for the copy an interrupted earlier attempt may have written before writing another.
    public var checkExisting: Bool?

    public init(
        kind: Kind, target: String, uid: UInt32, gid: UInt32, groups: [UInt32] = [], home: String = "",
        userName: String, shell: String = "", sender: String, recipient: String, originalRecipient: String = "",
        localPart: String = "", extensionPart: String = "", domain: String = "", mailboxSizeLimit: Int = 51_200_000,
        commandTimeLimit: Int = 1000, hostname: String = "", prependHeaders: String = "",
        lockPolicy: MailboxLockPolicy = MailboxLockPolicy(), strictMailboxOwnership: Bool = true,
        createOwnership: FileOwnership? = nil, commandShell: String = "",
        commandExpansionFilter: String = CommandEnvironment.defaultExpansionFilter,
        exportEnvironment: [String] = CommandEnvironment.defaultExport, commandDirectory: String = "",
        clientEnvironment: [String: String] = [:], programName: String = "local", contentLength: Int? = nil
    ) {
        self.kind = kind
        self.target = target
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.home = home
        self.userName = userName
        self.shell = shell
        self.sender = sender
        self.recipient = recipient
        self.originalRecipient = originalRecipient
        self.localPart = localPart
        self.extensionPart = extensionPart
        self.domain = domain
        self.mailboxSizeLimit = mailboxSizeLimit
        self.commandTimeLimit = commandTimeLimit
        self.hostname = hostname
        self.prependHeaders = prependHeaders
        self.lockPolicy = lockPolicy
        self.strictMailboxOwnership = strictMailboxOwnership
        self.createOwnership = createOwnership
        self.commandShell = commandShell
        self.commandExpansionFilter = commandExpansionFilter
        self.exportEnvironment = exportEnvironment
        self.commandDirectory = commandDirectory
        self.clientEnvironment = clientEnvironment
        self.programName = programName
        self.contentLength = contentLength
    }
}

/// What became of a `DeliveryWorkRequest`: the outcome, the enhanced status code and Postfix's status text
/// (`delivered to maildir`, `delivered to mailbox`, `delivered to command: procmail`,
/// `delivered to file: /path`, or the failure reason), ready for the `status=... (text)` log line.
public struct DeliveryWorkResult: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case delivered, deferred, bounced
    }

    public var outcome: Outcome
    /// Enhanced status code (RFC 3463): 2.0.0 on success.
    public var dsn: String
    public var text: String
    /// Problems Postfix would log as warnings without failing the delivery.
    public var warnings: [String]
    /// The file written (Maildir file in new/, mbox path), when there is one.
    public var deliveredPath: String?

    public init(outcome: Outcome, dsn: String, text: String, warnings: [String] = [], deliveredPath: String? = nil) {
        self.outcome = outcome
        self.dsn = dsn
        self.text = text
        self.warnings = warnings
        self.deliveredPath = deliveredPath
    }

    public static func delivered(_ text: String, path: String? = nil, warnings: [String] = []) -> DeliveryWorkResult {
        DeliveryWorkResult(outcome: .delivered, dsn: "2.0.0", text: text, warnings: warnings, deliveredPath: path)
    }

    /// Deferred or bounced according to the failure's status class, as Postfix decides.
    public static func failed(_ failure: DeliveryFailure, warnings: [String] = []) -> DeliveryWorkResult {
        DeliveryWorkResult(
            outcome: failure.isTemporary ? .deferred : .bounced, dsn: failure.dsn, text: failure.text,
            warnings: warnings)
    }
}
