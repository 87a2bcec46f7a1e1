/// RFC 5322 §2.2 header field helpers: recognising a header line, splitting name and value, unfolding.
/// The recogniser follows Postfix's `is_header()`: a name of printable ASCII other than `:`, optionally
/// followed by spaces or tabs, then `:` (so `Subject :` counts, as Postfix accepts it).
public enum HeaderField {
    /// The field name when `line` starts a header field, else nil. `line` excludes the line end.
    public static func name(of line: some Collection<UInt8>) -> String? {
        var nameEnd = line.startIndex
        var index = line.startIndex
        while index != line.endIndex {
            let byte = line[index]
            if byte == UInt8(ascii: ":") {
                guard nameEnd != line.startIndex else { return nil }
                return String(decoding: line[line.startIndex..<nameEnd], as: UTF8.self)
            }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                // Whitespace may only separate the name from the colon.
                guard nameEnd != line.startIndex else { return nil }
                var rest = line.index(after: index)
                while rest != line.endIndex, line[rest] == UInt8(ascii: " ") || line[rest] == UInt8(ascii: "\t") {
                    rest = line.index(after: rest)
                }
                guard rest != line.endIndex, line[rest] == UInt8(ascii: ":") else { return nil }
                return String(decoding: line[line.startIndex..<nameEnd], as: UTF8.self)
            }
            guard byte > 32, byte < 127, nameEnd == index else { return nil }
            index = line.index(after: index)
            nameEnd = index
        }
        return nil
    }

    /// True when `line` is a continuation of the previous header line (starts with space or tab).
    public static func isContinuation(_ line: some Collection<UInt8>) -> Bool {
        guard let first = line.first else { return false }
        return first == UInt8(ascii: " ") || first == UInt8(ascii: "\t")
    }

    /// The value of a logical header (all its physical lines joined by LF), after the colon and leading
    /// whitespace, still folded. Returns nil when `header` is not a header field.
    public static func value(of header: [UInt8]) -> [UInt8]? {
        guard name(of: header) != nil, let colon = header.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var start = header.index(after: colon)
        while start < header.endIndex, header[start] == UInt8(ascii: " ") || header[start] == UInt8(ascii: "\t") {
            start += 1
        }
        return Array(header[start...])
    }

    /// RFC 5322 §2.2.3 unfolding: removes each CRLF or LF that is followed by whitespace.
    public static func unfold(_ text: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        for byte in text where byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\r") {
            out.append(byte)
        }
        return out
    }

    /// Case-insensitive ASCII comparison of header names (RFC 5322 §1.2.2).
    public static func namesMatch(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count == rhs.utf8.count
            && zip(lhs.utf8, rhs.utf8).allSatisfy { asciiLower($0) == asciiLower($1) }
    }

    private static func asciiLower(_ byte: UInt8) -> UInt8 {
        (byte >= 65 && byte <= 90) ? byte + 32 : byte
    }
}
