import CTernSys
import Foundation
import Glibc

/// Starts the MTA daemon in the background the way `postfix start` must: the command returns only once the
/// daemon listens (or has failed, with its reason), and the daemon keeps none of the caller's descriptors.
public enum DaemonStarter {
    /// The line a daemon child writes on its stdout when it listens; anything else it writes is an error text.
    public static let readyLine = "tern: ready"

    /// The absolute path of the running executable, for re-executing ourselves.
    public static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Spawns `executable arguments...` in a new session, waits up to `timeout` seconds for `readyLine`.
    /// Returns the child's pid; throws `DaemonError.startFailed` with the child's own words otherwise.
    public static func start(arguments: [String], environment: [String: String], timeout: Double = 60) throws -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw DaemonError.system("pipe", errno) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        tern_set_cloexec(readEnd, 1)
        let path = executablePath()
        let argv = [path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        let pid = withCStrings(argv) { cArgv in
            withCStrings(envp) { cEnv in
                var options = tern_spawn_options()
                options.stdin_fd = -1
                options.stdout_fd = writeEnd
                options.stderr_fd = writeEnd
                options.keep_fd = -1
                options.new_session = 1
                // A reload right after start (SIGHUP) waits until the daemon reads it, rather than killing it
                // before its signal handling is set up: every daemon started here traps SIGHUP.
                options.block_sighup = 1
                return "/".withCString { root in
                    options.cwd = root
                    return tern_spawn(path, cArgv, cEnv, &options)
                }
            }
        }
        close(writeEnd)
        defer { close(readEnd) }
        guard pid > 0 else { throw DaemonError.system("fork", errno) }

        var output = ""
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let n = read(readEnd, &buffer, buffer.count)
            if n <= 0 { break }
            output += String(decoding: buffer[..<n], as: UTF8.self)
            if output.contains(readyLine) { return pid }
        }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 { kill(pid, SIGKILL); waitpid(pid, &status, 0) }
        let reason = output.trimmingCharacters(in: .whitespacesAndNewlines)
        throw DaemonError.startFailed(reason.isEmpty ? "the daemon did not start within \(Int(timeout))s" : reason)
    }

    /// Tells the parent we listen, then lets go of the pipe (stdout and stderr become /dev/null).
    public static func signalReady() {
        FileHandle.standardOutput.write(Data((readyLine + "\n").utf8))
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 1)
            dup2(null, 2)
            close(null)
        }
    }
}

/// Runs `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
