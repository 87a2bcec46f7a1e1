/// Turns a stored message (LF or CRLF line ends, read in pieces) into RETR/TOP wire form: CRLF line ends,
/// lines starting with `.` doubled (RFC 1939 §3), for TOP only the header and the first `bodyLines` lines of
/// the body, and the terminating `.` line. Bounded: it keeps at most one pending CR between pieces.
public struct POP3MessageEncoder: Sendable {
    private let bodyLines: Int?
    private var atLineStart = true
    private var inBody = false
    private var lineWasEmpty = true
    private var bodyLinesSent = 0
    private var pendingCR = false
    /// Set once TOP has all the lines it wants: the rest of the message need not be read.
    public private(set) var isComplete = false

    public init(bodyLines: Int?) {
        self.bodyLines = bodyLines
    }

    /// The wire bytes for the next piece of the stored message.
    public mutating func encode(_ piece: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        let done: Void? = piece.withContiguousStorageIfAvailable { encode($0, into: &out) }
        if done == nil { Array(piece).withUnsafeBufferPointer { encode($0, into: &out) } }
        return out
    }

    /// Copies runs of ordinary bytes whole: RETR of a large mailbox is mostly this loop.
    private mutating func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.reserveCapacity(piece.count + piece.count / 32 + 8)
        var index = 0
        while index < piece.count, !isComplete {
            let byte = piece[index]
            if pendingCR {
                pendingCR = false
                if byte != 0x0A { appendByte(0x0D, into: &out) }
            }
            if byte == 0x0D || byte == 0x0A {
                if byte == 0x0D { pendingCR = true } else { appendByte(byte, into: &out) }
                index += 1
                continue
            }
            var end = index + 1
            while end < piece.count, piece[end] != 0x0A, piece[end] != 0x0D { end += 1 }
            appendByte(byte, into: &out)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: piece[(index + 1)..<end]))
            index = end
        }
    }

    private mutating func appendByte(_ byte: UInt8, into out: inout [UInt8]) {
        if byte == 0x0A {
            out.append(0x0D)
            out.append(0x0A)
            endLine()
            return
        }
        if atLineStart {
            if byte == UInt8(ascii: ".") { out.append(byte) }
            atLineStart = false
        }
        lineWasEmpty = false
        out.append(byte)
    }

    private mutating func endLine() {
        if inBody {
            bodyLinesSent += 1
            if let bodyLines, bodyLinesSent >= bodyLines { isComplete = true }
        } else if lineWasEmpty {
            // The empty line ends the header; TOP n 0 stops here.
            inBody = true
            if bodyLines == 0 { isComplete = true }
        }
        atLineStart = true
        lineWasEmpty = true
    }

    /// The end of the stored message: a line end if the last line had none, then `.`.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if pendingCR && !isComplete {
            pendingCR = false
            appendByte(0x0D, into: &out)
        }
        if !atLineStart && !isComplete { out += [0x0D, 0x0A] }
        isComplete = true
        return out + Array(".\r\n".utf8)
    }
}
