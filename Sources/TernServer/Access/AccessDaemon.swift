import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import TernAuth
import TernConfig
import TernCore
import Synchronization
import UnixSignals

/// The mail-access daemon `dovecot` runs: the auth service on its unix sockets, imap-login and pop3-login
/// on the inet listeners, and a mail session worker per logged-in user (run with the user's uid when the
/// daemon runs as root). SIGTERM stops it (`dovecot stop`); SIGHUP re-reads dovecot.conf for new sessions.
public enum AccessDaemon {
    /// `background`: started by `dovecot` through DaemonStarter, which waits for the ready line (then
    /// stdout and stderr go to /dev/null); otherwise `dovecot -F` or the demo, in the foreground.
    public static func run(configPath: String, background: Bool) async -> Int32 {
        let settings: AccessSettings
        do {
            settings = try AccessSettings.load(path: configPath)
        } catch {
            return fail("\(error)")
        }
        let log = DovecotLog(path: settings.global.logPath)
        do {
            try FileManager.default.createDirectory(atPath: settings.baseDirectory, withIntermediateDirectories: true)
        } catch {
            return fail("Fatal: mkdir(\(settings.baseDirectory)) failed: \(error)")
        }
        let pidFile = PidFile(path: settings.pidFile)
        let pidDescriptor: Int32
        do {
            pidDescriptor = try pidFile.claim()
        } catch DaemonError.alreadyRunning {
            return fail("Fatal: Dovecot is already running with PID \(pidFile.runningPid() ?? 0) (read from \(settings.pidFile))")
        } catch {
            return fail("Fatal: \(error)")
        }
        defer {
            pidFile.remove()
            close(pidDescriptor)
        }
        do {
            let services = try await makeServices(settings: settings, log: log)
            log.info("master", "Dovecot v\(TernVersion.string) (Tern) starting up for \(settings.global.protocols.joined(separator: ", "))")
            if background { DaemonStarter.signalReady() }
            var logger = Logger(label: "tern.dovecot")
            logger.logLevel = .warning
            let group = ServiceGroup(
                configuration: .init(
                    services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
            log.log("master", .warning, "Killed with signal 15")
            return 0
        } catch {
            log.log("master", .fatal, "\(error)")
            return fail("Fatal: \(error)")
        }
    }

    /// The auth sockets, the worker reaper, and the login side: in this process, or (as root) in a login
    /// process running as default_login_user.
    static func makeServices(settings: AccessSettings, log: DovecotLog) async throws -> [any Service] {
        let auth = try settings.authService(log: log)
        var services: [any Service] = []
        for listener in settings.authListeners {
            services.append(try await AuthSocketServer.bind(listener, service: auth))
        }
        let privileged = geteuid() == 0
        services.append(
            try await AuthSocketServer.bind(
                .init(
                    path: settings.loginAuthSocket, mode: 0o600,
                    user: privileged ? settings.global.defaultLoginUser : nil),
                service: auth))
        let launcher = MailSessionLauncher(
            executable: DaemonStarter.executablePath(), auth: auth, firstValidUID: settings.global.firstValidUID,
            lastValidUID: settings.global.lastValidUID, logDescriptor: log.descriptor,
            privilegedGroup: settings.privilegedGroup, sharedDictPath: settings.sharedDictPath)
        services.append(
            try await AnvilServer.bind(path: settings.baseDirectory + "/anvil") { launcher.runningSessions() })
        if privileged {
            var inherited: [LoginProcess.Inherited] = []
            for listener in settings.listeners {
                let fd = try ListenSocket.bind(host: listener.host, port: listener.port)
                inherited.append(.init(fd: fd, protocolName: listener.protocolName, ssl: listener.ssl))
            }
            let login = LoginProcess(settings: settings, listeners: inherited, launcher: launcher, log: log)
            services.append(login)
            services.append(ReloadSignalService(configPath: settings.path, log: log, states: nil, forwardTo: login.pid))
        } else {
            let tls = try tlsContext(settings, certificate: settings.tlsCertificate, key: settings.tlsKey)
            let states = LoginStates(settings)
            for listener in settings.listeners {
                services.append(
                    try await loginListener(
                        listener.protocolName, ssl: listener.ssl, descriptor: nil, host: listener.host,
                        port: listener.port, settings: settings, state: states.state(listener.protocolName), tls: tls,
                        log: log
                    ) { request, fd in
                        try await launcher.launch(request, socket: fd)
                    })
            }
            services.append(ReloadSignalService(configPath: settings.path, log: log, states: states, forwardTo: nil))
        }
        services += try await lmtpServers(settings: settings, launcher: launcher, log: log)
        services.append(WorkerReaper(launcher: launcher))
        return services
    }

    /// `protocols = ... lmtp`: the lmtp service's unix and inet listeners (local delivery from the MTA; they
    /// stay in the master, which starts the per-user delivery workers).
    static func lmtpServers(settings: AccessSettings, launcher: MailSessionLauncher, log: DovecotLog) async throws
        -> [any Service]
    {
        guard settings.global.protocols.contains("lmtp"), let service = settings.global.service("lmtp") else { return [] }
        let hostname = settings.global.string("hostname").isEmpty
            ? ProcessInfo.processInfo.hostName : settings.global.string("hostname")
        var context = LMTPSession.Context(
            hostname: hostname, configPath: settings.path, spoolDirectory: settings.baseDirectory, launcher: launcher,
            log: log)
        context.checkQuotaAtRCPT = settings.settings(protocol: "lmtp").bool("lmtp_rcpt_check_quota")
        var servers: [any Service] = []
        for listener in service.unixListeners {
            let path = listener.path.hasPrefix("/") ? listener.path : settings.baseDirectory + "/" + listener.path
            servers.append(try await LMTPServer.bind(unixPath: path, host: "", port: 0, context: context))
            try AuthSocketServer.applyOwnership(
                .init(
                    path: path, mode: mode_t(listener.mode), user: settings.reference(listener.user),
                    group: settings.reference(listener.group)))
        }
        for listener in service.inetListeners where listener.port > 0 {
            let addresses = listener.address.isEmpty ? settings.global.listen : AccessSettings.words(listener.address)
            for address in addresses {
                servers.append(
                    try await LMTPServer.bind(
                        unixPath: nil, host: AccessSettings.bindAddress(address), port: listener.port, context: context))
            }
        }
        return servers
    }

    /// `tern libexec mail-login`: the login side with the master's sockets, as default_login_user.
    public static func runLogin(_ arguments: [String]) async -> Int32 {
        var configPath: String?
        var broker: Int32?
        var listeners: [LoginProcess.Inherited] = []
        var index = 0
        while index + 1 < arguments.count {
            let value = arguments[index + 1]
            switch arguments[index] {
            case "-c": configPath = value
            case "--broker": broker = Int32(value)
            case "--listen":
                guard let listener = LoginProcess.Inherited(argument: value) else { return fail("bad --listen \(value)") }
                listeners.append(listener)
            default: return fail("tern libexec mail-login: bad arguments")
            }
            index += 2
        }
        guard let configPath, let broker, index == arguments.count else { return fail("tern libexec mail-login: bad arguments") }
        let secrets = LoginProcess.readSecrets()
        let log = DovecotLog(descriptor: 2)
        do {
            let settings = try AccessSettings.load(path: configPath, readingTLSFiles: false)
            let tls = try tlsContext(settings, certificate: secrets.certificate, key: secrets.key)
            let client = SessionBroker.Client(socket: broker)
            let states = LoginStates(settings)
            var services: [any Service] = []
            for listener in listeners {
                services.append(
                    try await loginListener(
                        listener.protocolName, ssl: listener.ssl, descriptor: listener.fd, host: "", port: 0,
                        settings: settings, state: states.state(listener.protocolName), tls: tls, log: log
                    ) { request, fd in
                        try await client.launch(request, socket: fd)
                    })
            }
            services.append(ReloadSignalService(configPath: configPath, log: nil, states: states, forwardTo: nil))
            services.append(BrokerClientRunner(client: client))
            var logger = Logger(label: "tern.dovecot.login")
            logger.logLevel = .warning
            let group = ServiceGroup(
                configuration: .init(
                    services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            return 0
        } catch {
            log.log("login", .fatal, "\(error)")
            return 89
        }
    }

    static func tlsContext(_ settings: AccessSettings, certificate: String?, key: String?) throws -> NIOSSLContext? {
        guard let certificate, let key else { return nil }
        return try AccessTLS.context(certificate: certificate, key: key, minimumProtocol: settings.global.sslMinProtocol)
    }

    static func loginListener(
        _ protocolName: String, ssl: Bool, descriptor: Int32?, host: String, port: Int, settings: AccessSettings,
        state: LoginService.State, tls: NIOSSLContext?, log: DovecotLog,
        startSession: @escaping LoginService.SessionStarter
    ) async throws -> AccessListener {
        let service = LoginService(
            protocolName: protocolName, tls: tls, authSocket: settings.loginAuthSocket, configPath: settings.path,
            log: log, startSession: startSession, state: state)
        let isIMAP = protocolName == "imap"
        let timeoutReply = isIMAP ? "* BYE Disconnected for inactivity.\r\n" : "-ERR Disconnected for inactivity.\r\n"
        return try AccessListener.start(
            descriptor: descriptor, host: host, port: port, tls: ssl ? tls : nil, timeoutReply: Array(timeoutReply.utf8),
            maxConnections: settings.connectionLimit(service: "\(protocolName)-login")
        ) { connection in
            if isIMAP {
                await IMAPLogin(service: service).run(connection)
            } else {
                await POP3Login(service: service).run(connection)
            }
        }
    }

    static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return 89
    }
}

/// The login settings per protocol, shared by that protocol's listeners (imap and imaps count one user's
/// sessions together).
final class LoginStates: Sendable {
    private let imap: LoginService.State
    private let pop3: LoginService.State

    init(_ settings: AccessSettings) {
        imap = LoginService.State(LoginSettings(settings.settings(protocol: "imap")))
        pop3 = LoginService.State(LoginSettings(settings.settings(protocol: "pop3")))
    }

    /// The listeners are imap-login's and pop3-login's only.
    func state(_ protocolName: String) -> LoginService.State { protocolName == "imap" ? imap : pop3 }

    func replace(with settings: AccessSettings) {
        for (name, state) in [("imap", imap), ("pop3", pop3)] {
            state.settings.withLock { $0 = LoginSettings(settings.settings(protocol: name)) }
        }
    }
}

/// `dovecot reload` (SIGHUP): dovecot.conf is read again; new logins get the new login settings (greeting,
/// mechanisms, plaintext rule, connection limit), new sessions the new mail settings (each session reads the
/// file). Listeners and the auth service's passdb/userdb list stay until a restart. As root the master passes
/// the signal on to the login process.
struct ReloadSignalService: Service {
    let configPath: String
    let log: DovecotLog?
    let states: LoginStates?
    let forwardTo: LoginProcess.ChildPID?

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            log?.log("master", .warning, "SIGHUP received - reloading configuration")
            do {
                let settings = try AccessSettings.load(path: configPath, readingTLSFiles: false)
                states?.replace(with: settings)
                if let pid = forwardTo?.current, pid > 0 { kill(pid, SIGHUP) }
            } catch {
                log?.log("master", .error, "Reload failed, keeping the running configuration: \(error)")
            }
        }
    }
}

/// The login process's broker client; when the master goes away, the login process ends too.
struct BrokerClientRunner: Service {
    let client: SessionBroker.Client

    func run() async throws {
        await cancelWhenGracefulShutdown { await client.run() }
    }
}

/// Reaps exited mail session workers; on shutdown stops the rest.
struct WorkerReaper: Service {
    let launcher: MailSessionLauncher

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(500))
            launcher.reap()
        }
        launcher.terminateAll()
    }
}
