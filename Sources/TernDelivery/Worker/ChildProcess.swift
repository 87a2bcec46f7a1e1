import CTernSys
import Glibc

/// The uid, gid and supplementary groups a child process is switched to (setgroups, setgid, setuid).
public struct SpawnCredentials: Sendable {
    public let uid: UInt32
    public let gid: UInt32
    public let groups: [UInt32]
    /// A group the child may switch its effective gid to for a moment (kept as its real gid):
    /// mail_privileged_group.
    public let privilegedGID: UInt32?

    public init(uid: UInt32, gid: UInt32, groups: [UInt32], privilegedGID: UInt32? = nil) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.privilegedGID = privilegedGID
    }
}

/// A child started through `tern_spawn` (fork + optional id switch + execve, async-signal-safe in between),
/// in its own session so that a time limit can kill it together with its offspring.
public struct ChildProcess: Sendable {
    public let pid: Int32

    /// Starts `path` with `argv` (including argv[0]) and `environment` (`NAME=value`).
    /// The descriptors become the child's 0, 1 and 2 (-1 means /dev/null). Returns nil and sets errno on failure.
    public static func spawn(
        path: String, argv: [String], environment: [String], stdin: Int32, stdout: Int32, stderr: Int32,
        credentials: SpawnCredentials?, workingDirectory: String?
    ) -> ChildProcess? {
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        let groups = (credentials?.groups ?? []).map { gid_t($0) }
        let pid: pid_t = groups.withUnsafeBufferPointer { groupBuffer in
            withOptionalCString(workingDirectory) { cwd in
                var options = tern_spawn_options()
                options.stdin_fd = stdin
                options.stdout_fd = stdout
                options.stderr_fd = stderr
                options.keep_fd = -1
                options.new_session = 1
                if let credentials {
                    options.change_ids = 1
                    options.uid = uid_t(credentials.uid)
                    options.gid = gid_t(credentials.gid)
                    options.groups = groupBuffer.baseAddress
                    options.ngroups = Int32(groupBuffer.count)
                    if let privileged = credentials.privilegedGID {
                        options.keep_saved_gid = 1
                        options.saved_gid = gid_t(privileged)
                    }
                }
                options.cwd = cwd
                return cArgv.withUnsafeBufferPointer { argvBuffer in
                    cEnv.withUnsafeBufferPointer { envBuffer in
                        tern_spawn(path, argvBuffer.baseAddress, envBuffer.baseAddress, &options)
                    }
                }
            }
        }
        return pid > 0 ? ChildProcess(pid: pid) : nil
    }

    /// Kills the child's process group (and the child itself, should it have left the group).
    func kill() {
        _ = Glibc.kill(-pid, SIGKILL)
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Waits for the child until `deadline`; after that kills it and reaps it.
    /// Returns the wait status and whether the deadline passed.
    func wait(until deadline: Deadline) -> (status: Int32, timedOut: Bool) {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return (status, false) }
            if result < 0 && errno != EINTR { return (status, false) }
            if deadline.hasPassed { break }
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        kill()
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status, true)
    }

    private static func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }
}

/// A point in time on the monotonic clock.
struct Deadline {
    private let nanoseconds: UInt64

    init(secondsFromNow seconds: Int) {
        nanoseconds = Self.now() &+ UInt64(max(0, seconds)) &* 1_000_000_000
    }

    var hasPassed: Bool { Self.now() >= nanoseconds }

    /// Milliseconds left, for poll(2); 0 once passed.
    var remainingMilliseconds: Int32 {
        let now = Self.now()
        guard nanoseconds > now else { return 0 }
        return Int32(clamping: (nanoseconds - now) / 1_000_000 + 1)
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// Pipe helpers.
enum PipeIO {
    /// pipe(2) with close-on-exec on both ends; tern_spawn dup2()s the child's end onto 0/1/2 and closes
    /// every other descriptor, so the short window before FD_CLOEXEC is set leaks nothing into our children.
    static func makePipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        _ = tern_set_cloexec(fds[0], 1)
        _ = tern_set_cloexec(fds[1], 1)
        return (fds[0], fds[1])
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// write(2) that reports EPIPE instead of raising SIGPIPE: the signal is blocked in this thread for the
    /// call and a pending one is consumed, so the process-wide disposition is left alone.
    static func writeWithoutSIGPIPE(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        var pipeSet = sigset_t()
        sigemptyset(&pipeSet)
        sigaddset(&pipeSet, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSet, &previous)
        let n = write(fd, bytes, count)
        let code = errno
        if n < 0 && code == EPIPE {
            var zero = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeSet, nil, &zero)
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        errno = code
        return n
    }
}
