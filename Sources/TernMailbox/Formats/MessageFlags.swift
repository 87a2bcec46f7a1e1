/// The IMAP system flags that a Maildir file name can carry (RFC 3501 §2.3.2). `\Recent` is not stored in
/// the file name; it belongs to the session (`MessageInfo.isRecent`).
public struct MessageFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let answered = MessageFlags(rawValue: 1 << 0)
    public static let flagged = MessageFlags(rawValue: 1 << 1)
    public static let deleted = MessageFlags(rawValue: 1 << 2)
    public static let seen = MessageFlags(rawValue: 1 << 3)
    public static let draft = MessageFlags(rawValue: 1 << 4)

    /// In the order Dovecot lists them: `\Answered \Flagged \Deleted \Seen \Draft`.
    public static let all: [(MessageFlags, String)] = [
        (.answered, "\\Answered"), (.flagged, "\\Flagged"), (.deleted, "\\Deleted"), (.seen, "\\Seen"),
        (.draft, "\\Draft"),
    ]

    /// The IMAP names of the flags that are set, e.g. `["\\Flagged", "\\Seen"]`.
    public var imapNames: [String] { Self.all.filter { contains($0.0) }.map(\.1) }

    /// Parses one IMAP system flag name, case-insensitively; nil for keywords and `\Recent`.
    public init?(imapName: String) {
        guard let match = Self.all.first(where: { $0.1.lowercased() == imapName.lowercased() }) else { return nil }
        self = match.0
    }

    /// maildir(5) info letters: D draft, F flagged, R replied, S seen, T trashed (P passed has no IMAP flag).
    static let letters: [(Character, MessageFlags)] = [
        ("D", .draft), ("F", .flagged), ("R", .answered), ("S", .seen), ("T", .deleted),
    ]
}

/// How a STORE changes flags and keywords.
public enum FlagChange: Sendable, Equatable {
    case add
    case remove
    case replace
}
