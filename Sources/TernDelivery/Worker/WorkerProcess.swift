import CTernSys
import Glibc

/// A worker that could not be started at all (no socket, fork failed).
public struct DeliveryWorkerError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public var description: String { "delivery worker: \(operation): \(SystemError.text(code))" }
}

/// The master's handle on one persistent delivery worker (`tern libexec deliver --serve`, DESIGN.md §2): a
/// process running as one user that carries out requests one at a time (`WorkerWire`). Every method blocks;
/// call them from a dedicated thread. A handle is used by one caller at a time (the pool checks it out).
public struct WorkerProcess: Sendable {
    /// Whom a worker runs as; the pool keeps workers apart by it.
    public struct Credentials: Hashable, Sendable {
        public let uid: UInt32
        public let gid: UInt32
        public let groups: [UInt32]

        public init(uid: UInt32, gid: UInt32, groups: [UInt32]) {
            self.uid = uid
            self.gid = gid
            self.groups = groups
        }

        public init(_ request: DeliveryWorkRequest) {
            let groups = request.groups.isEmpty ? [request.gid] : request.groups
            self.init(uid: request.uid, gid: request.gid, groups: groups)
        }
    }

    /// What became of one request.
    public enum Outcome: Sendable, Equatable {
        /// The worker answered and can take the next request.
        case completed(DeliveryWorkResult)
        /// The worker was gone, or died before answering (it has been reaped): another worker may succeed.
        case lost(String)
        /// The worker overran the time limit or broke the protocol; it has been killed and reaped.
        case failed(String)
    }

    public let pid: Int32
    /// The master's end of the socketpair whose other end is the worker's stdin.
    let socket: Int32

    /// Starts `executable arguments...` in a session of its own, switched to `credentials` when given (that
    /// takes root), with one end of a new socketpair as stdin, /dev/null as stdout and our stderr.
    public static func start(
        executable: String, arguments: [String], credentials: Credentials?, environment: [String]
    ) throws(DeliveryWorkerError) -> WorkerProcess {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw DeliveryWorkerError(operation: "socketpair", code: errno)
        }
        let child = ChildProcess.spawn(
            path: executable, argv: [executable] + arguments, environment: environment, stdin: pair[1], stdout: -1,
            stderr: 2, credentials: credentials.map { SpawnCredentials(uid: $0.uid, gid: $0.gid, groups: $0.groups) },
            workingDirectory: "/")
        let code = errno
        // The child has its own copy; keeping ours open would hide its exit from the reads below.
        close(pair[1])
        guard let child else {
            close(pair[0])
            throw DeliveryWorkerError(operation: "fork", code: code)
        }
        return WorkerProcess(pid: child.pid, socket: pair[0])
    }

    /// Sends `request` with `content` (the message is at `request.contentOffset` in it) and waits up to
    /// `timeLimit` seconds for the answer.
    public func perform(_ request: DeliveryWorkRequest, content: Int32, timeLimit: Int) -> Outcome {
        let line: [UInt8]
        do {
            line = try WorkerWire.encode(request)
        } catch {
            return .completed(.failed(DeliveryFailure(dsn: "4.3.0", text: "cannot encode delivery request: \(error)")))
        }
        let deadline = Deadline(secondsFromNow: timeLimit)
        let sent = WorkerWire.send(line, descriptor: content, over: socket)
        if sent != 0 && sent != EPIPE && sent != ECONNRESET {
            return .failed(terminate(reason: "delivery worker: send: \(SystemError.text(sent))"))
        }
        // After EPIPE the worker is gone; reading to EOF below reaps it and tells why.
        var reader = WireReader(socket: socket, maximumLineLength: WorkerWire.maximumResultLength)
        defer { reader.closeDescriptors() }
        switch reader.next(until: deadline) {
        case .line(let answer, let descriptor):
            if let descriptor { close(descriptor) }
            guard let result = WorkerWire.decodeResult(answer) else {
                return .failed(terminate(reason: "delivery worker sent a malformed result"))
            }
            return .completed(result)
        case .end, .failed:
            return .lost(reap(credentials: Credentials(request)))
        case .tooLong:
            return .failed(terminate(reason: "delivery worker sent a malformed result"))
        case .timedOut:
            return .failed(terminate(reason: "delivery worker time limit exceeded"))
        }
    }

    /// Retires an idle worker: closing our end is its EOF, on which it exits; one that does not within a few
    /// seconds is killed. Reaps it.
    public func stop() {
        close(socket)
        _ = ChildProcess(pid: pid).wait(until: Deadline(secondsFromNow: 5))
    }

    /// Whether the worker has exited on its own (an idle worker should not); reaps it if so and closes our end.
    public func hasExited() -> Bool {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid || (result < 0 && errno == ECHILD) else { return false }
        close(socket)
        return true
    }

    /// Kills the worker and its process group (commands it started), reaps it and returns `reason`.
    private func terminate(reason: String) -> String {
        let child = ChildProcess(pid: pid)
        child.kill()
        close(socket)
        _ = child.wait(until: Deadline(secondsFromNow: 5))
        return reason
    }

    /// After EOF from a worker: waits for its exit and says why it ended without an answer.
    private func reap(credentials: Credentials) -> String {
        close(socket)
        let (status, killed) = ChildProcess(pid: pid).wait(until: Deadline(secondsFromNow: 5))
        let signal = status & 0x7f
        let exitCode = (status >> 8) & 0xff
        if killed || signal != 0 {
            return "delivery worker killed by signal \(killed ? SIGKILL : signal)"
        } else if exitCode == 126 {
            return "delivery worker cannot switch to uid \(credentials.uid) gid \(credentials.gid)"
        } else if exitCode == 127 {
            return "delivery worker cannot be executed"
        }
        return "delivery worker exit status \(exitCode) without a result"
    }
}
