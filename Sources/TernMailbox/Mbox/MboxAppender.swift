import CTernSys
import Glibc

/// APPEND (and COPY, LMTP delivery) into an mbox, streamed: the message goes to an unlinked temporary file in
/// the mail root with CRLF turned into LF (Dovecot's mail_save_crlf = no); `commit()` adds it at the end of
/// the mbox under the write locks, with its UID, flags and keywords in Dovecot's headers.
final class MboxAppender: MailboxAppender {
    let location: MboxLocation
    let flags: MessageFlags
    let keywords: [String]
    let internalDate: Int?
    private var fd: Int32
    /// A CR at the end of the last piece, held back until the next byte shows whether it starts a CRLF.
    private var pendingCR = false
    private var written = 0

    init(location: MboxLocation, flags: MessageFlags, keywords: [String], internalDate: Int?) throws(MailboxError) {
        self.location = location
        self.flags = flags
        self.keywords = keywords
        self.internalDate = internalDate
        try Posix.makeDirectories(location.root)
        var template = Array((location.root + "/.tern-append.XXXXXX").utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw Posix.failure("mkstemp", location.root) }
        _ = tern_set_cloexec(fd, 1)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    deinit { abort() }

    func write(_ bytes: [UInt8]) throws(MailboxError) {
        precondition(fd >= 0, "write after commit or abort")
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 1)
        for byte in bytes {
            if pendingCR {
                pendingCR = false
                if byte != 0x0A { out.append(0x0D) }
            }
            if byte == 0x0D {
                pendingCR = true
            } else {
                out.append(byte)
            }
        }
        do {
            try Posix.writeAll(fd, out, path: location.root + "/.tern-append")
        } catch {
            abort()
            throw error
        }
        written += bytes.count
    }

    var size: Int { written }

    func commit() throws(MailboxError) -> UInt32 {
        precondition(fd >= 0, "commit twice")
        defer { abort() }
        if pendingCR { try Posix.writeAll(fd, [0x0D], path: location.root + "/.tern-append") }
        let message = MboxAppended(
            fd: fd, flags: flags, keywords: keywords, internalDate: internalDate ?? Posix.now().tv_sec)
        let result = try MboxFile.rewrite(location, appending: [message])
        return result.appended[0]
    }

    func abort() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }
}
