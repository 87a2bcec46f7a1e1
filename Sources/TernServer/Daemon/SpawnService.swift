import CTernSys
import Foundation
import Synchronization
import TernConfig
import TernCore

/// A master.cf `spawn` service (Postfix's spawn(8)), the way tutorials run policy servers such as policyd-spf:
///
///     policyd-spf  unix  -  n  n  -  0  spawn  user=policyd-spf argv=/usr/bin/policyd-spf
///
/// It listens on `$queue_directory/private/NAME` (`public/NAME` when the private field is `n`) and runs the
/// command for each connection as `user=` (never root), with the connection as standard input, output and
/// error. The command gets `${NAME}_time_limit` seconds (default command_time_limit), then SIGKILL; at most
/// maxproc commands run at once (0: no limit) and further connections wait. Runs in the root master, which
/// only accepts and starts commands and reads nothing from the connections (without root: in the daemon,
/// and `user=` must be the daemon's own user).
final class SpawnService: Sendable {
    let name: String
    let path: String
    let user: PrivilegedMaster.Account
    let argv: [String]
    let timeLimit: Int
    let maxProcesses: Int
    let log: MailLog
    private let listener: Int32
    private let running = Mutex<Int>(0)
    private let slotFreed = NSCondition()

    enum SetupError: Error, CustomStringConvertible {
        case arguments(String, String)
        var description: String {
            switch self {
            case .arguments(let service, let message): "master.cf: service \(service): \(message)"
            }
        }
    }

    /// The `spawn` services of master.cf, listening; a bad entry is a fatal configuration error.
    static func make(master: MasterConfig, config: MainConfig, log: MailLog) throws -> [SpawnService] {
        try master.services.filter { $0.command == "spawn" }.map { service in
            guard service.type == .unix else {
                throw SetupError.arguments(service.serviceKey, "spawn services must be of type unix")
            }
            let (userName, argv) = try arguments(service)
            guard let user = PrivilegedMaster.account(userName) else {
                throw SetupError.arguments(service.serviceKey, "unknown user name: \(userName)")
            }
            guard user.uid != 0 else {
                throw SetupError.arguments(service.serviceKey, "request to deliver as root")
            }
            guard geteuid() == 0 || user.uid == geteuid() else {
                throw SetupError.arguments(service.serviceKey, "user=\(userName): the mail system is not running as root")
            }
            let overrides = service.overrideTable
            let limit = overrides["\(service.name)_time_limit"].flatMap { TimeValue.seconds($0) }
                ?? config.time("\(service.name)_time_limit") ?? config.time("command_time_limit") ?? 1000
            let maxproc = service.maxprocField == "-"
                ? (config.int("default_process_limit") ?? 100) : Int(service.maxprocField) ?? 100
            let directory = service.isPrivate ? "private" : "public"
            let path = "\(config.value("queue_directory"))/\(directory)/\(service.name)"
            let fd = try listen(path)
            return SpawnService(
                name: service.serviceKey, path: path, user: user, argv: argv, timeLimit: limit, maxProcesses: maxproc,
                log: log, listener: fd)
        }
    }

    /// `user=NAME argv=COMMAND ARGS...`; argv= comes last and takes the rest of the line.
    static func arguments(_ service: MasterService) throws -> (user: String, argv: [String]) {
        var user: String?
        var argv: [String] = []
        for (index, argument) in service.commandArguments.enumerated() {
            if argument.hasPrefix("user=") {
                user = String(argument.dropFirst(5)).split(separator: ":").first.map(String.init)
            } else if argument.hasPrefix("argv=") {
                argv = [String(argument.dropFirst(5))] + service.commandArguments.dropFirst(index + 1)
                break
            }
        }
        guard let user, !user.isEmpty else { throw SetupError.arguments(service.serviceKey, "missing user= attribute") }
        guard let command = argv.first, command.hasPrefix("/") else {
            throw SetupError.arguments(service.serviceKey, "missing or relative argv= attribute")
        }
        return (user, argv)
    }

    private init(
        name: String, path: String, user: PrivilegedMaster.Account, argv: [String], timeLimit: Int,
        maxProcesses: Int, log: MailLog, listener: Int32
    ) {
        self.name = name
        self.path = path
        self.user = user
        self.argv = argv
        self.timeLimit = timeLimit
        self.maxProcesses = maxProcesses
        self.log = log
        self.listener = listener
    }

    private static func listen(_ path: String) throws -> Int32 {
        unlink(path)
        let fd = tern_unix_listen(path, 0o666, 100)
        guard fd >= 0 else { throw DaemonError.system("listen on \(path)", errno) }
        return fd
    }

    /// Accepts and starts commands on a thread of its own until `stop()`.
    func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "spawn \(name)"
        thread.start()
    }

    /// Closes the socket: the accept loop ends; running commands finish or reach their time limit.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }

    private func acceptLoop() {
        while true {
            waitForSlot()
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // the listener was closed
            }
            tern_set_cloexec(connection, 1)
            let pid = startCommand(connection)
            close(connection)
            guard pid > 0 else {
                log.warning("spawn", "\(name): cannot run \(argv[0]): \(String(cString: strerror(errno)))")
                continue
            }
            running.withLock { $0 += 1 }
            let thread = Thread { [self] in watch(pid) }
            thread.start()
        }
    }

    private func waitForSlot() {
        guard maxProcesses > 0 else { return }
        slotFreed.lock()
        while running.withLock({ $0 }) >= maxProcesses { slotFreed.wait() }
        slotFreed.unlock()
    }

    private func startCommand(_ connection: Int32) -> pid_t {
        var environment = ["PATH=/usr/bin:/bin:/usr/sbin:/sbin"]
        for name in ["TZ", "LANG", "MAIL_CONFIG"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment.append("\(name)=\(value)") }
        }
        return withCStrings(argv) { argvPointer in
            withCStrings(environment) { envp in
                user.groups.withUnsafeBufferPointer { groups in
                    "/".withCString { root in
                        var options = tern_spawn_options()
                        options.stdin_fd = connection
                        options.stdout_fd = connection
                        options.stderr_fd = connection
                        options.keep_fd = -1
                        options.change_ids = geteuid() == 0 ? 1 : 0
                        options.uid = user.uid
                        options.gid = user.gid
                        options.groups = groups.baseAddress
                        options.ngroups = Int32(groups.count)
                        options.cwd = root
                        return tern_spawn(argv[0], argvPointer, envp, &options)
                    }
                }
            }
        }
    }

    /// Waits for the command; past the time limit it is killed. Logs what Postfix's spawn logs.
    private func watch(_ pid: pid_t) {
        let deadline = ContinuousClock.now + .seconds(timeLimit)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                break
            }
            usleep(50_000)
        }
        if status & 0x7F == 0 {
            let code = (status >> 8) & 0xFF
            if code != 0 { log.warning("spawn", "command \(argv[0]) exit status \(code)") }
        } else {
            log.warning("spawn", "command \(argv[0]) killed by signal \(status & 0x7F)")
        }
        running.withLock { $0 -= 1 }
        slotFreed.lock()
        slotFreed.signal()
        slotFreed.unlock()
    }
}
