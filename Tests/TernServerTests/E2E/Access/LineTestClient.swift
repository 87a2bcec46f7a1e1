import Foundation
import Glibc

/// A blocking line client for POP3 and IMAP end-to-end tests: CRLF lines, optional source address, every
/// read with a timeout (SO_RCVTIMEO) and no SIGPIPE on writes.
final class LineTestClient {
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, source: String? = nil, timeout: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SMTPTestError.io("socket", errno) }
        var seconds = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = Self.address(source, port: 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw SMTPTestError.io("bind \(source)", errno) }
        }
        var remote = Self.address("127.0.0.1", port: port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw SMTPTestError.connect(port: port, errno: errno) }
    }

    /// A client of a unix socket (LMTP).
    init(unixPath: String, timeout: Int = 10) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SMTPTestError.io("socket", errno) }
        var seconds = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(unixPath.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw SMTPTestError.io("connect \(unixPath)", errno) }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    private static func address(_ host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }

    func send(_ line: String) throws {
        try sendRaw(Array((line + "\r\n").utf8))
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw SMTPTestError.io("send", errno) }
            offset += n
        }
    }

    /// One line without its CRLF.
    func readLine() throws -> String {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw SMTPTestError.closed("by the server") }
            guard n > 0 else { throw SMTPTestError.timeout("reading a line (\(String(cString: strerror(errno))))") }
            buffer += chunk[..<n]
        }
    }

    /// What the server sent next, as it came (the rest of the line buffer first); empty at EOF.
    func readRaw() throws -> [UInt8] {
        if !buffer.isEmpty {
            defer { buffer.removeAll() }
            return buffer
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { throw SMTPTestError.timeout("reading (\(String(cString: strerror(errno))))") }
        return Array(chunk[..<n])
    }

    /// Sends a command, returns the first reply line.
    func command(_ line: String) throws -> String {
        try send(line)
        return try readLine()
    }

    /// A POP3 multi-line answer: the status line, then the lines up to `.` (still dot-stuffed).
    func multiline(_ line: String) throws -> (status: String, lines: [String]) {
        let status = try command(line)
        guard status.hasPrefix("+OK") else { return (status, []) }
        var lines: [String] = []
        while true {
            let next = try readLine()
            if next == "." { return (status, lines) }
            lines.append(next)
        }
    }

    /// An IMAP command with tag `tag`: the untagged lines and the tagged completion.
    func imap(_ tag: String, _ command: String) throws -> (untagged: [String], completion: String) {
        try send("\(tag) \(command)")
        var untagged: [String] = []
        while true {
            let line = try readLine()
            if line.hasPrefix(tag + " ") { return (untagged, line) }
            untagged.append(line)
        }
    }

    /// Whether the server closed the connection (reads until EOF or timeout).
    func waitForClose() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return false }
        }
    }
}
