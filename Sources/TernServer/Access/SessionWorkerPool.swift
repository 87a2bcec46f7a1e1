import CTernSys
import Foundation
import Glibc
import Synchronization
import TernDelivery

/// Persistent mail session workers, one per uid/gid (DESIGN.md §2): `tern libexec mail-session --serve`
/// runs as the user and takes each new session of that user as a socket passed over its control socket
/// (SOCK_SEQPACKET, SCM_RIGHTS). Starting a process per login cost more than the whole IMAP session; a warm
/// worker costs a message. The worker reports each session's end with its session ID; the pool retires
/// workers idle for `idleTimeout` by closing their control socket (the worker then exits once its sessions
/// end), so a worker never exits under a session being handed to it. The pool also counts the sessions per
/// protocol, user and client address for mail_max_userip_connections (Dovecot's anvil does this there).
final class SessionWorkerPool: Sendable {
    private struct Worker {
        let pid: Int32
        let control: Int32
        var sessions: Int
        var idleSince: ContinuousClock.Instant
    }

    /// Who a worker runs as (nil: not switching users, the daemon's own ids).
    struct Key: Hashable, Sendable {
        let uid: UInt32
        let gid: UInt32
    }

    private let executable: String
    private let logDescriptor: Int32
    private let idleTimeout: Duration
    private let workers = Mutex<[Key?: Worker]>([:])
    /// The running sessions (by session ID) with their worker and user+address key, and the count per key.
    private let sessions = Mutex<(running: [String: (pid: Int32, key: String)], perUserIP: [String: Int])>(([:], [:]))
    /// Workers retired or found dead, still to be reaped.
    private let exited = Mutex<Set<Int32>>([])

    init(executable: String, logDescriptor: Int32, idleTimeout: Duration = .seconds(30)) {
        self.executable = executable
        self.logDescriptor = logDescriptor
        self.idleTimeout = idleTimeout
    }

    /// Hands the session on `socket` (closed here) to a worker for `credentials`; returns its pid. Refused
    /// (`.userIPLimit`) when the user has request.maxUserIPConnections sessions from the address already.
    func hand(_ request: MailSessionRequest, socket: Int32, credentials: SpawnCredentials?) throws(MailSessionLauncher.LaunchError)
        -> Int32
    {
        defer { close(socket) }
        let userIP = "\(request.protocolName)\0\(request.user)\0\(request.remoteIP)"
        let admitted = sessions.withLock { sessions in
            let limit = request.maxUserIPConnections
            if limit > 0 && sessions.perUserIP[userIP, default: 0] >= limit { return false }
            sessions.perUserIP[userIP, default: 0] += 1
            sessions.running[request.sessionID] = (0, userIP)
            return true
        }
        guard admitted else { throw .userIPLimit }
        let key = credentials.map { Key(uid: $0.uid, gid: $0.gid) }
        // A worker that died since its last session fails the send: start another and try once more.
        for _ in 0..<2 {
            let worker: Worker
            do {
                worker = try checkout(key, credentials)
            } catch {
                ended(sessionID: request.sessionID)
                throw error
            }
            if SessionBroker.send(SessionBroker.Envelope(id: 0, request: request), on: worker.control, attaching: socket) {
                // Set after the send: a session whose worker died before taking it is not ended twice.
                sessions.withLock { $0.running[request.sessionID]?.pid = worker.pid }
                return worker.pid
            }
            discard(key, pid: worker.pid)
        }
        ended(sessionID: request.sessionID)
        throw .spawn(EPIPE)
    }

    /// The sessions handed to a worker, as anvil names them (`imap/127.0.0.1/user`), with the worker's pid.
    func runningSessions() -> [(ident: String, pid: Int32)] {
        sessions.withLock { sessions in
            sessions.running.values.filter { $0.pid > 0 }.map { session in
                let parts = session.key.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
                return (AnvilServer.ident(service: parts[0], remoteIP: parts[2], user: parts[1]), session.pid)
            }
        }
    }

    private func ended(sessionID: String) {
        sessions.withLock { sessions in
            guard let session = sessions.running.removeValue(forKey: sessionID) else { return }
            let count = sessions.perUserIP[session.key] ?? 1
            sessions.perUserIP[session.key] = count > 1 ? count - 1 : nil
        }
    }

    private func checkout(_ key: Key?, _ credentials: SpawnCredentials?) throws(MailSessionLauncher.LaunchError) -> Worker {
        if let worker = workers.withLock({ pool -> Worker? in
            guard var worker = pool[key] else { return nil }
            worker.sessions += 1
            pool[key] = worker
            return worker
        }) {
            return worker
        }
        let worker = try start(credentials)
        workers.withLock { pool in
            if let old = pool[key] { shutdown(old.control, Int32(SHUT_RDWR)) }
            pool[key] = worker
        }
        watch(worker, key)
        return worker
    }

    private func start(_ credentials: SpawnCredentials?) throws(MailSessionLauncher.LaunchError) -> Worker {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw .spawn(errno)
        }
        let child = ChildProcess.spawn(
            path: executable, argv: [executable, "libexec", "mail-session", "--serve"],
            environment: ["PATH=/usr/bin:/bin"], stdin: fds[1], stdout: -1, stderr: logDescriptor,
            credentials: credentials, workingDirectory: "/")
        close(fds[1])
        guard let child else {
            close(fds[0])
            throw .spawn(errno)
        }
        return Worker(pid: child.pid, control: fds[0], sessions: 1, idleSince: .now)
    }

    /// Counts the worker's session ends (each a message with the session ID) until its control socket closes.
    private func watch(_ worker: Worker, _ key: Key?) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let n = recv(worker.control, &buffer, buffer.count, 0)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                ended(sessionID: String(decoding: buffer[..<n], as: UTF8.self))
                workers.withLock { pool in
                    guard var current = pool[key], current.pid == worker.pid else { return }
                    current.sessions = max(0, current.sessions - 1)
                    if current.sessions == 0 { current.idleSince = .now }
                    pool[key] = current
                }
            }
            discard(key, pid: worker.pid)
            close(worker.control)
        }
        thread.name = "tern-session-worker-\(worker.pid)"
        thread.start()
    }

    private func discard(_ key: Key?, pid: Int32) {
        workers.withLock { pool in
            if let current = pool[key], current.pid == pid {
                shutdown(current.control, Int32(SHUT_RDWR))
                pool[key] = nil
            }
        }
        exited.withLock { _ = $0.insert(pid) }
        // A worker that is gone ended its sessions (it may have died without reporting them).
        let orphans = sessions.withLock { sessions in sessions.running.filter { $0.value.pid == pid }.map(\.key) }
        for sessionID in orphans { ended(sessionID: sessionID) }
    }

    /// Retires workers idle for longer than the timeout and reaps those that exited.
    func sweep() {
        let now = ContinuousClock.now
        let retired = workers.withLock { pool -> [(Key?, Worker)] in
            let idle = pool.filter { $0.value.sessions == 0 && now - $0.value.idleSince > idleTimeout }
            for (key, _) in idle { pool[key] = nil }
            return idle.map { ($0.key, $0.value) }
        }
        for (_, worker) in retired {
            shutdown(worker.control, Int32(SHUT_RDWR))
            exited.withLock { _ = $0.insert(worker.pid) }
        }
        exited.withLock { pids in
            for pid in pids {
                var status: Int32 = 0
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid || (result < 0 && errno == ECHILD) { pids.remove(pid) }
            }
        }
    }

    /// Daemon shutdown: every worker is told to stop, sessions included.
    func terminateAll() {
        let all = workers.withLock { pool in
            defer { pool.removeAll() }
            return Array(pool.values)
        }
        for worker in all {
            kill(worker.pid, SIGTERM)
            shutdown(worker.control, Int32(SHUT_RDWR))
        }
    }
}
