import Foundation
import Synchronization

/// A Postfix policy server on 127.0.0.1 for end-to-end tests: reads `name=value` requests up to the empty
/// line, answers `action=...` from `decide`, keeps each connection open for further requests (smtpd reuses
/// them), and records requests and connections.
final class PolicyTestServer: Sendable {
    let port: Int
    private let listener: Int32
    private let decide: @Sendable ([String: String]) -> String
    private let record = Mutex<(requests: [[String: String]], connections: Int)>(([], 0))

    var requests: [[String: String]] { record.withLock { $0.requests } }
    var connections: Int { record.withLock { $0.connections } }

    init(decide: @escaping @Sendable ([String: String]) -> String) throws {
        self.decide = decide
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting (the accept thread ends when the socket is shut down).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            record.withLock { $0.connections += 1 }
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return }
            pending += buffer[..<n]
            while let end = Self.requestEnd(pending) {
                let text = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 2)
                var attributes: [String: String] = [:]
                for line in text.split(separator: "\n") {
                    guard let equals = line.firstIndex(of: "=") else { continue }
                    attributes[String(line[..<equals])] = String(line[line.index(after: equals)...])
                }
                record.withLock { $0.requests.append(attributes) }
                let reply = Array("action=\(decide(attributes))\n\n".utf8)
                if send(fd, reply, reply.count, Int32(MSG_NOSIGNAL)) != reply.count { return }
            }
        }
    }

    private static func requestEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for i in 0..<(bytes.count - 1) where bytes[i] == 10 && bytes[i + 1] == 10 { return i }
        return nil
    }
}
