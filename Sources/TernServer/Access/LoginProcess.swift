import CTernSys
import Foundation
import Glibc
import NIOSSL
import ServiceLifecycle
import Synchronization
import TernConfig

/// When the daemon runs as root, the network-facing login side runs in its own process as
/// default_login_user (`tern libexec mail-login`), like Dovecot's imap-login and pop3-login. The master binds
/// the ports, reads the TLS key, and hands both down; it keeps the auth service and starts the mail
/// sessions the login process asks for (SessionBroker). A login process that dies is started again.
struct LoginProcess: Service {
    /// A listening socket handed down: `fd:protocol:ssl`.
    struct Inherited: Sendable {
        var fd: Int32
        var protocolName: String
        var ssl: Bool

        var argument: String { "\(fd):\(protocolName):\(ssl ? 1 : 0)" }

        init(fd: Int32, protocolName: String, ssl: Bool) {
            self.fd = fd
            self.protocolName = protocolName
            self.ssl = ssl
        }

        init?(argument: String) {
            let parts = argument.split(separator: ":").map(String.init)
            guard parts.count == 3, let fd = Int32(parts[0]) else { return nil }
            self.init(fd: fd, protocolName: parts[1], ssl: parts[2] == "1")
        }
    }

    /// The TLS certificate and key, written to the login process's stdin (it cannot read the key file).
    struct Secrets: Codable, Sendable {
        var certificate: String?
        var key: String?
    }

    /// The running login process's pid (0 between restarts), for passing SIGHUP on.
    final class ChildPID: Sendable {
        private let value = Mutex<Int32>(0)
        var current: Int32 { value.withLock { $0 } }
        func set(_ pid: Int32) { value.withLock { $0 = pid } }
    }

    let settings: AccessSettings
    let listeners: [Inherited]
    let launcher: MailSessionLauncher
    let log: DovecotLog
    let pid = ChildPID()

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let pair = try SessionBroker.makePair()
            let pid: Int32
            do {
                pid = try spawn(broker: pair.login)
            } catch {
                close(pair.master)
                close(pair.login)
                throw error
            }
            close(pair.login)
            self.pid.set(pid)
            async let served: Void = SessionBroker.serve(socket: pair.master, launcher: launcher, log: log)
            let status = await withGracefulShutdownHandler {
                await PrivilegedMaster.waitForExit(pid)
            } onGracefulShutdown: {
                kill(pid, SIGTERM)
            }
            shutdown(pair.master, Int32(SHUT_RDWR))
            await served
            close(pair.master)
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            log.log("master", .error, "service(login): child \(pid) returned error \(status)")
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func spawn(broker: Int32) throws -> Int32 {
        let userName = settings.global.defaultLoginUser
        guard let account = getpwnam(userName) else {
            throw SessionBroker.Failure(description: "default_login_user doesn't exist: \(userName)")
        }
        let uid = account.pointee.pw_uid
        let gid = account.pointee.pw_gid
        var input: [Int32] = [0, 0]
        guard pipe(&input) == 0 else { throw SessionBroker.Failure(description: "pipe() failed") }
        tern_set_cloexec(input[1], 1)
        var arguments = ["libexec", "mail-login", "-c", settings.path, "--broker", String(broker)]
        for listener in listeners { arguments += ["--listen", listener.argument] }
        let path = DaemonStarter.executablePath()
        let keep = listeners.map(\.fd) + [broker]
        let groups: [gid_t] = [gid]
        let pid = withCStrings([path] + arguments) { argv in
            withCStrings(["PATH=/usr/bin:/bin"]) { envp in
                groups.withUnsafeBufferPointer { groupList in
                    keep.withUnsafeBufferPointer { keepFDs in
                        "/".withCString { root in
                            var options = tern_spawn_options()
                            options.stdin_fd = input[0]
                            options.stdout_fd = -1
                            options.stderr_fd = log.descriptor
                            options.keep_fd = -1
                            options.keep_fds = keepFDs.baseAddress
                            options.nkeep = Int32(keepFDs.count)
                            options.change_ids = 1
                            options.uid = uid
                            options.gid = gid
                            options.groups = groupList.baseAddress
                            options.ngroups = Int32(groupList.count)
                            options.cwd = root
                            return tern_spawn(path, argv, envp, &options)
                        }
                    }
                }
            }
        }
        close(input[0])
        defer { close(input[1]) }
        guard pid > 0 else { throw SessionBroker.Failure(description: "fork() failed: \(String(cString: strerror(errno)))") }
        let secrets = Secrets(certificate: settings.tlsCertificate, key: settings.tlsKey)
        if let data = try? JSONEncoder().encode(secrets) {
            _ = data.withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) }
        }
        return pid
    }

    /// Reads the secrets the master wrote on stdin.
    static func readSecrets() -> Secrets {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return (try? JSONDecoder().decode(Secrets.self, from: data)) ?? Secrets()
    }
}
