import Glibc

/// The session's socket as a session step uses it on its pool thread: output collected and written in
/// 64 KiB pieces straight to the socket, and the client's next command read straight from it. The event loop
/// only watches sessions that wait for their client, so a busy session's command costs no thread switch.
/// A step waits for each piece to be written, so a client that reads slowly slows its own session down
/// instead of filling the worker's memory.
///
/// Used by one step at a time on a thread-pool thread, never on the event loop (it waits there). The socket is
/// non-blocking (NIO's channel owns another descriptor of it), so waits go through poll(2).
final class SessionOutput: @unchecked Sendable {
    struct Closed: Error {}

    static let pieceSize = 1 << 16
    /// A client that takes none of our output for this long is gone.
    static let writeTimeoutMilliseconds: Int32 = 10 * 60 * 1000

    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(descriptor: Int32) { self.descriptor = descriptor }

    func write(_ bytes: [UInt8]) throws(Closed) {
        buffer += bytes
        if buffer.count >= Self.pieceSize { try flush() }
    }

    func write(_ text: String) throws(Closed) { try write(Array(text.utf8)) }

    /// Writes the collected bytes; returns once the kernel has all of them.
    func flush() throws(Closed) {
        var offset = 0
        defer { buffer.removeAll(keepingCapacity: buffer.count <= Self.pieceSize) }
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(for: Int16(POLLOUT), milliseconds: Self.writeTimeoutMilliseconds) else { throw Closed() }
            } else {
                throw Closed()
            }
        }
    }

    enum Input {
        case bytes([UInt8])
        case closed
    }

    /// The client's next bytes if they arrive within `milliseconds` (nil: nothing came).
    func read(within milliseconds: Int32) -> Input? {
        guard wait(for: Int16(POLLIN), milliseconds: milliseconds) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if n > 0 { return .bytes(Array(bytes[..<n])) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return nil }
            return .closed
        }
    }

    /// Whether the socket became ready for `events` (or has an error or hangup to report) in time.
    private func wait(for events: Int16, milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        while true {
            let n = poll(&entry, 1, milliseconds)
            if n < 0 && errno == EINTR { continue }
            return n > 0
        }
    }
}
