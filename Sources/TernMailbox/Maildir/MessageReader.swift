import Glibc

/// Reads one message in pieces (FETCH BODY[]<partial>, POP3 RETR/TOP), never the whole message at once. A
/// message is a list of byte ranges of one file: the whole Maildir file, or the parts of an mbox that make it.
public struct MessageReader: ~Copyable {
    private let fd: Int32
    /// File ranges in message order.
    private let segments: [Range<Int>]
    public let size: Int
    private var offset = 0

    init(fd: Int32, size: Int) {
        self.init(fd: fd, segments: [0..<size])
    }

    init(fd: Int32, segments: [Range<Int>]) {
        self.fd = fd
        self.segments = segments
        size = segments.reduce(0) { $0 + $1.count }
    }

    deinit { close(fd) }

    /// The next up to `maxBytes` bytes; empty at the end.
    public mutating func read(upTo maxBytes: Int = 65536) throws(MailboxError) -> [UInt8] {
        let chunk = try read(at: offset, count: maxBytes)
        offset += chunk.count
        return chunk
    }

    /// Moves the position for `read(upTo:)`.
    public mutating func seek(to position: Int) { offset = max(0, position) }

    /// Up to `count` bytes at `position`, without moving the position.
    public func read(at position: Int, count: Int) throws(MailboxError) -> [UInt8] {
        if segments.count == 1, let only = segments.first {
            guard position < only.count else { return [] }
            return try Self.pread(fd, at: only.lowerBound + position, count: min(count, only.count - position))
        }
        var result: [UInt8] = []
        var skip = position
        for segment in segments where result.count < count {
            if skip >= segment.count {
                skip -= segment.count
                continue
            }
            let want = min(count - result.count, segment.count - skip)
            result += try Self.pread(fd, at: segment.lowerBound + skip, count: want)
            skip = 0
        }
        return result
    }

    /// Up to `count` bytes of `fd` at `position` (fewer at the end of the file).
    static func pread(_ fd: Int32, at position: Int, count: Int) throws(MailboxError) -> [UInt8] {
        guard count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes {
                Glibc.pread(fd, $0.baseAddress! + filled, count - filled, off_t(position + filled))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Posix.failure("pread", "message")
            }
            if n == 0 { break }
            filled += n
        }
        buffer.removeLast(count - filled)
        return buffer
    }

    /// The message size with every bare LF counted as CRLF (RFC822.SIZE, POP3 LIST): one pass in 64 KiB pieces.
    public func crlfSize() throws(MailboxError) -> Int {
        var counter = CRLFCounter()
        var position = 0
        while true {
            let chunk = try read(at: position, count: 65536)
            if chunk.isEmpty { break }
            counter.add(chunk)
            position += chunk.count
        }
        return counter.size
    }
}

/// Counts the CRLF size of bytes seen piece by piece.
struct CRLFCounter {
    private(set) var size = 0
    private var lastByte: UInt8 = 0

    mutating func add(_ bytes: [UInt8]) {
        var previous = lastByte
        var extra = 0
        for byte in bytes {
            if byte == 0x0A && previous != 0x0D { extra += 1 }
            previous = byte
        }
        if let last = bytes.last { lastByte = last }
        size += bytes.count + extra
    }
}

extension MaildirMailbox {
    /// Opens a message for reading. Follows the file when another session renamed it meanwhile.
    public func openMessage(uid: UInt32) throws(MailboxError) -> MessageReader {
        guard let index = index(of: uid) else { throw MailboxError.noSuchMessage(uid) }
        var path = messagePath(messages[index])
        var fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 && errno == ENOENT, let found = try locate(messages[index].baseName) {
            messages[index].directory = found.directory
            messages[index].fileName = found.name
            path = messagePath(messages[index])
            fd = open(path, O_RDONLY | O_CLOEXEC)
        }
        if fd < 0 {
            if errno == ENOENT { throw MailboxError.noSuchMessage(uid) }
            throw Posix.failure("open", path)
        }
        var st = stat()
        _ = fstat(fd, &st)
        return MessageReader(fd: fd, size: Int(st.st_size))
    }

    /// RFC822.SIZE / POP3 size: from `,W=` or the uidlist `W` field, else counted once and cached, in memory
    /// and (at the next sync) as a `W` field in dovecot-uidlist, as Dovecot caches it.
    public func virtualSize(uid: UInt32) throws(MailboxError) -> Int {
        guard let index = index(of: uid) else { throw MailboxError.noSuchMessage(uid) }
        if let known = messages[index].knownVirtualSize { return known }
        // Another session may have stored it since this one listed the message.
        if let stored = records[messages[index].baseName]?.value("W").flatMap({ Int($0) }) {
            messages[index].knownVirtualSize = stored
            return stored
        }
        let reader = try openMessage(uid: uid)
        let vsize = try reader.crlfSize()
        messages[index].knownVirtualSize = vsize
        pendingVirtualSizes[messages[index].baseName] = vsize
        return vsize
    }
}
