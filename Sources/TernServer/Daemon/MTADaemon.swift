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
    public static func run(configDirectory: String, foreground: Bool) async -> Int32 {
        let config: MainConfig
        let master: MasterConfig
        do {
            config = try MainConfig.load(directory: configDirectory)
            master = try MasterConfig.load(directory: configDirectory)
        } catch {
            return fail("\(error)", foreground: foreground)
        }
        let log = MailLogFactory.make(config: config, foreground: foreground)
        let queue = QueueDirectory(path: config.value("queue_directory"))
        let pidFile = PidFile(queueDirectory: queue.path)
        let pidDescriptor: Int32
        do {
            try queue.createLayout(owner: nil)
            try FileManager.default.createDirectory(
                atPath: config.value("data_directory"), withIntermediateDirectories: true)
            pidDescriptor = try pidFile.claim()
        } catch {
            log.log("master", "\(error)", severity: .fatal)
            return fail("\(error)", foreground: foreground)
        }
        defer {
            pidFile.remove()
            close(pidDescriptor)
        }

        let smtpServices = master.services.filter { $0.type == .inet && $0.command == "smtpd" }
        let executor = WorkerDeliveryExecutor(executable: DaemonStarter.executablePath())
        let runtime: MTARuntime
        let contexts: DeliveryContextStore
        do {
            let (base, services) = try makeSettings(config: config, services: smtpServices, log: log)
            contexts = DeliveryContextStore(try DeliveryContext.make(settings: base, executor: executor, log: log))
            let manager = QueueManager(queue: queue, log: log) { [contexts] in contexts.context }
            runtime = MTARuntime(settings: base, services: services, log: log, queue: queue, queueManager: manager)
        } catch {
            log.log("master", "\(error)", severity: .fatal)
            return fail("\(error)", foreground: foreground)
        }
        for service in master.services where !knownServices.contains(service.command) {
            log.info("master", "service \(service.name)/\(service.type.rawValue) (\(service.command)) is not provided by Tern; ignored")
        }

        var listeners: [TCPListener] = []
        do {
            for service in smtpServices {
                let addresses = InetListenAddress.addresses(
                    service: service.name, interfaces: try config.list("inet_interfaces"),
                    protocols: try config.list("inet_protocols")) ?? []
                if addresses.isEmpty { log.warning("master", "\(service.name): no address to listen on") }
                for address in addresses {
                    let key = service.serviceKey
                    listeners.append(
                        try await TCPListener.bind(host: address.host ?? "0.0.0.0", port: address.port) { connection in
                            await SMTPConnectionHandler.serve(connection, runtime: runtime, service: key)
                        })
                }
            }
        } catch {
            log.log("master", "bind: \(error)", severity: .fatal)
            return fail("bind: \(error)", foreground: foreground)
        }

        let triggers: AsyncStream<QueueTrigger>
        do {
            triggers = try QueueTrigger.listen(queueDirectory: queue.path)
        } catch {
            return fail("\(error)", foreground: foreground)
        }
        log.info("master", "daemon started -- version \(TernVersion.string), configuration \(configDirectory)")
        if !foreground { DaemonStarter.signalReady() }

        let reloader = ReloadService(
            configDirectory: configDirectory, log: log, runtime: runtime, services: smtpServices
        ) { settings in
            let context = try DeliveryContext.make(settings: settings, executor: executor, log: log)
            contexts.replace(context)
        }
        let fifo = TriggerService(stream: triggers, manager: runtime.queueManager)
        var logger = Logger(label: "tern.master")
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: runtime.queueManager), .init(service: fifo), .init(service: reloader),
                ] + listeners.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            log.warning("master", "\(error)")
        }
        log.info("master", "terminating on signal 15")
        return 0
    }

    /// master.cf services Tern provides inside the daemon (the rest are accepted and ignored).
    static let knownServices: Set<String> = [
        "smtpd", "pickup", "cleanup", "qmgr", "trivial-rewrite", "bounce", "local", "virtual", "showq", "flush",
        "error", "discard", "anvil", "scache", "postlogd", "proxymap", "verify", "tlsmgr",
    ]

    static func makeSettings(config: MainConfig, services: [MasterService], log: MailLog) throws
        -> (MTASettings, [String: MTASettings])
    {
        let base = try MTASettings.make(config: config, log: log)
        var perService: [String: MTASettings] = [:]
        for service in services where !service.overrideTable.isEmpty {
            perService[service.serviceKey] = try MTASettings.make(
                config: config.overriding(service.overrideTable), log: log)
        }
        return (base, perService)
    }

    private static func fail(_ message: String, foreground: Bool) -> Int32 {
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
    let applyDelivery: @Sendable (MTASettings) throws -> Void

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await withGracefulShutdownHandler {
            for await _ in signals.cancelOnGracefulShutdown() {
                do {
                    let config = try MainConfig.load(directory: configDirectory)
                    let (base, perService) = try MTADaemon.makeSettings(config: config, services: services, log: log)
                    try applyDelivery(base)
                    runtime.replaceSettings(base, services: perService)
                    log.info("master", "reload -- version \(TernVersion.string), configuration \(configDirectory)")
                } catch {
                    log.warning("master", "reload failed, keeping the running configuration: \(error)")
                }
            }
        } onGracefulShutdown: {}
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
