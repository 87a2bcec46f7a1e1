import Foundation
import Glibc

/// Makes the test process a child subreaper (prctl PR_SET_CHILD_SUBREAPER) for a while, so a daemon that
/// `postfix start` leaves behind, and the delivery workers it leaves when killed, become our children and
/// can be reaped with waitpid. Without it a `kill -9`ed daemon stays a zombie wherever pid 1 does not reap
/// orphans (containers), and a zombie still answers kill(pid, 0).
enum ChildSubreaper {
    private typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    private static let setChildSubreaper: Int32 = 36  // PR_SET_CHILD_SUBREAPER, <linux/prctl.h>

    /// Runs `body` as a subreaper; afterwards reaps the zombies among our children and turns it off.
    static func during<T>(_ body: () throws -> T) throws -> T {
        let enabled = set(true)
        defer {
            reapZombies()
            if enabled { _ = set(false) }
        }
        return try body()
    }

    /// prctl is variadic in C, so Swift cannot call it directly; it is looked up and called with its four
    /// integer arguments.
    @discardableResult
    static func set(_ on: Bool) -> Bool {
        guard let symbol = dlsym(nil, "prctl") else { return false }
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        return prctl(setChildSubreaper, on ? 1 : 0, 0, 0, 0) == 0
    }

    /// Waits for `pid` if it is our child (returns false when it is not, e.g. no subreaper support).
    @discardableResult
    static func reap(_ pid: pid_t, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return true }
            if result < 0 { return false }
            usleep(20_000)
        }
        return false
    }

    /// Reaps every child of ours that is a zombie (found in /proc by parent pid and state), and nothing else.
    static func reapZombies() {
        for pid in children(ofParent: getpid()) where state(of: pid) == "Z" {
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
        }
    }

    static func children(ofParent parent: pid_t) -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { pid_t($0) }.filter { parentPid(of: $0) == parent }
    }

    static func state(of pid: pid_t) -> Character? {
        fields(of: pid)?.first?.first
    }

    static func parentPid(of pid: pid_t) -> pid_t? {
        guard let fields = fields(of: pid), fields.count > 1 else { return nil }
        return pid_t(fields[1])
    }

    /// The fields of /proc/PID/stat after `(comm)`: state, ppid, ...
    private static func fields(of pid: pid_t) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}
