import Glibc

/// A write that failed, with its errno.
struct SinkError: Error {
    let code: Int32
}

/// Where `MessageCopier` sends bytes: a mailbox file or a command's stdin.
protocol MessageSink {
    /// Writes all of `bytes` or throws the errno of the failed write.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(SinkError)
}

/// Writes to a file descriptor, refusing with EFBIG (as the RLIMIT_FSIZE that Postfix's local(8) sets from
/// `mailbox_size_limit` would) any write that takes the file past `limit` bytes. A limit of 0 means none.
struct FileSink: MessageSink {
    let fd: Int32
    /// Current size of the file, i.e. where the next byte lands.
    private(set) var size: Int
    let limit: Int

    init(fd: Int32, size: Int, limit: Int) {
        self.fd = fd
        self.size = size
        self.limit = limit
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(SinkError) {
        if limit > 0 && size + bytes.count > limit { throw SinkError(code: EFBIG) }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SinkError(code: errno)
            }
            offset += n
            size += n
        }
    }
}

/// What to add around the message while copying (the MAIL_COPY_* flags of Postfix `mail_copy()`).
struct MessageCopyOptions {
    /// Written first, verbatim: the optional `From ` line and the Return-Path/X-Original-To/Delivered-To lines.
    var header: [UInt8]
    /// MAIL_COPY_QUOTE: put `>` before every message line that starts with `From ` (mbox files, not commands).
    var quoteFromLines: Bool
    /// MAIL_COPY_BLANK: end with an empty line so that the next `From ` line starts a new message.
    var blankLineAtEnd: Bool
}

/// Copies a queued message into a mailbox or a pipe, the way Postfix `mail_copy()` does: header lines first,
/// then the content with `From ` quoting, a newline added to an incomplete last line, then an optional blank
/// line. Content is streamed in bounded chunks; the whole message is never held in memory.
enum MessageCopier {
    static let chunkSize = 64 * 1024
    private static let fromPrefix = Array("From ".utf8)

    /// Copies `length` bytes (or up to EOF when nil) from `source` to `sink`.
    /// Throws `error reading message: ...` or `error writing message: ...` failures with Postfix's codes.
    static func copy<Sink: MessageSink>(
        from source: Int32, length: Int?, to sink: inout Sink, options: MessageCopyOptions
    ) throws(DeliveryFailure) {
        var output = OutputBuffer(capacity: chunkSize)
        output.append(options.header)
        var input = [UInt8](repeating: 0, count: chunkSize)
        var remaining = length ?? Int.max
        var carry: [UInt8] = []  // a possible "From " prefix split across reads
        var atLineStart = true
        var wroteContent = false

        while remaining > 0 {
            let want = min(chunkSize, remaining)
            let n = input.withUnsafeMutableBytes { Glibc.read(source, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError.readFailure(errno)
            }
            if n == 0 { break }
            remaining -= n
            wroteContent = true
            var chunk = carry
            chunk.append(contentsOf: input[..<n])
            carry = []
            var i = 0
            while i < chunk.count {
                if atLineStart && options.quoteFromLines {
                    let available = chunk.count - i
                    if available < fromPrefix.count {
                        // Too short to decide: keep it for the next read when it could still become "From ".
                        if chunk[i...].elementsEqual(fromPrefix[..<available]) && remaining > 0 {
                            carry = Array(chunk[i...])
                            break
                        }
                    } else if chunk[i..<(i + fromPrefix.count)].elementsEqual(fromPrefix) {
                        output.append(UInt8(ascii: ">"))
                    }
                }
                if let newline = chunk[i...].firstIndex(of: 10) {
                    output.append(chunk[i...newline])
                    i = newline + 1
                    atLineStart = true
                } else {
                    output.append(chunk[i...])
                    i = chunk.count
                    atLineStart = false
                }
                if output.count >= chunkSize { try flush(&output, to: &sink) }
            }
        }
        if length != nil && remaining > 0 {
            // Postfix marks a queue file whose content ends early as corrupt and defers the recipient.
            throw DeliveryFailure(dsn: "4.3.0", text: "error reading message: unexpected end of message content")
        }
        if !carry.isEmpty {
            output.append(carry)
            atLineStart = false
        }
        if wroteContent && !atLineStart { output.append(10) }
        if options.blankLineAtEnd { output.append(10) }
        try flush(&output, to: &sink)
    }

    private static func flush<Sink: MessageSink>(_ output: inout OutputBuffer, to sink: inout Sink)
        throws(DeliveryFailure)
    {
        do {
            try output.drain(into: &sink)
        } catch {
            throw SystemError.writeFailure(error.code)
        }
    }
}

/// A growable byte buffer that is emptied into a sink.
struct OutputBuffer {
    private var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity + 1024)
    }

    var count: Int { bytes.count }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }
    mutating func append<C: Collection>(_ more: C) where C.Element == UInt8 { bytes.append(contentsOf: more) }

    mutating func drain<Sink: MessageSink>(into sink: inout Sink) throws(SinkError) {
        guard !bytes.isEmpty else { return }
        let result: Result<Void, SinkError> = bytes.withUnsafeBytes { raw in
            do throws(SinkError) {
                try sink.write(raw)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        bytes.removeAll(keepingCapacity: true)
        try result.get()
    }
}
