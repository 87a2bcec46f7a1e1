import Glibc

/// The mail session's end of the socket pair to its login process, used with blocking calls: a session
/// worker serves one client, so it has nothing else to do while it waits.
struct SessionSocket {
    enum Failure: Error { case closed, io(Int32) }

    let fd: Int32
    private(set) var inputBytes = 0
    private(set) var outputBytes = 0

    init(fd: Int32) { self.fd = fd }

    /// Waits up to `timeout` milliseconds (-1: for ever) for input. nil: the time ran out; [] never (EOF throws).
    mutating func read(timeout: Int32) throws(Failure) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&poller, 1, timeout)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw .io(errno) }
            if ready == 0 { return nil }
            break
        }
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw errno == ECONNRESET ? .closed : .io(errno) }
            if n == 0 { throw .closed }
            inputBytes += n
            return Array(buffer[..<n])
        }
    }

    mutating func write(_ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw errno == EPIPE || errno == ECONNRESET ? .closed : .io(errno) }
            offset += n
        }
        outputBytes += bytes.count
    }

    mutating func write(_ text: String) throws(Failure) { try write(Array(text.utf8)) }
}
