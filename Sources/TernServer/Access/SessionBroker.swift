import CTernSys
import Foundation
import Glibc
import Synchronization

/// The seam between the unprivileged login process and the root master (DESIGN.md §2): the login process
/// sends a `MailSessionRequest` with the session's socket attached (SCM_RIGHTS) over a SOCK_SEQPACKET pair;
/// the master starts the worker as the user and answers with its pid or the failure.
enum SessionBroker {
    struct Envelope: Codable, Sendable {
        var id: UInt32
        var request: MailSessionRequest?
        var pid: Int32?
        var error: String?
        /// The session was refused by mail_max_userip_connections.
        var refused: Bool?
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let maximumMessage = 65536

    /// A seqpacket socket pair: [master end, login end].
    static func makePair() throws -> (master: Int32, login: Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw Failure(description: "socketpair() failed: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    static func send(_ envelope: Envelope, on socket: Int32, attaching fd: Int32 = -1) -> Bool {
        guard let data = try? JSONEncoder().encode(envelope) else { return false }
        return data.withUnsafeBytes { tern_send_fd(socket, $0.baseAddress, $0.count, fd) } == data.count
    }

    /// Messages (with any attached descriptor) read on a thread of their own until the other end closes.
    static func messages(on socket: Int32, name: String) -> AsyncStream<(Envelope, Int32)> {
        AsyncStream { continuation in
            let thread = Thread {
                var buffer = [UInt8](repeating: 0, count: maximumMessage)
                while true {
                    var fd: Int32 = -1
                    let n = buffer.withUnsafeMutableBytes { tern_recv_fd(socket, $0.baseAddress, $0.count, &fd) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    guard let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(buffer[..<n])) else {
                        if fd >= 0 { close(fd) }
                        continue
                    }
                    continuation.yield((envelope, fd))
                }
                continuation.finish()
            }
            thread.name = name
            thread.start()
        }
    }

    /// The master's side: starts a worker per request until the login process closes its end.
    static func serve(socket: Int32, launcher: MailSessionLauncher, log: DovecotLog) async {
        await withDiscardingTaskGroup { group in
            for await (envelope, fd) in messages(on: socket, name: "tern-session-broker") {
                guard let request = envelope.request, fd >= 0 else {
                    if fd >= 0 { close(fd) }
                    continue
                }
                group.addTask {
                    var reply = Envelope(id: envelope.id)
                    do {
                        reply.pid = try await launcher.launch(request, socket: fd)
                    } catch MailSessionLauncher.LaunchError.userIPLimit {
                        reply.refused = true
                    } catch {
                        log.log(request.logPrefix, .error, "\(error)")
                        reply.error = "\(error)"
                    }
                    _ = send(reply, on: socket)
                }
            }
        }
    }

    /// The login process's side: one request at a time per session, answers matched by id.
    final class Client: Sendable {
        private let socket: Int32
        private let state = Mutex<(next: UInt32, waiting: [UInt32: CheckedContinuation<Envelope, Never>])>((1, [:]))

        init(socket: Int32) { self.socket = socket }

        /// Reads answers until the master goes away (then every waiting launch fails).
        func run() async {
            for await (envelope, fd) in messages(on: socket, name: "tern-broker-client") {
                if fd >= 0 { close(fd) }
                let waiter = state.withLock { $0.waiting.removeValue(forKey: envelope.id) }
                waiter?.resume(returning: envelope)
            }
            let waiters = state.withLock { state in
                defer { state.waiting.removeAll() }
                return Array(state.waiting.values)
            }
            for waiter in waiters { waiter.resume(returning: Envelope(id: 0, error: "the master is gone")) }
        }

        /// Hands `request` and the session's socket (closed here) to the master.
        func launch(_ request: MailSessionRequest, socket sessionSocket: Int32) async throws -> Int32 {
            defer { close(sessionSocket) }
            let reply = await withCheckedContinuation { continuation in
                let id = state.withLock { state in
                    let id = state.next
                    state.next &+= 1
                    state.waiting[id] = continuation
                    return id
                }
                if !SessionBroker.send(Envelope(id: id, request: request), on: socket, attaching: sessionSocket) {
                    let waiter = state.withLock { $0.waiting.removeValue(forKey: id) }
                    waiter?.resume(returning: Envelope(id: id, error: "sendmsg() failed: \(String(cString: strerror(errno)))"))
                }
            }
            if let pid = reply.pid { return pid }
            if reply.refused == true { throw MailSessionLauncher.LaunchError.userIPLimit }
            throw Failure(description: reply.error ?? "no answer")
        }
    }
}
