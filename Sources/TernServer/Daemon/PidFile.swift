import Foundation
import Glibc
import CTernSys

/// `$queue_directory/pid/master.pid`, as Postfix's master(8) writes it: the pid, right-aligned in 10
/// columns, then a newline. The file is locked (fcntl) while the daemon runs, so a stale file left by a
/// crash is recognised: nobody holds its lock.
public struct PidFile: Sendable {
    public let path: String

    public init(queueDirectory: String) {
        path = queueDirectory + "/pid/master.pid"
    }

    /// A pid file at `path` (Dovecot's `$base_dir/master.pid`).
    public init(path: String) {
        self.path = path
    }

    /// The pid of a running daemon, or nil when none runs (no file, unreadable, or the process is gone).
    public func runningPid() -> Int32? {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // The daemon holds a write lock on the file for as long as it runs.
        if tern_fcntl_lock(fd, 2, 0) == 0 { return nil }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0, let pid = pid_t(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return pid
    }

    /// Writes our pid and keeps the descriptor open (and locked) for the life of the process.
    /// Returns the descriptor; it must not be closed until exit.
    public func claim() throws -> Int32 {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DaemonError.system("open \(path)", errno) }
        if tern_fcntl_lock(fd, 2, 0) != 0 {
            close(fd)
            throw DaemonError.alreadyRunning
        }
        let text = String(repeating: " ", count: max(0, 10 - String(getpid()).count)) + "\(getpid())\n"
        ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        fsync(fd)
        return fd
    }

    public func remove() {
        unlink(path)
    }
}

/// Failures of daemon start-up and control, with the words Postfix's postfix-script uses.
public enum DaemonError: Error, CustomStringConvertible {
    case alreadyRunning
    case notRunning
    case system(String, Int32)
    case startFailed(String)

    public var description: String {
        switch self {
        case .alreadyRunning: return "the Postfix mail system is already running"
        case .notRunning: return "the Postfix mail system is not running"
        case .system(let what, let code): return "\(what): \(String(cString: strerror(code)))"
        case .startFailed(let why): return "mail system startup failed: \(why)"
        }
    }
}
