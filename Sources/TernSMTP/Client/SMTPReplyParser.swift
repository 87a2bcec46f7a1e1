/// Reads server replies incrementally (RFC 5321 §4.2): `250-first`, `250-more`, `250 last`. Lines end at
/// LF (a CR before it is dropped). Bounded: a line longer than `lineLimit` or a reply of more than
/// `lineCountLimit` lines is a protocol error, as is a line that does not start with a reply code.
public struct SMTPReplyParser: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        case malformed(String)
        case tooLong
    }

    public let lineLimit: Int
    public let lineCountLimit: Int
    private var buffer: [UInt8] = []
    private var lines: [String] = []
    private var code: Int?

    public init(lineLimit: Int = 4096, lineCountLimit: Int = 1000) {
        self.lineLimit = lineLimit
        self.lineCountLimit = lineCountLimit
    }

    /// Adds bytes; returns the replies they complete, in order.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(Failure) -> [SMTPReply] {
        buffer.append(contentsOf: bytes)
        var replies: [SMTPReply] = []
        while let newline = buffer.firstIndex(of: 0x0A) {
            var line = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if line.last == 0x0D { line.removeLast() }
            if let reply = try take(line) { replies.append(reply) }
        }
        if buffer.count > lineLimit { throw .tooLong }
        return replies
    }

    private mutating func take(_ line: [UInt8]) throws(Failure) -> SMTPReply? {
        let text = String(decoding: line, as: UTF8.self)
        guard line.count >= 3, line[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            line.count == 3 || line[3] == 0x20 || line[3] == 0x2D,
            let lineCode = Int(String(decoding: line[0...2], as: UTF8.self))
        else { throw .malformed(text) }
        if let code, code != lineCode { throw .malformed(text) }
        code = lineCode
        lines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        if lines.count > lineCountLimit { throw .tooLong }
        guard line.count == 3 || line[3] == 0x20 else { return nil }
        defer {
            lines = []
            code = nil
        }
        return SMTPReply(received: lineCode, lines: lines)
    }
}

extension SMTPReply {
    /// A reply as a server sent it: the enhanced status code (RFC 3463) is taken from the first line when it
    /// starts with the reply's class digit, and removed from every line.
    public init(received code: Int, lines: [String]) {
        let word = lines.first.map { String($0.prefix { $0 != " " }) } ?? ""
        let classDigit = String(code / 100)
        if Self.isEnhancedStatus(word[...]), word.hasPrefix(classDigit) {
            let strip = { (line: String) -> String in
                line.hasPrefix(word + " ") ? String(line.dropFirst(word.count + 1)) : (line == word ? "" : line)
            }
            self.init(code: code, enhancedStatus: word, lines: lines.map(strip))
        } else {
            self.init(code: code, enhancedStatus: nil, lines: lines)
        }
    }

    /// `250 2.0.0 Ok: queued as X` as Postfix quotes a reply in logs and bounces (lines joined by spaces).
    public var quoted: String {
        let text = lines.joined(separator: " ")
        let status = enhancedStatus.map { " \($0)" } ?? ""
        return "\(code)\(status)\(text.isEmpty ? "" : " " + text)"
    }
}
