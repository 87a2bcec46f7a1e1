import Foundation
import Glibc

/// One SMTP reply as the client read it: `250-first`, `250 last` become code 250 and two lines of text.
struct SMTPTestReply: CustomStringConvertible {
    var code: Int
    /// The text of each line, without the code and separator.
    var lines: [String]

    var text: String { lines.joined(separator: "\n") }
    var last: String { lines.last ?? "" }
    var description: String { lines.map { "\(code) \($0)" }.joined(separator: " | ") }

    /// The queue ID of `250 2.0.0 Ok: queued as 3F1A2B4C5D`.
    var queueID: String? {
        guard code == 250, let range = last.range(of: "queued as ") else { return nil }
        let id = last[range.upperBound...].prefix { !$0.isWhitespace }
        return id.isEmpty ? nil : String(id)
    }
}

enum SMTPTestError: Error, CustomStringConvertible {
    case connect(port: Int, errno: Int32)
    case timeout(String)
    case closed(String)
    case io(String, Int32)
    case malformed(String)

    var description: String {
        switch self {
        case .connect(let port, let code): return "connect to 127.0.0.1:\(port): \(String(cString: strerror(code)))"
        case .timeout(let what): return "timed out \(what)"
        case .closed(let what): return "connection closed \(what)"
        case .io(let what, let code): return "\(what): \(String(cString: strerror(code)))"
        case .malformed(let line): return "malformed reply line: \(line)"
        }
    }
}

/// A blocking SMTP client over a plain TCP socket, for end-to-end tests. Every read and write has a timeout
/// (SO_RCVTIMEO / SO_SNDTIMEO); writes never raise SIGPIPE (MSG_NOSIGNAL), so a test survives a server that
/// dies under it.
final class SMTPTestClient {
    private var fd: Int32
    private var buffer: [UInt8] = []
    /// Everything the server sent, for failure messages.
    private(set) var transcript: [String] = []

    /// `source`: the local address to connect from (e.g. 127.0.0.2, a client outside mynetworks).
    init(port: Int, timeout: Double = 10, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SMTPTestError.io("socket", errno) }
        if let source { try bind(to: source) }
        var seconds = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let code = errno
            Glibc.close(fd)
            fd = -1
            throw SMTPTestError.connect(port: port, errno: code)
        }
    }

    deinit { close() }

    private func bind(to source: String) throws {
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let result = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let code = errno
            close()
            throw SMTPTestError.io("bind \(source)", code)
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Sends raw text (CRLF line ends are the caller's business).
    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw SMTPTestError.timeout("writing") }
                throw SMTPTestError.io("send", errno)
            }
            offset += n
        }
    }

    /// Reads one (possibly multi-line) reply.
    func readReply() throws -> SMTPTestReply {
        var lines: [String] = []
        while true {
            let line = try readLine()
            transcript.append(line)
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)) else {
                throw SMTPTestError.malformed(line)
            }
            let separator = bytes.count > 3 ? bytes[3] : UInt8(ascii: " ")
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if separator != UInt8(ascii: "-") { return SMTPTestReply(code: code, lines: lines) }
        }
    }

    /// Sends `line` + CRLF and reads the reply.
    func command(_ line: String) throws -> SMTPTestReply {
        try send(line + "\r\n")
        return try readReply()
    }

    /// Sends message content (LF or CRLF line ends, dot-stuffing applied here) and the final dot; returns the
    /// reply to the end of data.
    func sendContent(_ content: String) throws -> SMTPTestReply {
        try send(Self.encodeContent(content))
        return try readReply()
    }

    /// Message content as DATA sends it: CRLF line ends, leading dots doubled, `.` CRLF at the end.
    static func encodeContent(_ content: String) -> String {
        var lines = content.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var out = ""
        for line in lines {
            out += (line.hasPrefix(".") ? "." + line : line) + "\r\n"
        }
        return out + ".\r\n"
    }

    /// Reads until EOF or timeout; true when the server closed the connection.
    func waitForClose() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    private func readLine() throws -> String {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw SMTPTestError.closed("while reading a reply (so far: \(transcript.suffix(3)))") }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw SMTPTestError.timeout("reading a reply (so far: \(transcript.suffix(3)))")
                }
                throw SMTPTestError.io("recv", errno)
            }
            buffer += chunk[..<n]
        }
    }
}

extension SMTPTestClient {
    /// The usual sequence after connecting: the banner and EHLO. Returns the EHLO reply.
    @discardableResult
    func greet(_ name: String = "client.e2e.test") throws -> SMTPTestReply {
        let banner = try readReply()
        guard banner.code == 220 else { throw SMTPTestError.malformed("banner \(banner)") }
        return try command("EHLO \(name)")
    }

    /// MAIL, RCPT for each recipient, DATA, content. Returns the reply to the end of data (or the first
    /// failing reply of MAIL/DATA, or of RCPT when no recipient was accepted).
    func sendMail(from sender: String, to recipients: [String], content: String) throws -> SMTPTestReply {
        let mail = try command("MAIL FROM:<\(sender)>")
        guard mail.code == 250 else { return mail }
        var lastRejection: SMTPTestReply?
        var accepted = 0
        for recipient in recipients {
            let reply = try command("RCPT TO:<\(recipient)>")
            if reply.code == 250 { accepted += 1 } else { lastRejection = reply }
        }
        if accepted == 0, let lastRejection {
            _ = try command("RSET")
            return lastRejection
        }
        let data = try command("DATA")
        guard data.code == 354 else { return data }
        return try sendContent(content)
    }
}
