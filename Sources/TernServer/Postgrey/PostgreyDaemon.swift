import CTernSys
import Foundation
import Glibc
import Logging
import ServiceLifecycle
import TernCore
import TernPolicy
import UnixSignals

/// Runs `tern postgrey`: binds, drops root privileges to --user/--group (postgrey's Net::Server does the
/// same), opens the database, and serves until SIGTERM/SIGINT. SIGHUP re-reads the whitelists.
///
/// Started as root it binds, creates --dbdir for the user, changes uid and re-executes itself with the
/// listening socket (`--listen-fd`): a process that only setuid()s keeps its exited main thread, the one
/// ps(1) and /proc show, as root.
public enum PostgreyDaemon {
    public enum LogTarget: Sendable, Equatable {
        case stderr
        case syslog
        /// A descriptor of the mail log file inherited from the MTA daemon.
        case descriptor(Int32, path: String)
    }

    public struct Options: Sendable {
        /// --user / --group: who to run as when started as root.
        public var user = "postgrey"
        public var group = "postgrey"
        public var log = LogTarget.stderr
        /// Exit when standard input reaches end of file: the MTA daemon that started us is gone.
        public var exitWithStandardInput = false
        /// Print DaemonStarter's ready line once listening (a --daemonize child).
        public var signalReady = false
        /// The command line after `postgrey`, for re-executing as --user.
        public var arguments: [String] = []
        /// A listening socket bound by the root process before it re-executed us.
        public var listenDescriptor: Int32?

        public init() {}
    }

    public static func run(_ settings: PostgreySettings, options: Options) async -> Int32 {
        let log: MailLog =
            switch options.log {
            case .stderr:
                MailLog(syslogName: "postgrey", hostname: PostgreyPolicy.systemHostname(), destination: .stderr)
            case .syslog:
                MailLog(syslogName: "postgrey", hostname: PostgreyPolicy.systemHostname(), destination: .syslog)
            case .descriptor(let fd, let path):
                MailLog(syslogName: "postgrey", hostname: PostgreyPolicy.systemHostname(), descriptor: fd, path: path)
            }
        func fatal(_ message: String) -> Int32 {
            log.log("", message, severity: .fatal)
            if options.log != .stderr { FileHandle.standardError.write(Data("postgrey: \(message)\n".utf8)) }
            return 1
        }
        if geteuid() == 0 {
            return fatal(becomeUser(settings, options))
        }
        umask(0o077)  // postgrey writes its database files with mode 600
        if options.exitWithStandardInput { watchStandardInput() }
        let listener: PostgreyListener
        do {
            if let fd = options.listenDescriptor {
                listener = try await PostgreyListener.adopt(fd, settings)
            } else {
                listener = try await PostgreyListener.bind(settings)
            }
        } catch {
            return fatal("ERROR: can't bind \(settings.endpoint): \(error)")
        }
        let policy: PostgreyPolicy
        do {
            policy = try PostgreyPolicy(settings: settings, log: log)
        } catch {
            return fatal("\(error)")
        }
        log.info(
            "", "postgrey \(GreylistParameters.version) (Tern \(TernVersion.string)) starting on \(settings.endpoint)")
        if options.signalReady { DaemonStarter.signalReady() }
        var logger = Logger(label: "tern.postgrey")
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: PostgreyServer(listener: listener, policy: policy, settings: settings, log: log)),
                    .init(service: PostgreyReloader(policy: policy)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            log.warning("", "\(error)")
        }
        return 0
    }

    /// As root: bind, create --dbdir for the user if missing, setgroups/setgid/setuid to --user/--group, and
    /// execve(2) this program again with the socket. Returns the problem when any step fails.
    static func becomeUser(_ settings: PostgreySettings, _ options: Options) -> String {
        guard let user = getpwnam(options.user) else { return "ERROR: unknown user \"\(options.user)\"" }
        let uid = user.pointee.pw_uid
        guard let group = getgrnam(options.group) else { return "ERROR: unknown group \"\(options.group)\"" }
        let gid = group.pointee.gr_gid
        guard uid != 0 else { return "ERROR: refusing to run as root (--user=\(options.user))" }
        let fd: Int32
        do {
            fd = try bindSocket(settings)
        } catch {
            return "ERROR: can't bind \(settings.endpoint): \(error)"
        }
        if !FileManager.default.fileExists(atPath: settings.databaseDirectory) {
            mkdir(settings.databaseDirectory, 0o700)
            chown(settings.databaseDirectory, uid, gid)
        }
        var groups = [gid]
        guard setgroups(1, &groups) == 0, setgid(gid) == 0, setuid(uid) == 0, geteuid() == uid else {
            return "ERROR: can't change to user \(options.user): \(String(cString: strerror(errno)))"
        }
        tern_set_cloexec(fd, 0)
        let path = DaemonStarter.executablePath()
        let arguments =
            [path, "postgrey"] + options.arguments.filter { !$0.hasPrefix("--listen-fd") }
            + ["--listen-fd=\(fd)"]
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        _ = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in execve(path, argv, envp) }
        }
        return "ERROR: can't execute \(path): \(String(cString: strerror(errno)))"
    }

    /// The listening socket, bound as root: TCP through ListenSocket, a unix socket here (with --socketmode).
    static func bindSocket(_ settings: PostgreySettings) throws -> Int32 {
        switch settings.endpoint {
        case .inet(let host, let port):
            return try ListenSocket.bind(host: host, port: port)
        case .unix(let path, let mode):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                throw ListenSocket.Failure(description: "path too long: \(path)")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw ListenSocket.Failure(description: String(cString: strerror(errno))) }
            unlink(path)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
                }
            }
            guard bound, listen(fd, Int32(settings.backlog)) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw ListenSocket.Failure(description: reason)
            }
            chmod(path, mode)
            return fd
        }
    }

    /// Exits when standard input is closed (the MTA daemon keeps the other end while it runs).
    static func watchStandardInput() {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
            }
            _exit(0)
        }
        thread.name = "tern-postgrey-parent-watch"
        thread.start()
    }
}
