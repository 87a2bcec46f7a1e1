/// A complete command as the framer collected it: the text of its lines joined (each literal announcement
/// `{n}` / `{n+}` left in place, CRLFs removed) and the literal contents in order.
struct RawCommand: Sendable {
    var text: [UInt8] = []
    var literals: [[UInt8]] = []
    /// Offsets in `text` just after each literal announcement's `}`: only a `{n}` ending a line is a literal.
    var literalEnds: [Int] = []
}

/// Reads RFC 3501 §9 tokens from a `RawCommand`. Throws `IMAPSyntaxError` with Dovecot's detail texts.
struct IMAPArgumentReader {
    let command: RawCommand
    let limits: IMAPParserLimits
    private(set) var index = 0
    private var nextLiteral = 0
    private var depth = 0
    private var arguments = 0

    init(_ command: RawCommand, limits: IMAPParserLimits) {
        self.command = command
        self.limits = limits
    }

    var atEnd: Bool { index >= command.text.count }
    var peek: UInt8? { atEnd ? nil : command.text[index] }

    // MARK: character classes (RFC 3501 §9)

    static func isAtomChar(_ b: UInt8) -> Bool {
        guard b > 0x20, b < 0x7F else { return b >= 0x80 }  // 8-bit accepted in atoms as Dovecot does
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"),
            UInt8(ascii: "*"),
            UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
            return false
        default:
            return true
        }
    }

    static func isAStringChar(_ b: UInt8) -> Bool { isAtomChar(b) || b == UInt8(ascii: "]") }
    static func isTagChar(_ b: UInt8) -> Bool { isAStringChar(b) && b != UInt8(ascii: "+") }
    static func isListChar(_ b: UInt8) -> Bool {
        isAStringChar(b) || b == UInt8(ascii: "%") || b == UInt8(ascii: "*")
    }

    // MARK: primitives

    mutating func countArgument() throws {
        arguments += 1
        if arguments > limits.maxArguments { throw IMAPSyntaxError.tooLong }
    }

    mutating func take(while predicate: (UInt8) -> Bool) -> [UInt8] {
        let start = index
        while let b = peek, predicate(b) { index += 1 }
        return Array(command.text[start..<index])
    }

    /// Consumes `byte` if it is next.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// One SP between arguments; a missing one is `error`.
    mutating func space(orThrow error: IMAPSyntaxError = .invalidArguments) throws {
        guard skip(UInt8(ascii: " ")) else { throw error }
    }

    /// Whether another argument follows (consuming its SP).
    mutating func moreArguments() -> Bool { skip(UInt8(ascii: " ")) }

    mutating func expectEnd() throws {
        guard atEnd else { throw IMAPSyntaxError.invalidArguments }
    }

    /// Case-insensitive keyword match, consumed only when it is the whole atom.
    mutating func keyword(_ word: String) -> Bool {
        let bytes = Array(word.utf8)
        guard command.text.count - index >= bytes.count else { return false }
        for (offset, b) in bytes.enumerated() where Self.upper(command.text[index + offset]) != b {
            return false
        }
        let after = index + bytes.count
        if after < command.text.count, Self.isAStringChar(command.text[after]) { return false }
        index = after
        return true
    }

    static func upper(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") ? b - 32 : b
    }

    // MARK: tokens

    /// `atom`; upper-cased when `upper`.
    mutating func atom(upper: Bool = false) throws -> String {
        let bytes = take(while: Self.isAtomChar)
        guard !bytes.isEmpty else { throw IMAPSyntaxError.invalidArguments }
        try countArgument()
        let text = String(decoding: bytes, as: UTF8.self)
        return upper ? text.uppercased() : text
    }

    /// `astring`: an atom (`]` allowed), a quoted string or a literal.
    mutating func astring() throws -> [UInt8] {
        if let b = peek, b == UInt8(ascii: "\"") || b == UInt8(ascii: "{") { return try string() }
        let bytes = take(while: Self.isAStringChar)
        guard !bytes.isEmpty else { throw IMAPSyntaxError.invalidArguments }
        try countArgument()
        return bytes
    }

    mutating func astringText() throws -> String { String(decoding: try astring(), as: UTF8.self) }

    /// `string`: quoted or literal.
    mutating func string() throws -> [UInt8] {
        try countArgument()
        if skip(UInt8(ascii: "\"")) { return try quotedRest() }
        if peek == UInt8(ascii: "{") { return try literal() }
        throw IMAPSyntaxError.invalidArguments
    }

    /// `nstring`: NIL or a string.
    mutating func nstring() throws -> [UInt8]? {
        if keyword("NIL") { return nil }
        return try string()
    }

    /// After the opening quote: up to the closing one, `\"` and `\\` unescaped (RFC 3501 §9 `quoted`).
    private mutating func quotedRest() throws -> [UInt8] {
        var out: [UInt8] = []
        while let b = peek {
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                return out
            case UInt8(ascii: "\\"):
                guard let escaped = peek else { break }
                index += 1
                out.append(escaped)
            case 0x0D, 0x0A, 0x00:
                throw IMAPSyntaxError.syntax(IMAPReplyText.missingQuote)
            default:
                out.append(b)
            }
        }
        throw IMAPSyntaxError.syntax(IMAPReplyText.missingQuote)
    }

    /// `{n}` / `{n+}` at the end of a line, followed by its bytes.
    private mutating func literal() throws -> [UInt8] {
        guard let close = command.text[index...].firstIndex(of: UInt8(ascii: "}")),
            command.literalEnds.contains(close + 1), nextLiteral < command.literals.count
        else { throw IMAPSyntaxError.invalidArguments }
        index = close + 1
        defer { nextLiteral += 1 }
        return command.literals[nextLiteral]
    }

    /// `( items )` with items separated by single spaces; `item` reads one element.
    mutating func parenthesized<T>(
        missingParen: IMAPSyntaxError = .syntax(IMAPReplyText.missingParen),
        _ item: (inout Self) throws -> T
    ) throws -> [T] {
        guard skip(UInt8(ascii: "(")) else { throw IMAPSyntaxError.invalidArguments }
        try enter()
        defer { depth -= 1 }
        var items: [T] = []
        if skip(UInt8(ascii: ")")) { return items }
        while true {
            items.append(try item(&self))
            if skip(UInt8(ascii: ")")) { return items }
            guard skip(UInt8(ascii: " ")) else {
                throw atEnd ? missingParen : IMAPSyntaxError.invalidArguments
            }
        }
    }

    mutating func enter() throws {
        depth += 1
        if depth > limits.maxNestingDepth { throw IMAPSyntaxError.tooLong }
    }

    mutating func leave() { depth -= 1 }

    /// `number` (RFC 3501 §9): up to 2^32-1.
    mutating func number(orThrow error: IMAPSyntaxError = .invalidArguments) throws -> UInt32 {
        let digits = take(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        guard let value = IMAPNumber.parse(digits, allowZero: true) else { throw error }
        return value
    }

    /// `sequence-set` (or `$`) as one token.
    mutating func sequenceSet() throws -> SequenceSet {
        let bytes = take(while: { Self.isAtomChar($0) || $0 == UInt8(ascii: "*") })
        guard !bytes.isEmpty else { throw IMAPSyntaxError.invalidArguments }
        guard let set = SequenceSet(bytes) else {
            throw IMAPSyntaxError.syntax(IMAPReplyText.invalidMessageset)
        }
        return set
    }

    mutating func mailbox() throws -> MailboxName { MailboxName(bytes: try astring()) }

    /// `list-mailbox`: list-chars (with `%` and `*`) or a string.
    mutating func listMailbox() throws -> MailboxName {
        if let b = peek, b == UInt8(ascii: "\"") || b == UInt8(ascii: "{") {
            return MailboxName(bytes: try string())
        }
        let bytes = take(while: Self.isListChar)
        guard !bytes.isEmpty else { throw IMAPSyntaxError.invalidArguments }
        try countArgument()
        return MailboxName(bytes: bytes)
    }

    /// `flag` / `flag-keyword` with Dovecot's refusal of unknown system flags.
    mutating func flag() throws -> Flag {
        var bytes: [UInt8] = []
        if skip(UInt8(ascii: "\\")) { bytes.append(UInt8(ascii: "\\")) }
        bytes += take(while: Self.isAtomChar)
        try countArgument()
        let text = String(decoding: bytes, as: UTF8.self)
        guard let flag = Flag(parsing: text) else {
            if text.count <= 1 { throw IMAPSyntaxError.invalidArguments }
            throw IMAPSyntaxError.syntax(IMAPReplyText.invalidSystemFlag(text.uppercased()))
        }
        return flag
    }

    /// `flag-list`, or (as Dovecot allows) a single flag without parentheses.
    mutating func flagList() throws -> [Flag] {
        if peek == UInt8(ascii: "(") { return try parenthesized { try $0.flag() } }
        return [try flag()]
    }

    /// `date`, quoted or not (RFC 3501 §9 `date`).
    mutating func date(orThrow error: IMAPSyntaxError) throws -> IMAPDate {
        let text: [UInt8]
        do { text = try astring() } catch { throw error }
        guard let date = IMAPDate(String(decoding: text, as: UTF8.self)) else { throw error }
        return date
    }
}
