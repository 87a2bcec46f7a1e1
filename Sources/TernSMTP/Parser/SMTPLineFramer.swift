/// A command line as the framer hands it out, without its line end.
public enum FramedLine: Sendable, Hashable {
    /// A complete line (CRLF, bare LF and any extra CRs before the LF removed).
    case line([UInt8])
    /// A line longer than line_length_limit: its first `limit` bytes; the rest up to the LF was skipped.
    /// Postfix (smtp_get with SMTP_GET_FLAG_SKIP) executes the truncated text as the command and logs
    /// `warning: …: request longer than 2048: …`, so one long line gets exactly one reply.
    case truncated([UInt8])

    public var bytes: [UInt8] {
        switch self {
        case .line(let b), .truncated(let b): return b
        }
    }
}

/// Incremental, bounded framer for SMTP command mode, matching Postfix's smtp_get():
/// a line ends at LF (bare LF accepted), trailing CRs are removed, and at most `lineLengthLimit`
/// bytes (line_length_limit, default 2048, counting the CR) are kept. Memory stays bounded by the limit
/// however long a line is.
public struct SMTPLineFramer: Sendable {
    /// May change between lines (a SASL response is allowed smtpd_sasl_response_limit bytes).
    public var lineLengthLimit: Int {
        didSet { lineLengthLimit = max(lineLengthLimit, 2) }
    }
    private var input: [UInt8] = []
    private var readIndex = 0
    private var current: [UInt8] = []
    /// The limit was reached on a CR: the next byte decides whether it was the CRLF.
    private var limitHitOnCR = false
    /// Skipping the excess of an overlong line until its LF.
    private var skipping = false

    public init(lineLengthLimit: Int = 2048) {
        self.lineLengthLimit = max(lineLengthLimit, 2)
    }

    /// Adds bytes read from the connection.
    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if readIndex > 0, readIndex == input.count {
            input.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        input.append(contentsOf: bytes)
    }

    /// The next complete command line, or nil when more bytes are needed.
    public mutating func next() -> FramedLine? {
        while readIndex < input.count {
            let byte = input[readIndex]
            readIndex += 1
            if let line = consume(byte) {
                compact()
                return line
            }
        }
        compact()
        return nil
    }

    /// Bytes received but not yet framed (for DATA, which frames differently, or STARTTLS, which must
    /// discard them — CVE-2011-0411). A partial line already started is returned as well.
    public mutating func takeBufferedBytes() -> [UInt8] {
        var out = skipping ? [] : current
        out.append(contentsOf: input[readIndex...])
        input.removeAll()
        readIndex = 0
        current.removeAll()
        limitHitOnCR = false
        skipping = false
        return out
    }

    /// Number of bytes held (buffered input plus a partial line).
    public var bufferedByteCount: Int { input.count - readIndex + current.count }

    private mutating func compact() {
        if readIndex > 4096, readIndex * 2 > input.count {
            input.removeFirst(readIndex)
            readIndex = 0
        }
    }

    private mutating func consume(_ byte: UInt8) -> FramedLine? {
        if limitHitOnCR {
            limitHitOnCR = false
            if byte == 0x0A { return finishLine() }
            skipping = true  // the byte is "ungotten" and then read by the skip loop
        }
        if skipping {
            guard byte == 0x0A else { return nil }
            skipping = false
            let prefix = current
            current.removeAll(keepingCapacity: true)
            return .truncated(prefix)
        }
        if byte == 0x0A { return finishLine() }
        current.append(byte)
        if current.count >= lineLengthLimit {
            if byte == 0x0D { limitHitOnCR = true } else { skipping = true }
        }
        return nil
    }

    private mutating func finishLine() -> FramedLine {
        while current.last == 0x0D { current.removeLast() }
        let line = current
        current.removeAll(keepingCapacity: true)
        return .line(line)
    }
}
