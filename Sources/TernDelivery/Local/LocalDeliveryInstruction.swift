public import TernCore

/// A mailbox that local(8) or virtual(8) appends to.
public enum MailboxLocation: Sendable, Hashable {
    /// A Maildir (the path ends in `/`): `tmp/`, `new/`, `cur/` below it.
    case maildir(String)
    /// A UNIX mbox file, written with `From ` lines and locking.
    case mbox(String)

    /// Chooses by Postfix's rule: a trailing `/` means Maildir.
    public init(path: String) {
        self = path.hasSuffix("/") ? .maildir(path) : .mbox(path)
    }

    public var path: String {
        switch self {
        case .maildir(let path), .mbox(let path): return path
        }
    }
}

/// What the delivery agent should do for one resolved destination of a local recipient.
public enum LocalDeliveryAction: Sendable, Hashable {
    /// Append to the user's mailbox, written as `user`.
    case mailbox(user: SystemUser, MailboxLocation)
    /// Pipe the message into `command` (run with `shell`, or Postfix's direct exec when nil) as `user`
    /// with `environment` (HOME, LOGNAME, USER, SENDER, RECIPIENT, LOCAL, SHELL, DOMAIN, EXTENSION,
    /// ORIGINAL_RECIPIENT, already censored with command_expansion_filter).
    case command(String, as: SystemUser, shell: String?, environment: [String: String])
    /// Append to a file (mbox format; Maildir when the path ends in `/`) as `user`.
    case file(String, as: SystemUser)
    /// Submit the message again for a new recipient (local or remote) through cleanup.
    case forward(MailAddress)
    /// Hand the recipient to another transport (mailbox_transport / fallback_transport).
    case transport(String)
    /// Report the recipient as delivered without delivering (missing postmaster alias).
    case discard(status: String, text: String)
    /// Return to sender.
    case bounce(status: String, text: String)
    /// Try again later.
    case `defer`(status: String, text: String)
}

/// One instruction with the envelope context it needs: the address it came from (logged as
/// `to=<...>`), the original recipient (`orig_to=`, `X-Original-To:`), the `Delivered-To:` value to
/// prepend, and the envelope sender (changed by `owner-` aliases).
public struct LocalDeliveryInstruction: Sendable, Hashable {
    public let action: LocalDeliveryAction
    public let recipient: MailAddress
    public let originalRecipient: String
    public let deliveredTo: String
    public let sender: MailAddress

    public init(
        action: LocalDeliveryAction, recipient: MailAddress, originalRecipient: String, deliveredTo: String,
        sender: MailAddress
    ) {
        self.action = action
        self.recipient = recipient
        self.originalRecipient = originalRecipient
        self.deliveredTo = deliveredTo
        self.sender = sender
    }
}

/// The outcome of resolving one recipient: what to do, plus the warnings Postfix would log
/// (`warning: file /home/u/.forward is world writable`), for the caller's MailLog.
public struct LocalResolution: Sendable, Hashable {
    public var instructions: [LocalDeliveryInstruction]
    public var warnings: [String]

    public init(instructions: [LocalDeliveryInstruction] = [], warnings: [String] = []) {
        self.instructions = instructions
        self.warnings = warnings
    }
}

/// The DSN status texts that Postfix's local(8) and virtual(8) put in `status=... (text)` log fields
/// and bounce reports, so the same greps and pflogsumm reports keep working.
public enum DeliveryStatusText {
    public static let deliveredToMaildir = "delivered to maildir"
    public static let deliveredToMailbox = "delivered to mailbox"
    public static func deliveredToCommand(_ command: String) -> String { "delivered to command: \(command)" }
    public static func deliveredToFile(_ path: String) -> String { "delivered to file: \(path)" }
    public static func forwardedAs(_ queueID: String) -> String { "forwarded as \(queueID)" }
    public static func unknownUser(_ user: String) -> String { "unknown user: \"\(user)\"" }
    public static func forwardingLoop(_ address: String) -> String { "mail forwarding loop for \(address)" }
    public static func aliasLoop(_ name: String) -> String { "alias database loop for \(name)" }
    public static let nestingLimit = "recipient nesting limit exceeded"
    public static let includeNestingLimit = ":include: nesting limit exceeded"
    public static func nullUsername(_ address: String) -> String { "null username in \"\(address)\"" }
    public static let mailToCommandRestricted = "mail to command is restricted"
    public static let mailToFileRestricted = "mail to file is restricted"
    public static let configurationError = "mail system configuration error"
    public static let aliasDatabaseUnavailable = "alias database unavailable"
    public static let aliasOwnerUnknown = "cannot find alias database owner"
    public static let userLookupError = "user lookup error"
    public static let tableLookupFailure = "table lookup failure"
    public static let addressResolverFailure = "address resolver failure"
    public static let discarded = "discarded"
    public static func homeDirectoryUnavailable(_ home: String, _ error: String) -> String {
        "cannot access home directory \(home): \(error)"
    }
}
