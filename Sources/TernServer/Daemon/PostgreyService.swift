import CTernSys
import Foundation
import ServiceLifecycle
import Synchronization
import TernConfig
import TernCore
import UnixSignals

/// A master.cf service whose command is `postgrey` (Tern's extension; Postfix has no such daemon):
///
///     postgrey  unix  -  -  n  -  1  postgrey --delay=300
///     127.0.0.1:10023  inet  n  -  n  -  1  postgrey
///
/// The MTA daemon runs `tern postgrey` for it as a child process with the daemon's own unprivileged uid
/// (mail_owner), listening on `$queue_directory/private/NAME` (`public/NAME` when the private field is `n`)
/// or on the service's `[HOST:]PORT`, with `--dbdir=$data_directory/postgrey` unless the arguments say
/// otherwise, logging to the mail log. It restarts the child if it dies, passes SIGHUP (`postfix reload`) on
/// so that the child re-reads its whitelists, and stops it on `postfix stop`.
struct PostgreyService: Service {
    let name: String
    let arguments: [String]
    let log: MailLog
    let keepDescriptors: [Int32]

    /// After a child that ran less than this, wait `throttleDelay` before starting it again (master(8)'s
    /// service_throttle_time), so a bad command line does not spin.
    static let shortLife: Duration = .seconds(10)
    static let throttleDelay: Duration = .seconds(60)

    static func services(master: MasterConfig, config: MainConfig, log: MailLog) -> [PostgreyService] {
        master.services.filter { $0.command == "postgrey" }.compactMap { service in
            var arguments = ["postgrey"]
            switch service.type {
            case .inet: arguments.append("--inet=\(service.name)")
            case .unix:
                let directory = service.isPrivate ? "private" : "public"
                arguments.append("--unix=\(config.value("queue_directory"))/\(directory)/\(service.name)")
            default:
                log.warning("master", "\(service.serviceKey): postgrey needs a unix or inet service; ignored")
                return nil
            }
            if !service.arguments.contains(where: { $0 == "--dbdir" || $0.hasPrefix("--dbdir=") }) {
                arguments.append("--dbdir=\(config.value("data_directory"))/postgrey")
            }
            arguments += service.arguments + ["--exit-with-stdin"]
            var keep: [Int32] = []
            switch log.destination {
            case .file(let path):
                arguments += ["--log-fd", String(log.descriptor), "--log-path", path]
                keep.append(log.descriptor)
            case .syslog: arguments.append("--syslog")
            case .stderr: break
            }
            return PostgreyService(name: service.serviceKey, arguments: arguments, log: log, keepDescriptors: keep)
        }
    }

    func run() async throws {
        let child = RunningChild()
        try await withThrowingDiscardingTaskGroup { group in
            // `postfix reload` (SIGHUP) makes the child re-read its whitelists, as a SIGHUP to postgrey does.
            group.addTask {
                let signals = await UnixSignalsSequence(trapping: .sighup)
                for await _ in signals.cancelOnGracefulShutdown() {
                    let pid = child.pid.withLock { $0 }
                    if pid > 0 { kill(pid, SIGHUP) }
                }
            }
            try await supervise(child)
            group.cancelAll()
        }
    }

    /// Runs the child, and again when it dies, until graceful shutdown; `child` holds the running pid.
    private func supervise(_ child: RunningChild) async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var link: [Int32] = [0, 0]
            guard pipe(&link) == 0 else { throw DaemonError.system("pipe", errno) }
            tern_set_cloexec(link[1], 1)
            let started = ContinuousClock.now
            let pid = spawn(standardInput: link[0])
            close(link[0])
            guard pid > 0 else {
                close(link[1])
                throw DaemonError.system("fork", errno)
            }
            child.pid.withLock { $0 = pid }
            let status = await withGracefulShutdownHandler {
                await PrivilegedMaster.waitForExit(pid)
            } onGracefulShutdown: {
                kill(pid, SIGTERM)
            }
            child.pid.withLock { $0 = 0 }
            close(link[1])
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            log.warning("master", "process tern/postgrey pid \(pid) exit status \(status) (service \(name))")
            let pause: Duration = ContinuousClock.now - started < Self.shortLife ? Self.throttleDelay : .seconds(1)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }

    private func spawn(standardInput: Int32) -> pid_t {
        let path = DaemonStarter.executablePath()
        var environment = ["PATH=/usr/bin:/bin"]
        for name in ["TZ", "LANG"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment.append("\(name)=\(value)") }
        }
        return withCStrings([path] + arguments) { argv in
            withCStrings(environment) { envp in
                keepDescriptors.withUnsafeBufferPointer { keep in
                    "/".withCString { root in
                        var options = tern_spawn_options()
                        options.stdin_fd = standardInput
                        options.stdout_fd = -1
                        options.stderr_fd = 2
                        options.keep_fd = -1
                        options.keep_fds = keep.baseAddress
                        options.nkeep = Int32(keep.count)
                        options.cwd = root
                        return tern_spawn(path, argv, envp, &options)
                    }
                }
            }
        }
    }
}

/// The pid of a service's running child (0: none), shared with the task that passes signals on.
final class RunningChild: Sendable {
    let pid = Mutex<pid_t>(0)
}
