import CTernSys
import Foundation
import Synchronization
import TernConfig
import TernCore
import TernQueue
import UnixSignals

/// The root half of the daemon when started as root, like Postfix's master(8): it binds the ports, opens the
/// mail log, and runs the network-facing daemon (`tern libexec mtad`) as `mail_owner` with those descriptors.
/// It stays to run delivery workers with recipients' uids (the `DeliveryBrokerServer` and its
/// `UserWorkerPool`), to pass on SIGTERM/SIGHUP, and to restart the daemon if it dies.
enum PrivilegedMaster {
    struct Account {
        let name: String
        let uid: UInt32
        let gid: UInt32
        let groups: [UInt32]
    }

    static func run(configDirectory: String, foreground: Bool, config: MainConfig, master: MasterConfig) async -> Int32 {
        let log = MailLogFactory.make(config: config, foreground: foreground)
        let ownerName = config.value("mail_owner")
        guard let owner = account(ownerName), owner.uid != 0 else {
            let message = "file \(config.file): parameter mail_owner: unknown user name value: \(ownerName)"
            log.log("master", message, severity: .fatal)
            return MTADaemon.fail(message)
        }
        let queue = QueueDirectory(path: config.value("queue_directory"))
        let pidFile = PidFile(queueDirectory: queue.path)
        let pidDescriptor: Int32
        var listeners: [InheritedListener] = []
        do {
            let setgid = getgrnam(config.value("setgid_group")).map { $0.pointee.gr_gid }
            try queue.createLayout(owner: owner.uid, ownerGroup: owner.gid, setgidGroup: setgid)
            let data = config.value("data_directory")
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            chown(data, owner.uid, owner.gid)
            pidDescriptor = try pidFile.claim()
            for service in master.services where service.type == .inet && service.command == "smtpd" {
                let addresses = InetListenAddress.addresses(
                    service: service.name, interfaces: try config.list("inet_interfaces"),
                    protocols: try config.list("inet_protocols")) ?? []
                for address in addresses {
                    let host = try address.host ?? ListenSocket.wildcard(protocols: config.list("inet_protocols"))
                    let fd = try ListenSocket.bind(host: host, port: address.port)
                    listeners.append(
                        InheritedListener(fd: fd, host: host, port: address.port, service: service.serviceKey))
                }
            }
        } catch {
            log.log("master", "\(error)", severity: .fatal)
            return MTADaemon.fail("\(error)")
        }
        defer {
            pidFile.remove()
            close(pidDescriptor)
        }
        // master.cf `spawn` services (policy servers): the master accepts and starts their commands as `user=`.
        let spawners: [SpawnService]
        do {
            spawners = try SpawnService.make(master: master, config: config, log: log)
        } catch {
            log.log("master", "\(error)", severity: .fatal)
            return MTADaemon.fail("\(error)")
        }
        spawners.forEach { $0.start() }
        defer { spawners.forEach { $0.stop() } }
        log.info("master", "daemon started -- version \(TernVersion.string), configuration \(configDirectory)")

        // smtpd's certificates and keys, read here as root (the mtad may not be able to open the key).
        let tlsChannel: TLSFileChannel
        let tlsDaemonEnd: Int32
        do {
            (tlsChannel, tlsDaemonEnd) = try TLSFileChannel.makePair()
        } catch {
            log.log("master", "\(error)", severity: .fatal)
            return MTADaemon.fail("\(error)")
        }
        let smtpServices = master.services.filter { $0.type == .inet && $0.command == "smtpd" }
        let state = MasterState()
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        let executor = UserDeliveryExecutor(
            executable: DaemonStarter.executablePath(), log: { log.info("master", $0) })
        await withDiscardingTaskGroup { group in
            group.addTask { await executor.run() }
            group.addTask {
                for await signal in signals {
                    let pid = state.child.withLock { child in
                        // No daemon yet (or between restarts): the next one gets the reload.
                        if signal == .sighup && child.pid == 0 { child.reloadPending = true }
                        return child.pid
                    }
                    if signal == .sighup {
                        // The files first: the mtad takes them when it reloads. The mtad logs the one
                        // `reload -- version ...` line once its new settings are in effect.
                        if let fresh = try? MainConfig.load(directory: configDirectory) {
                            tlsChannel.send(TLSFiles.collect(config: fresh, services: smtpServices))
                        }
                        if pid > 0 { kill(pid, SIGHUP) }
                        continue
                    }
                    state.stopping.store(true, ordering: .relaxed)
                    if pid > 0 { kill(pid, SIGTERM) }
                    break
                }
            }
            var first = true
            while !state.stopping.load(ordering: .relaxed) {
                let incarnation: Incarnation
                let current = (try? MainConfig.load(directory: configDirectory)) ?? config
                tlsChannel.send(TLSFiles.collect(config: current, services: smtpServices))
                do {
                    incarnation = try spawn(
                        configDirectory: configDirectory, foreground: foreground, owner: owner, listeners: listeners,
                        tlsFiles: tlsDaemonEnd, log: log)
                } catch {
                    log.log("master", "cannot start the mail daemon: \(error)", severity: .fatal)
                    break
                }
                let reload = state.child.withLock { child in
                    child.pid = incarnation.pid
                    defer { child.reloadPending = false }
                    return child.reloadPending
                }
                // The daemon starts with SIGHUP blocked, so this waits until it listens for it.
                if reload { kill(incarnation.pid, SIGHUP) }
                if first && !foreground { detachFromCaller() }
                first = false
                let broker = DeliveryBrokerServer(
                    fd: incarnation.broker, activeDirectory: queue.path + "/active", queueOwner: owner.uid,
                    executor: executor, log: { log.info("master", $0) })
                async let served: Void = broker.run()
                let status = await waitForExit(incarnation.pid)
                state.child.withLock { $0.pid = 0 }
                await served
                close(incarnation.broker)
                close(incarnation.parentLink)
                if state.stopping.load(ordering: .relaxed) { break }
                log.warning("master", "process tern/mtad pid \(incarnation.pid) exit status \(status)")
                try? await Task.sleep(for: .seconds(1))
            }
            group.cancelAll()
        }
        log.info("master", "terminating on signal 15")
        return 0
    }

    struct Incarnation {
        let pid: pid_t
        /// The master's end of the delivery broker socketpair.
        let broker: Int32
        /// The write end of a pipe the daemon watches: it exits when the master is gone.
        let parentLink: Int32
    }

    private static func spawn(
        configDirectory: String, foreground: Bool, owner: Account, listeners: [InheritedListener], tlsFiles: Int32,
        log: MailLog
    ) throws -> Incarnation {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw DaemonError.system("socketpair", errno)
        }
        var link: [Int32] = [0, 0]
        guard pipe(&link) == 0 else { throw DaemonError.system("pipe", errno) }
        tern_set_cloexec(link[0], 1)
        tern_set_cloexec(link[1], 1)
        var arguments = ["libexec", "mtad", "-c", configDirectory, "--broker", String(pair[1]), "--parent", String(link[0])]
        if foreground { arguments.append("-f") }
        if case .file = log.destination { arguments += ["--log", String(log.descriptor)] }
        for listener in listeners { arguments += ["--listen", listener.argument] }
        arguments += ["--tls-files", String(tlsFiles)]
        var keep = listeners.map(\.fd) + [pair[1], link[0], tlsFiles]
        if case .file = log.destination { keep.append(log.descriptor) }
        let path = DaemonStarter.executablePath()
        var environment = ["PATH=/usr/bin:/bin", "MAIL_CONFIG=\(configDirectory)"]
        for name in ["TZ", "LANG"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment.append("\(name)=\(value)") }
        }
        let pid = withCStrings([path] + arguments) { argv in
            withCStrings(environment) { envp in
                owner.groups.withUnsafeBufferPointer { groups in
                    keep.withUnsafeBufferPointer { keepFDs in
                        "/".withCString { root in
                            var options = tern_spawn_options()
                            options.stdin_fd = -1
                            options.stdout_fd = 1
                            options.stderr_fd = 2
                            options.keep_fd = -1
                            options.keep_fds = keepFDs.baseAddress
                            options.nkeep = Int32(keepFDs.count)
                            options.change_ids = 1
                            options.uid = owner.uid
                            options.gid = owner.gid
                            options.groups = groups.baseAddress
                            options.ngroups = Int32(groups.count)
                            options.cwd = root
                            options.block_sighup = 1  // `postfix reload` right after start must not kill it
                            return tern_spawn(path, argv, envp, &options)
                        }
                    }
                }
            }
        }
        close(pair[1])
        close(link[0])
        guard pid > 0 else {
            close(pair[0])
            close(link[1])
            throw DaemonError.system("fork", errno)
        }
        return Incarnation(pid: pid, broker: pair[0], parentLink: link[1])
    }

    /// After the first daemon has our stdout (it reports readiness to `postfix start` itself), the master
    /// lets go of the caller's descriptors.
    private static func detachFromCaller() {
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else { return }
        dup2(null, 1)
        dup2(null, 2)
        close(null)
    }

    /// waitpid(2) on a thread of its own; returns the exit status (or 128 + signal).
    static func waitForExit(_ pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let exited = status & 0x7F == 0
                continuation.resume(returning: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F))
            }
            thread.name = "tern-wait-\(pid)"
            thread.start()
        }
    }

    static func account(_ name: String) -> Account? {
        guard let entry = getpwnam(name) else { return nil }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = [gid]
            count = 1
        }
        return Account(name: name, uid: uid, gid: gid, groups: Array(groups.prefix(Int(count))))
    }
}

/// The running daemon's pid and whether the master is stopping (shared with the signal task).
final class MasterState: Sendable {
    /// The running daemon (0: none), and whether a SIGHUP came while there was none.
    let child = Mutex<(pid: pid_t, reloadPending: Bool)>((0, false))
    let stopping = Atomic<Bool>(false)
}

/// A listening socket the master bound, as passed to the daemon: `fd,host,port,service`.
struct InheritedListener: Sendable {
    let fd: Int32
    let host: String
    let port: Int
    let service: String

    var argument: String { "\(fd),\(host),\(port),\(service)" }

    init(fd: Int32, host: String, port: Int, service: String) {
        self.fd = fd
        self.host = host
        self.port = port
        self.service = service
    }

    init?(argument: String) {
        let parts = argument.split(separator: ",", maxSplits: 3).map(String.init)
        guard parts.count == 4, let fd = Int32(parts[0]), let port = Int(parts[2]) else { return nil }
        self.init(fd: fd, host: parts[1], port: port, service: parts[3])
    }
}
