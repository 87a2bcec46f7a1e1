/// `section-spec` (RFC 3501 §6.4.5, §9): a part path and what of it: the whole part, its header (or some of
/// its fields), its text, or its MIME header.
public struct BodySection: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case header
        case headerFields([String])
        case headerFieldsNot([String])
        case text
        /// Only after a part number (RFC 3501 §6.4.5).
        case mime
    }

    /// Part numbers, outermost first (`1.2` → [1, 2]); empty for the whole message.
    public var part: [Int]
    public var kind: Kind?

    public init(part: [Int] = [], kind: Kind? = nil) {
        self.part = part
        self.kind = kind
    }

    /// The section text as it is echoed in a FETCH response: header field names in upper case, as Dovecot does.
    public var text: String {
        var pieces = part.map(String.init)
        switch kind {
        case nil: break
        case .header: pieces.append("HEADER")
        case .text: pieces.append("TEXT")
        case .mime: pieces.append("MIME")
        case .headerFields(let names):
            pieces.append("HEADER.FIELDS (\(names.map { $0.uppercased() }.joined(separator: " ")))")
        case .headerFieldsNot(let names):
            pieces.append("HEADER.FIELDS.NOT (\(names.map { $0.uppercased() }.joined(separator: " ")))")
        }
        return pieces.joined(separator: ".")
    }
}

/// `<offset.length>` on BODY[...] (RFC 3501 §6.4.5). The response names only the offset: `BODY[]<0>`.
/// Dovecot also takes `<offset>` alone, meaning up to the end: `length` is nil then. Both are number64
/// (RFC 9051 Appendix E item 1; Dovecot takes them too).
public struct Partial: Sendable, Hashable {
    public var offset: UInt64
    public var length: UInt64?

    public init(offset: UInt64, length: UInt64?) {
        self.offset = offset
        self.length = length
    }
}

/// A FETCH data item (RFC 3501 §6.4.5, BINARY from RFC 3516). The macros ALL, FAST and FULL are expanded by
/// the parser, in the order Dovecot expands them.
public enum FetchAttribute: Sendable, Hashable {
    case envelope
    case flags
    case internalDate
    case rfc822
    case rfc822Header
    case rfc822Size
    case rfc822Text
    /// BODY without a section: the non-extensible BODYSTRUCTURE.
    case body
    case bodyStructure
    case uid
    /// BODY[section]<partial> and BODY.PEEK[...]: `peek` leaves \Seen alone.
    case bodySection(BodySection, partial: Partial?, peek: Bool)
    /// BINARY[section] and BINARY.SIZE[section] (RFC 3516 names part numbers only; Dovecot takes every section).
    case binary(BodySection, partial: Partial?, peek: Bool)
    case binarySize(BodySection)
    /// RFC 7162 §3.1.5 MODSEQ.
    case modSeq
    /// RFC 8514 SAVEDATE.
    case saveDate
    /// RFC 8970 PREVIEW, or Dovecot's SNIPPET (`snippet`); `fuzzy`: the answer names the algorithm,
    /// `(FUZZY text)`, as SNIPPET's always does; `lazy`: NIL unless the preview was made before.
    case preview(snippet: Bool, fuzzy: Bool, lazy: Bool)
    /// RFC 8474 EMAILID and THREADID.
    case emailID
    case threadID

    public static let fast: [FetchAttribute] = [.flags, .internalDate, .rfc822Size]
    public static let all: [FetchAttribute] = fast + [.envelope]
    public static let full: [FetchAttribute] = all + [.body]

    /// Whether fetching this sets \Seen (RFC 3501 §6.4.5: BODY[...] and RFC822, RFC822.TEXT do).
    public var setsSeen: Bool {
        switch self {
        case .rfc822, .rfc822Text: return true
        case .bodySection(_, _, let peek), .binary(_, _, let peek): return !peek
        default: return false
        }
    }
}
