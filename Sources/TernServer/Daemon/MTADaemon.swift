import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TernConfig
import TernCore
import TernQueue
import UnixSignals

/// The MTA daemon `postfix start` runs: smtpd listeners from master.cf, the queue manager, local delivery,
/// `postfix reload` on SIGHUP, an orderly stop on SIGTERM.
public enum MTADaemon {
    /// What the root master hands the unprivileged daemon (`tern libexec mtad`).
    public struct Inherited: Sendable {
        let listeners: [InheritedListener]
        let broker: Int32
        let parent: Int32
        let log: Int32?
        /// The master's TLSFileChannel end (smtpd certificates and keys).
        let tlsFiles: Int32?

        /// Parses `--listen fd,host,port,service ... --broker FD --parent FD [--log FD] [--tls-files FD]`.
        public init?(arguments: [String]) {
            var listeners: [InheritedListener] = []
            var broker: Int32?
            var parent: Int32?
            var log: Int32?
            var tlsFiles: Int32?
            var index = 0
            while index + 1 < arguments.count {
                let value = arguments[index + 1]
                switch arguments[index] {
                case "--listen":
                    guard let listener = InheritedListener(argument: value) else { return nil }
                    listeners.append(listener)
                case "--broker": broker = Int32(value)
                case "--parent": parent = Int32(value)
                case "--log": log = Int32(value)
                case "--tls-files": tlsFiles = Int32(value)
                default: return nil
                }
                index += 2
            }
            guard index == arguments.count, let broker, let parent else { return nil }
            self.listeners = listeners
            self.broker = broker
            self.parent = parent
            self.log = log
            self.tlsFiles = tlsFiles
        }
    }

    /// `postfix start` / `start-fg`: as root, the privilege-separated pair (master + daemon as mail_owner);
    /// otherwise (the demo, tests) one process as the invoking user.
    public static func run(configDirectory: String, foreground: Bool) async -> Int32 {
        let config: MainConfig
        let master: MasterConfig
        do {
            config = try MainConfig.load(directory: configDirectory)
            master = try MasterConfig.load(directory: configDirectory)
        } catch {
            return fail("\(error)")
        }
        if geteuid() == 0 {
            return await PrivilegedMaster.run(
                configDirectory: configDirectory, foreground: foreground, config: config, master: master)
        }
        return await serve(configDirectory: configDirectory, foreground: foreground, config: config, master: master,
            inherited: nil)
    }

    /// `tern libexec mtad`: the daemon started by the root master.
    public static func runInherited(configDirectory: String, foreground: Bool, inherited: Inherited) async -> Int32 {
        watchParent(inherited.parent)
        let config: MainConfig
        let master: MasterConfig
        do {
            config = try MainConfig.load(directory: configDirectory)
            master = try MasterConfig.load(directory: configDirectory)
        } catch {
            return fail("\(error)")
        }
        return await serve(configDirectory: configDirectory, foreground: foreground, config: config, master: master,
            inherited: inherited)
    }

    static func serve(
        configDirectory: String, foreground: Bool, config: MainConfig, master: MasterConfig, inherited: Inherited?
    ) async -> Int32 {
        let log: MailLog
        if let fd = inherited?.log {
            log = MailLog(syslogName: config.value("syslog_name"), hostname: config.value("myhostname"), descriptor: fd,
                path: config.value("maillog_file"))
        } else {
            log = MailLogFactory.make(config: config, foreground: foreground)
        }
        let queue = QueueDirectory(path: config.value("queue_directory"))
        let pidFile = PidFile(queueDirectory: queue.path)
        var pidDescriptor: Int32 = -1
        if inherited == nil {
            do {
                try queue.createLayout(owner: nil)
                try FileManager.default.createDirectory(
                    atPath: config.value("data_directory"), withIntermediateDirectories: true)
                pidDescriptor = try pidFile.claim()
            } catch {
                log.log("master", "\(error)", severity: .fatal)
                return fail("\(error)")
            }
        }
        defer {
            if pidDescriptor >= 0 {
                pidFile.remove()
                close(pidDescriptor)
            }
        }
        // master.cf `spawn` services: here when the daemon runs without root (the root master has them
        // otherwise); commands then run as this user.
        var spawners: [SpawnService] = []
        if inherited == nil {
            do {
                spawners = try SpawnService.make(master: master, config: config, log: log)
            } catch {
                log.log("master", "\(error)", severity: .fatal)
                return fail("\(error)")
            }
        }
        spawners.forEach { $0.start() }
        defer { spawners.forEach { $0.stop() } }

        // Recover the queue before any session can create a queue file (an incomplete file in incoming/ is
        // one whose client never got its 250).
        let recovered: RecoveryReport
        do {
            recovered = try queue.recover(minimumAge: 0)
        } catch {
            log.log("master", "queue recovery: \(error)", severity: .fatal)
            return fail("queue recovery: \(error)")
        }
        for id in recovered.removed { log.info("qmgr", "\(id): removed incomplete queue file") }
        for id in recovered.corrupt { log.warning("qmgr", "\(id): corrupt queue file moved to corrupt/") }

        let smtpServices = master.services.filter { $0.type == .inet && $0.command == "smtpd" }
        let executor: any DeliveryExecutor
        let broker: BrokeredDeliveryExecutor?
        if let inherited {
            broker = BrokeredDeliveryExecutor(fd: inherited.broker)
            executor = broker!
        } else {
            broker = nil
            executor = UserDeliveryExecutor(executable: DaemonStarter.executablePath())
        }
        let runtime: MTARuntime
        let contexts: DeliveryContextStore
        let tlsFiles = TLSFileStore(channel: inherited?.tlsFiles.map { TLSFileChannel(fd: $0) })
        do {
            let (base, services) = try makeSettings(
                config: config, services: smtpServices, log: log, files: tlsFiles.files)
            contexts = DeliveryContextStore(try DeliveryContext.make(settings: base, executor: executor, log: log))
            let manager = QueueManager(queue: queue, log: log, recovered: Set(recovered.requeued + recovered.kept)) { [contexts] in
                contexts.context
            }
            runtime = MTARuntime(settings: base, services: services, log: log, queue: queue, queueManager: manager)
        } catch {
            log.log("master", "\(error)", severity: .fatal)
            return fail("\(error)")
        }
        for service in master.services where !knownServices.contains(service.command) {
            log.info("master", "service \(service.name)/\(service.type.rawValue) (\(service.command)) is not provided by Tern; ignored")
        }

        var listeners: [TCPListener] = []
        let processLimit = config.int("default_process_limit") ?? 100
        func maxSessions(_ key: String) -> Int {
            smtpServices.first { $0.serviceKey == key }?.maxProcesses(default: processLimit) ?? processLimit
        }
        func limits(_ key: String) -> @Sendable () -> TCPListener.Limits {
            { [runtime] in
                let settings = runtime.settings(service: key)
                return TCPListener.Limits(
                    idleTimeout: .seconds(Int64(settings.smtpdTimeout)),
                    timeoutReply: Array("421 4.4.2 \(settings.hostname) Error: timeout exceeded\r\n".utf8))
            }
        }
        do {
            if let inherited {
                for listener in inherited.listeners {
                    listeners.append(
                        try await TCPListener.adopt(
                            descriptor: listener.fd, host: listener.host, port: listener.port,
                            maxSessions: maxSessions(listener.service), limits: limits(listener.service),
                            sessions: SMTPConnectionHandler.sessions(runtime: runtime, service: listener.service)))
                }
            } else {
                for service in smtpServices {
                    let addresses = InetListenAddress.addresses(
                        service: service.name, interfaces: try config.list("inet_interfaces"),
                        protocols: try config.list("inet_protocols")) ?? []
                    if addresses.isEmpty { log.warning("master", "\(service.name): no address to listen on") }
                    for address in addresses {
                        let key = service.serviceKey
                        listeners.append(
                            try await TCPListener.bind(
                                host: try address.host ?? ListenSocket.wildcard(protocols: config.list("inet_protocols")),
                                port: address.port, maxSessions: maxSessions(key),
                                limits: limits(key),
                                sessions: SMTPConnectionHandler.sessions(runtime: runtime, service: key)))
                    }
                }
            }
        } catch {
            log.log("master", "bind: \(error)", severity: .fatal)
            return fail("bind: \(error)")
        }

        let triggers: AsyncStream<QueueTrigger>
        do {
            triggers = try QueueTrigger.listen(queueDirectory: queue.path)
        } catch {
            return fail("\(error)")
        }
        if inherited == nil {
            log.info("master", "daemon started -- version \(TernVersion.string), configuration \(configDirectory)")
        }
        if !foreground { DaemonStarter.signalReady() }

        let reloader = ReloadService(
            configDirectory: configDirectory, log: log, runtime: runtime, services: smtpServices, tlsFiles: tlsFiles
        ) { settings in
            contexts.replace(try DeliveryContext.make(settings: settings, executor: executor, log: log))
        }
        let fifo = TriggerService(stream: triggers, manager: runtime.queueManager)
        var logger = Logger(label: "tern.master")
        logger.logLevel = .warning
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: SMTPConnectionPool.shared), .init(service: runtime.queueManager), .init(service: fifo),
            .init(service: reloader),
        ]
        if let broker { services.insert(.init(service: BrokerClientService(executor: broker)), at: 0) }
        // master.cf `postgrey` services: the greylisting policy server, run as a child of this daemon.
        services += PostgreyService.services(master: master, config: config, log: log).map { .init(service: $0) }
        let group = ServiceGroup(
            configuration: .init(
                services: services + listeners.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            log.warning("master", "\(error)")
        }
        if inherited == nil { log.info("master", "terminating on signal 15") }
        return 0
    }

    /// The daemon exits as soon as the root master is gone (its end of this pipe closes): a master killed
    /// with SIGKILL must not leave a daemon holding the ports.
    private static func watchParent(_ fd: Int32) {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(fd, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
            }
            _exit(0)
        }
        thread.name = "tern-parent-watch"
        thread.start()
    }

    /// master.cf services Tern provides inside the daemon (the rest are accepted and ignored).
    static let knownServices: Set<String> = [
        "smtpd", "pickup", "cleanup", "qmgr", "trivial-rewrite", "bounce", "local", "virtual", "showq", "flush",
        "error", "discard", "anvil", "scache", "postlogd", "proxymap", "verify", "tlsmgr", "postgrey",
    ]

    static func makeSettings(config: MainConfig, services: [MasterService], log: MailLog, files: TLSFiles) throws
        -> (MTASettings, [String: MTASettings])
    {
        let base = try MTASettings.make(config: config, log: log, files: files)
        var perService: [String: MTASettings] = [:]
        for service in services where !service.overrideTable.isEmpty {
            perService[service.serviceKey] = try MTASettings.make(
                config: config.overriding(service.overrideTable), log: log, files: files)
        }
        return (base, perService)
    }

    static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("postfix/master: fatal: \(message)\n".utf8))
        return 1
    }
}

/// SIGHUP: re-read main.cf and master.cf `-o` overrides; running sessions keep their settings, new ones
/// get the new ones.
struct ReloadService: Service {
    let configDirectory: String
    let log: MailLog
    let runtime: MTARuntime
    let services: [MasterService]
    let tlsFiles: TLSFileStore
    let applyDelivery: @Sendable (MTASettings) throws -> Void

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                let config = try MainConfig.load(directory: configDirectory)
                let (base, perService) = try MTADaemon.makeSettings(
                    config: config, services: services, log: log, files: tlsFiles.files)
                try applyDelivery(base)
                runtime.replaceSettings(base, services: perService)
                log.info("master", "reload -- version \(TernVersion.string), configuration \(configDirectory)")
            } catch {
                log.warning("master", "reload failed, keeping the running configuration: \(error)")
            }
        }
    }
}

/// Keeps reading the master's answers to delivery requests.
struct BrokerClientService: Service {
    let executor: BrokeredDeliveryExecutor

    /// Runs until the daemon stops; it is the last service to stop, after the queue manager's deliveries.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await executor.run() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

/// Forwards public/qmgr FIFO triggers to the queue manager.
struct TriggerService: Service {
    let stream: AsyncStream<QueueTrigger>
    let manager: QueueManager

    func run() async throws {
        for await trigger in stream.cancelOnGracefulShutdown() {
            manager.trigger(trigger)
        }
    }
}
