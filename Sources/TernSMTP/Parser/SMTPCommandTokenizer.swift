/// One word of an SMTP command line as Postfix's smtpd_token() splits it.
public struct SMTPToken: Sendable, Hashable {
    /// The token text, still in external (quoted) form: `<"a b"@c>` stays as sent.
    public var text: String
    /// A `<…>` or `"…"` that was not closed (SMTPD_TOK_ERROR).
    public var isMalformed: Bool
    public init(_ text: String, isMalformed: Bool = false) {
        self.text = text
        self.isMalformed = isMalformed
    }
}

/// Splits a command line into tokens the way Postfix's smtpd_token.c does: whitespace separates,
/// except inside `<…>` (which may nest and contain quotes) and `"…"`; backslash escapes the next
/// character; and a word that reads `FROM:` or `TO:` (any case) ends at its colon, so
/// `MAIL FROM:<a@b>` and `MAIL FROM: <a@b>` both give `MAIL`, `FROM:`, `<a@b>`.
public enum SMTPCommandTokenizer {
    public static func tokenize(_ line: [UInt8]) -> [SMTPToken] {
        var tokens: [SMTPToken] = []
        var index = 0
        while let token = nextToken(line, &index) { tokens.append(token) }
        return tokens
    }

    public static func tokenize(_ line: String) -> [SMTPToken] { tokenize(Array(line.utf8)) }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }

    private static func nextToken(_ s: [UInt8], _ i: inout Int) -> SMTPToken? {
        var value: [UInt8] = []
        var malformed = false
        while i < s.count {
            let c = s[i]
            i += 1
            if isSpace(c) {
                while i < s.count, isSpace(s[i]) { i += 1 }
                if !value.isEmpty { break }
            } else if c == UInt8(ascii: "<") {
                if !quoted(s, &i, into: &value, start: c, last: UInt8(ascii: ">")) { malformed = true }
            } else if c == UInt8(ascii: "\"") {
                if !quoted(s, &i, into: &value, start: c, last: c) { malformed = true }
            } else if c == UInt8(ascii: ":") {
                value.append(c)
                if isPrefix(value, of: "to:") || isPrefix(value, of: "from:") { break }
            } else {
                if c == UInt8(ascii: "\\") {
                    value.append(c)
                    guard i < s.count else { break }
                    value.append(s[i])
                    i += 1
                } else {
                    value.append(c)
                }
            }
        }
        guard !value.isEmpty else { return nil }
        return SMTPToken(String(decoding: value, as: UTF8.self), isMalformed: malformed)
    }

    /// Case-insensitive: is `value` the first value.count bytes of `word`? (strncasecmp with the token length)
    private static func isPrefix(_ value: [UInt8], of word: String) -> Bool {
        let w = Array(word.utf8)
        guard value.count <= w.count else { return false }
        for (a, b) in zip(value, w) where lower(a) != b { return false }
        return true
    }

    private static func lower(_ c: UInt8) -> UInt8 { (0x41...0x5A).contains(c) ? c + 0x20 : c }

    /// Reads up to the matching close character; returns false when the input ends first.
    private static func quoted(_ s: [UInt8], _ i: inout Int, into value: inout [UInt8], start: UInt8, last: UInt8)
        -> Bool
    {
        var stack: [UInt8] = [last]
        value.append(start)
        while i < s.count {
            let c = s[i]
            i += 1
            value.append(c)
            if c == UInt8(ascii: "\\") {
                guard i < s.count else { return false }
                value.append(s[i])
                i += 1
            } else if c == stack.last! {
                if stack.count == 1 { return true }
                stack.removeLast()
            } else if c == UInt8(ascii: "\"") {
                stack.append(c)
            } else if c == UInt8(ascii: "<") && stack.last! == UInt8(ascii: ">") {
                stack.append(UInt8(ascii: ">"))
            }
        }
        return false
    }
}
