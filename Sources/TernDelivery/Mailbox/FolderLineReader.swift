import Glibc

/// Reads a byte range of a file as lines without ever holding more than one bounded buffer: a line longer
/// than `maxPiece` comes out as several pieces, and only the first has `atLineStart`. mail(1) uses it to scan
/// mailboxes and to copy messages, so a huge line or binary junk costs time, never unbounded memory.
struct FolderLineReader {
    struct Piece {
        var bytes: ArraySlice<UInt8>
        /// The piece starts a line (the previous piece ended with a newline).
        var atLineStart: Bool
        /// File offset of the first byte.
        var offset: Int

        var endsLine: Bool { bytes.last == 0x0A }
        /// An empty line (`\n` or `\r\n`): the end of a header, or the blank line before an mbox `From `.
        var isBlankLine: Bool {
            atLineStart && (bytes.elementsEqual([0x0A]) || bytes.elementsEqual([0x0D, 0x0A]))
        }

        func starts(with prefix: String) -> Bool { atLineStart && bytes.starts(with: prefix.utf8) }
    }

    /// Longest piece; also the read size.
    static let maxPiece = 64 * 1024

    private let fd: Int32
    private var nextRead: Int
    private let end: Int
    private var buffer: [UInt8] = []
    private var cursor = 0
    private var bufferOffset: Int
    private var atLineStart = true
    private var exhausted = false

    /// Reads `fd` from `start` up to `end` (nil: end of file) with pread(2), leaving the file offset alone.
    init(fd: Int32, start: Int = 0, end: Int? = nil) {
        self.fd = fd
        self.nextRead = start
        self.bufferOffset = start
        self.end = end ?? Int.max
    }

    mutating func next() -> Piece? {
        while true {
            let pending = buffer.count - cursor
            if let newline = buffer[cursor...].firstIndex(of: 0x0A) {
                return take(newline + 1 - cursor)
            }
            if exhausted || pending >= Self.maxPiece {
                return pending > 0 ? take(min(pending, Self.maxPiece)) : nil
            }
            refill()
        }
    }

    private mutating func take(_ count: Int) -> Piece {
        let piece = Piece(
            bytes: buffer[cursor..<(cursor + count)], atLineStart: atLineStart, offset: bufferOffset + cursor)
        cursor += count
        atLineStart = piece.endsLine
        return piece
    }

    private mutating func refill() {
        buffer.removeFirst(cursor)
        bufferOffset += cursor
        cursor = 0
        let wanted = min(Self.maxPiece, end - nextRead)
        guard wanted > 0 else {
            exhausted = true
            return
        }
        let kept = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: wanted))
        var got = 0
        repeat {
            got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + kept, wanted, off_t(nextRead)) }
        } while got < 0 && errno == EINTR
        buffer.removeLast(wanted - max(0, got))
        if got <= 0 { exhausted = true } else { nextRead += got }
    }
}
