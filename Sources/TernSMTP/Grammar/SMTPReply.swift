/// One SMTP reply (RFC 5321 §4.2): a three-digit code, an optional RFC 3463 enhanced status code
/// (RFC 2034 puts it on every line), and one or more text lines.
/// Postfix's own texts are collected in `SMTPReply+Postfix.swift`. It is also the error type of
/// parsers whose failures are answered with a reply.
public struct SMTPReply: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    /// `"2.1.0"`, or nil for replies Postfix sends without one (`250 host`, `501 Syntax: HELO hostname`).
    public var enhancedStatus: String?
    /// The text lines, without code or line ends. Never empty.
    public var lines: [String]

    public init(code: Int, enhancedStatus: String? = nil, lines: [String]) {
        self.code = code
        self.enhancedStatus = enhancedStatus
        self.lines = lines.isEmpty ? [""] : lines
    }

    public init(code: Int, enhancedStatus: String? = nil, _ text: String) {
        self.init(code: code, enhancedStatus: enhancedStatus, lines: [text])
    }

    /// Parses the text form restriction code produces, e.g.
    /// `550 5.1.1 <x@y>: Recipient address rejected: User unknown` (single line).
    /// The enhanced code is recognised when it starts with the same class digit, as Postfix does.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            bytes.count == 3 || bytes[3] == 0x20 || bytes[3] == 0x2D
        else { return nil }
        code = Int(String(decoding: bytes[0...2], as: UTF8.self))!
        var rest = bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
        enhancedStatus = nil
        let word = rest.prefix { $0 != " " }
        if Self.isEnhancedStatus(word), word.first == text.first {
            enhancedStatus = String(word)
            rest = String(rest.dropFirst(word.count).drop { $0 == " " })
        }
        lines = [rest]
    }

    /// `d.ddd.ddd` with a class digit 2, 4 or 5 (RFC 3463 §2).
    static func isEnhancedStatus(_ word: Substring) -> Bool {
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let first = parts[0].first, "245".contains(first), parts[0].count == 1 else {
            return false
        }
        return parts[1...].allSatisfy {
            (1...3).contains($0.count) && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber)
        }
    }

    public var isPositive: Bool { code < 400 }
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    public var isPermanentFailure: Bool { code >= 500 }

    /// The first line as it appears on the wire after the code: `2.1.0 Ok`.
    public var text: String {
        if let enhancedStatus { return "\(enhancedStatus) \(lines[0])" }
        return lines[0]
    }

    public var description: String { "\(code) \(text)" }
}
