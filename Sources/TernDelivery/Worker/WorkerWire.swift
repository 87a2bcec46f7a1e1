import CTernSys
import Foundation
import Glibc

/// The byte format between the root master and a persistent delivery worker (`tern libexec deliver --serve`),
/// over a unix stream socketpair that is the worker's stdin:
///
///     master → worker:  <DeliveryWorkRequest as one JSON line> LF, in one sendmsg(2) whose first byte carries
///                       the open queue file (SCM_RIGHTS); contentOffset and contentLength say where the
///                       message is in it
///     worker → master:  <DeliveryWorkResult as one JSON line> LF
///
/// JSON never contains a raw newline (strings escape it), so LF frames both directions. A worker handles one
/// request at a time; the master sends the next one only after reading the answer.
enum WorkerWire {
    /// Longest request line accepted; real requests are a few kilobytes (header lines, paths, environment).
    static let maximumRequestLength = 1 << 20
    /// Longest result line accepted; a result is a status text and a few warnings.
    static let maximumResultLength = 64 << 10

    static func encode(_ request: DeliveryWorkRequest) throws -> [UInt8] {
        try line(for: request)
    }

    static func encode(_ result: DeliveryWorkResult) -> [UInt8] {
        if let bytes = try? line(for: result) { return bytes }
        // Encoding a struct of strings cannot fail in practice; answer with something the master can parse.
        return Array(
            "{\"dsn\":\"4.3.0\",\"outcome\":\"deferred\",\"text\":\"cannot encode result\",\"warnings\":[]}\n".utf8)
    }

    private static func line(for value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(value))
        bytes.append(10)
        return bytes
    }

    static func decodeRequest(_ line: [UInt8]) -> Result<DeliveryWorkRequest, DeliveryFailure> {
        do {
            return .success(try JSONDecoder().decode(DeliveryWorkRequest.self, from: Data(line)))
        } catch {
            return .failure(DeliveryFailure(dsn: "4.3.0", text: "malformed delivery request: \(error)"))
        }
    }

    static func decodeResult(_ line: some Collection<UInt8>) -> DeliveryWorkResult? {
        try? JSONDecoder().decode(DeliveryWorkResult.self, from: Data(line))
    }

    /// Sends `bytes` over `socket`, with `descriptor` (when given) attached to the first byte. Returns 0, or
    /// the errno of the failure (EPIPE when the peer is gone; SIGPIPE is never raised).
    static func send(_ bytes: [UInt8], descriptor: Int32? = nil, over socket: Int32) -> Int32 {
        var offset = 0
        var attach = descriptor ?? -1
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                tern_send_fd(socket, raw.baseAddress! + offset, raw.count - offset, attach)
            }
            if n < 0 { return errno }
            offset += n
            attach = -1
        }
        return 0
    }
}

/// Reads LF-terminated lines, and the descriptors sent with them, from a stream socket. A descriptor is handed
/// out with the line it was sent with (see `WorkerWire.send`).
struct WireReader {
    enum Event {
        /// One line without its LF, and the descriptor that came with it.
        case line([UInt8], descriptor: Int32?)
        /// The peer closed the connection (bytes of an unfinished line are dropped).
        case end
        /// A line longer than the limit: the stream cannot be resynchronised.
        case tooLong
        case timedOut
        case failed(Int32)
    }

    let socket: Int32
    let maximumLineLength: Int
    private var pending: [UInt8] = []
    /// Descriptors received and not yet handed out, with a position in `pending` inside their line.
    private var descriptors: [(position: Int, fd: Int32)] = []

    init(socket: Int32, maximumLineLength: Int) {
        self.socket = socket
        self.maximumLineLength = maximumLineLength
    }

    /// The next line, waiting until `deadline` (nil: for ever).
    mutating func next(until deadline: Deadline?) -> Event {
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                var descriptor: Int32?
                var rest: [(position: Int, fd: Int32)] = []
                for entry in descriptors {
                    if entry.position <= newline {
                        if descriptor == nil { descriptor = entry.fd } else { close(entry.fd) }
                    } else {
                        rest.append((entry.position - newline - 1, entry.fd))
                    }
                }
                descriptors = rest
                return .line(line, descriptor: descriptor)
            }
            if pending.count > maximumLineLength { return .tooLong }
            if let deadline {
                var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                let timeout = deadline.remainingMilliseconds
                if timeout == 0 { return .timedOut }
                let ready = poll(&poller, 1, timeout)
                if ready < 0 && errno != EINTR { return .failed(errno) }
                if ready <= 0 { continue }
            }
            var received: Int32 = -1
            let n = buffer.withUnsafeMutableBytes { tern_recv_fd(socket, $0.baseAddress, $0.count, &received) }
            if n < 0 {
                if received >= 0 { close(received) }
                if errno == EAGAIN || errno == EINTR { continue }
                return .failed(errno)
            }
            if n == 0 {
                if received >= 0 { close(received) }
                return .end
            }
            pending += buffer[..<n]
            // A unix stream socket may join data sent without a descriptor to the front of data sent with one,
            // but stops reading right after the first piece that carried one. As each line goes out in its own
            // sendmsg(2) with the descriptor on its first byte, the descriptor belongs to the line that holds
            // the last byte read.
            if received >= 0 { descriptors.append((pending.count - 1, received)) }
        }
    }

    /// Closes descriptors received but never handed out.
    mutating func closeDescriptors() {
        descriptors.forEach { close($0.fd) }
        descriptors.removeAll()
    }
}
