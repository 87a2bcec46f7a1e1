import CTernSys
import Glibc

/// How mbox files are locked while mail is appended: `mailbox_delivery_lock` (Linux default `fcntl, dotlock`),
/// `deliver_lock_attempts` (20), `deliver_lock_delay` (1s) and `stale_lock_time` (500s) from postconf(5).
public struct MailboxLockPolicy: Sendable, Codable, Equatable {
    /// One `mailbox_delivery_lock` method.
    public enum Method: String, Sendable, Codable, CaseIterable {
        case fcntl, flock, dotlock
    }

    public var methods: [Method]
    public var attempts: Int
    /// Seconds between attempts (fractions allowed so that tests need not wait whole seconds).
    public var delaySeconds: Double
    /// A `FILE.lock` whose change time is older than this many seconds is removed as stale.
    public var staleSeconds: Int

    public init(
        methods: [Method] = [.fcntl, .dotlock], attempts: Int = 20, delaySeconds: Double = 1,
        staleSeconds: Int = 500
    ) {
        self.methods = methods
        self.attempts = max(1, attempts)
        self.delaySeconds = delaySeconds
        self.staleSeconds = staleSeconds
    }

    /// Parses a `mailbox_delivery_lock` value such as `fcntl, dotlock`; nil when a name is unknown or none given.
    public static func methods(from text: String) -> [Method]? {
        let names = text.split(whereSeparator: { " \t,\r\n".contains($0) })
        var methods: [Method] = []
        for name in names {
            guard let method = Method(rawValue: name.lowercased()) else { return nil }
            if !methods.contains(method) { methods.append(method) }
        }
        return methods.isEmpty ? nil : methods
    }

    func sleepBetweenAttempts() {
        guard delaySeconds > 0 else { return }
        var request = timespec(
            tv_sec: Int(delaySeconds), tv_nsec: Int((delaySeconds - Double(Int(delaySeconds))) * 1e9))
        var left = timespec()
        while nanosleep(&request, &left) != 0 && errno == EINTR { request = left }
    }
}

/// A mailbox opened and locked for appending, after Postfix `mbox_open()`: the file is opened carefully
/// (`safe_open()`: no symlinks, one hard link, created with O_EXCL when missing), then dot-locked, then
/// kernel-locked. `release()` closes the file (dropping the kernel lock) and removes the dot-lock.
struct LockedMailbox {
    let path: String
    let fd: Int32
    /// Status of the opened file (after locking).
    let status: stat
    private let dotLocked: Bool

    /// How the file is opened: local delivery appends; mail(1) reads and rewrites it in place.
    enum Access {
        case append, readWrite

        var flags: Int32 { self == .append ? O_WRONLY | O_APPEND : O_RDWR }
    }

    /// Opens `path` for appending and locks it.
    /// - Parameters:
    ///   - dotLockMayFail: for `/file` deliveries Postfix only warns when `FILE.lock` cannot be created for
    ///     reasons other than "file exists" (directory not writable by the user).
    ///   - warnings: receives those warnings.
    static func open(
        _ path: String, mode: mode_t, createOwnership: FileOwnership?, policy: MailboxLockPolicy,
        defaultDSN: String, dotLockMayFail: Bool, warnings: inout [String], access: Access = .append
    ) throws(DeliveryFailure) -> LockedMailbox {
        var st = stat()
        let fd = try safeOpen(
            path, flags: access.flags, mode: mode, ownership: createOwnership, status: &st, defaultDSN: defaultDSN)
        let isRegular = (st.st_mode & S_IFMT) == S_IFREG
        var dotLocked = false
        if isRegular && policy.methods.contains(.dotlock) {
            switch dotLock(path, policy: policy) {
            case nil:
                dotLocked = true
            case (let code, let reason)? where code == EEXIST || !dotLockMayFail:
                close(fd)
                let dsn = SystemError.mailboxDSN(code == EEXIST ? EAGAIN : code, fallback: defaultDSN)
                throw DeliveryFailure(dsn: dsn, text: reason)
            case (_, let reason)?:
                warnings.append(reason)
            }
        }
        if isRegular {
            for method in policy.methods where method != .dotlock {
                if let code = kernelLock(fd, method: method, policy: policy) {
                    close(fd)
                    if dotLocked { dotUnlock(path) }
                    throw DeliveryFailure(
                        dsn: SystemError.mailboxDSN(code, fallback: defaultDSN),
                        text: "unable to lock for exclusive access: \(SystemError.text(code))")
                }
            }
            // Someone (GNU pop3d) may have replaced the file while we waited for the lock.
            if fstat(fd, &st) != 0 || st.st_nlink != 1 {
                close(fd)
                if dotLocked { dotUnlock(path) }
                throw DeliveryFailure(
                    dsn: SystemError.mailboxDSN(EAGAIN, fallback: defaultDSN),
                    text: "target file status changed unexpectedly")
            }
        }
        return LockedMailbox(path: path, fd: fd, status: st, dotLocked: dotLocked)
    }

    /// Closes the file and removes the dot-lock. Returns the errno when close(2) reports a write error.
    @discardableResult
    func release() -> Int32? {
        let failed = close(fd) != 0 ? errno : nil
        if dotLocked { Self.dotUnlock(path) }
        return failed
    }

    /// Postfix `safe_open()` with O_CREAT: open an existing file carefully, else create it exclusively.
    private static func safeOpen(
        _ path: String, flags access: Int32, mode: mode_t, ownership: FileOwnership?, status: inout stat,
        defaultDSN: String
    ) throws(DeliveryFailure) -> Int32 {
        let flags = access | O_NONBLOCK | O_CLOEXEC
        var lastError: DeliveryFailure
        switch openExisting(path, flags: flags, status: &status) {
        case .success(let fd): return nonBlockingOff(fd)
        case .failure(let error):
            lastError = DeliveryFailure(
                dsn: SystemError.mailboxDSN(error.code, fallback: defaultDSN), text: error.reason)
            guard error.code == ENOENT else { throw lastError }
        }
        let fd = Glibc.open(path, flags | O_CREAT | O_EXCL, mode)
        if fd >= 0 {
            ownership?.apply(to: fd)
            _ = fstat(fd, &status)
            return nonBlockingOff(fd)
        }
        let code = errno
        lastError = DeliveryFailure(
            dsn: SystemError.mailboxDSN(code, fallback: defaultDSN),
            text: "cannot create file exclusively: \(SystemError.text(code))")
        guard code == EEXIST else { throw lastError }
        switch openExisting(path, flags: flags, status: &status) {
        case .success(let fd): return nonBlockingOff(fd)
        case .failure(let error):
            throw DeliveryFailure(dsn: SystemError.mailboxDSN(error.code, fallback: defaultDSN), text: error.reason)
        }
    }

    private struct OpenError: Error {
        let code: Int32
        let reason: String
    }

    private static func openExisting(_ path: String, flags: Int32, status: inout stat) -> Result<Int32, OpenError> {
        let fd = Glibc.open(path, flags)
        if fd < 0 {
            let code = errno
            return .failure(OpenError(code: code, reason: "cannot open file: \(SystemError.text(code))"))
        }
        var problem: OpenError?
        var linkStatus = stat()
        if fstat(fd, &status) != 0 {
            problem = OpenError(code: errno, reason: "file status changed unexpectedly: \(SystemError.text(errno))")
        } else if status.st_nlink != 1 {
            problem = OpenError(code: EPERM, reason: "file has \(status.st_nlink) hard links")
        } else if (status.st_mode & S_IFMT) == S_IFDIR {
            problem = OpenError(code: EISDIR, reason: "file is a directory")
        } else if lstat(path, &linkStatus) != 0 {
            problem = OpenError(code: EPERM, reason: "file status changed unexpectedly: \(SystemError.text(errno))")
        } else if (linkStatus.st_mode & S_IFMT) == S_IFLNK {
            // Postfix trusts symlinks owned by root (Solaris /dev), never those of other users.
            if linkStatus.st_uid == 0 { return .success(fd) }
            problem = OpenError(code: EPERM, reason: "file is a symbolic link")
        } else if status.st_dev != linkStatus.st_dev || status.st_ino != linkStatus.st_ino
            || status.st_nlink != linkStatus.st_nlink || status.st_mode != linkStatus.st_mode
        {
            problem = OpenError(code: EPERM, reason: "file status changed unexpectedly")
        }
        if let problem {
            close(fd)
            return .failure(problem)
        }
        return .success(fd)
    }

    /// The file was opened non-blocking to fend off FIFOs; appends themselves should block normally.
    private static func nonBlockingOff(_ fd: Int32) -> Int32 {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return fd
    }

    /// Postfix `dot_lockfile()`: create `path.lock` with O_EXCL, retrying and breaking locks older than
    /// `stale_lock_time`. Returns nil on success or the errno with `unable to create lock file ...: %m`.
    static func dotLock(_ path: String, policy: MailboxLockPolicy) -> (Int32, String)? {
        let lockPath = path + ".lock"
        var code: Int32 = 0
        for attempt in 1... {
            let fd = Glibc.open(lockPath, O_WRONLY | O_EXCL | O_CREAT | O_CLOEXEC, 0)
            if fd >= 0 {
                close(fd)
                return nil
            }
            code = errno
            if attempt >= policy.attempts || code != EEXIST { break }
            var st = stat()
            if stat(lockPath, &st) == 0, time(nil) > st.st_ctim.tv_sec + policy.staleSeconds {
                if unlink(lockPath) != 0 && errno != ENOENT {
                    code = errno
                    break
                }
            }
            policy.sleepBetweenAttempts()
        }
        return (code, "unable to create lock file \(lockPath): \(SystemError.text(code))")
    }

    static func dotUnlock(_ path: String) {
        _ = unlink(path + ".lock")
    }

    /// Postfix `deliver_flock()`: try a non-blocking exclusive lock `deliver_lock_attempts` times.
    private static func kernelLock(_ fd: Int32, method: MailboxLockPolicy.Method, policy: MailboxLockPolicy)
        -> Int32?
    {
        var code: Int32 = 0
        for attempt in 0..<policy.attempts {
            if attempt > 0 { policy.sleepBetweenAttempts() }
            let result = method == .fcntl ? tern_fcntl_lock(fd, 2, 0) : flock(fd, LOCK_EX | LOCK_NB)
            if result == 0 { return nil }
            code = errno
        }
        return code
    }
}
