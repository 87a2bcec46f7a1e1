extension SMTPReply {
    /// The reply in wire form: `250-first\r\n250-…\r\n250 last\r\n` (RFC 5321 §4.2.1).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 12 })
        for (index, line) in lines.enumerated() {
            out.append(contentsOf: String(code).utf8)
            out.append(index == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if let enhancedStatus {
                out.append(contentsOf: enhancedStatus.utf8)
                out.append(UInt8(ascii: " "))
            }
            out.append(contentsOf: line.utf8)
            out.append(contentsOf: [0x0D, 0x0A])
        }
        return out
    }

    /// The wire form as text, for logs and tests.
    public var encodedString: String { String(decoding: encoded, as: UTF8.self) }
}
