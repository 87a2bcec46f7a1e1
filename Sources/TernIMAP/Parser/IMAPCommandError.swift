/// Why a command was refused by the parser. The session answers it with `reply(preLogin:)`, which gives
/// Dovecot's texts (IMAPReplyText); the command itself was skipped already (rest of line and literals).
public struct IMAPCommandError: Error, Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// No usable tag: answered untagged.
        case invalidTag
        /// A tag but no command name (also `UID` alone).
        case invalidCommandName
        case unknownCommand
        /// The command text went over `IMAPParserLimits.maxLineLength` (or nesting/argument limits).
        case tooLong
        /// A CR inside the line not followed by LF.
        case crWithoutLF
        /// The arguments are wrong; the text is Dovecot's detail (`Invalid messageset`, `Missing ')'`, ...).
        case syntax(String)
    }

    public var tag: String?
    /// The command name as Dovecot prints it (`UID FETCH`), upper case; nil when not known.
    public var command: String?
    public var reason: Reason

    public init(tag: String?, command: String?, reason: Reason) {
        self.tag = tag
        self.command = command
        self.reason = reason
    }
}

/// Errors after which the connection is closed, with the `* BYE` text Dovecot sends.
public enum IMAPFatalError: Error, Sendable, Hashable {
    /// A literal larger than the limit was announced (`* BYE Literal size too large`).
    case literalTooLarge
    /// LITERAL-: a non-synchronizing literal over 4096 octets (`* BYE [TOOBIG] Non-synchronizing literal size
    /// too large`; imap-login sends it without the code).
    case nonSynchronizingLiteralTooLarge

    public var byeText: String {
        switch self {
        case .literalTooLarge: return IMAPReplyText.literalTooLarge
        case .nonSynchronizingLiteralTooLarge: return IMAPReplyText.nonSynchronizingLiteralTooLarge
        }
    }

    /// The code of the post-login `* BYE`.
    public var responseCode: ResponseCode? {
        self == .nonSynchronizingLiteralTooLarge ? .tooBig : nil
    }
}

/// Thrown inside the grammar; carries only the detail, the driver adds tag and command name.
struct IMAPSyntaxError: Error {
    var reason: IMAPCommandError.Reason

    static func syntax(_ detail: String) -> IMAPSyntaxError {
        IMAPSyntaxError(reason: .syntax(detail))
    }
    static let invalidArguments = syntax(IMAPReplyText.invalidArguments)
    static let missingArguments = syntax(IMAPReplyText.missingArguments)
    static let tooLong = IMAPSyntaxError(reason: .tooLong)
}
