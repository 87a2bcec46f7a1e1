/// A message flag (RFC 3501 §2.3.2): a system flag or a keyword. `\Recent` is only ever sent by the
/// server; `\*` appears only in PERMANENTFLAGS.
public enum Flag: Sendable, Hashable {
    case answered, flagged, deleted, seen, draft, recent
    case keyword(String)
    /// `\*`: new keywords may be created (PERMANENTFLAGS only).
    case wildcard

    /// The system flags a client may set, in the order Dovecot lists them in FLAGS/PERMANENTFLAGS.
    public static let system: [Flag] = [.answered, .flagged, .deleted, .seen, .draft]

    /// The flag for a client-supplied `flag` atom; nil for an unknown `\Name` (Dovecot: `Invalid system flag \NAME`)
    /// and for `\Recent`, which clients cannot store (RFC 3501 §2.3.2).
    public init?(parsing text: String) {
        guard text.hasPrefix("\\") else {
            guard !text.isEmpty else { return nil }
            self = .keyword(text)
            return
        }
        switch text.uppercased() {
        case "\\ANSWERED": self = .answered
        case "\\FLAGGED": self = .flagged
        case "\\DELETED": self = .deleted
        case "\\SEEN": self = .seen
        case "\\DRAFT": self = .draft
        default: return nil
        }
    }

    public var text: String {
        switch self {
        case .answered: return "\\Answered"
        case .flagged: return "\\Flagged"
        case .deleted: return "\\Deleted"
        case .seen: return "\\Seen"
        case .draft: return "\\Draft"
        case .recent: return "\\Recent"
        case .wildcard: return "\\*"
        case .keyword(let k): return k
        }
    }
}

/// STORE's data item (RFC 3501 §6.4.6): `[+|-]FLAGS[.SILENT] (flags)`.
public struct StoreFlags: Sendable, Hashable {
    public enum Operation: Sendable, Hashable {
        case replace, add, remove
    }

    public var operation: Operation
    public var silent: Bool
    public var flags: [Flag]

    public init(operation: Operation, silent: Bool, flags: [Flag]) {
        self.operation = operation
        self.silent = silent
        self.flags = flags
    }
}
