import Foundation
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
public import TernCore
import TernPolicy
import UnixSignals

/// `tern postgrey`'s listening socket, bound before privileges are dropped (so a port below 1024 works and
/// a busy port is reported at once).
public struct PostgreyListener: Sendable {
    let channel: NIOAsyncChannel<NIOAsyncChannel<String, ByteBuffer>, Never>
    public let endpoint: PostgreySettings.Endpoint

    /// The bound port (for `--inet=HOST:0` in tests).
    public var port: Int? { channel.channel.localAddress?.port }

    public static func bind(
        _ settings: PostgreySettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> PostgreyListener {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(settings.backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        switch settings.endpoint {
        case .inet(let host, let port):
            let channel = try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
            return PostgreyListener(channel: channel, endpoint: settings.endpoint)
        case .unix(let path, let mode):
            let channel = try await bootstrap.bind(
                unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            chmod(path, mode)
            return PostgreyListener(channel: channel, endpoint: settings.endpoint)
        }
    }

    /// Serves a socket bound by the root process before it became --user.
    public static func adopt(
        _ descriptor: Int32, _ settings: PostgreySettings,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> PostgreyListener {
        let channel = try await ServerBootstrap(group: group).bind(descriptor, childChannelInitializer: initializer)
        return PostgreyListener(channel: channel, endpoint: settings.endpoint)
    }

    /// Each connection: LF-terminated lines of at most `PostgreySettings.lineLimit` bytes.
    private static let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<String, ByteBuffer>> = {
        child in
        child.eventLoop.makeCompletedFuture {
            try child.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(AuthLineDecoder(maximumLength: PostgreySettings.lineLimit)))
            return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: child)
        }
    }
}

/// `tern postgrey`'s server: Postfix's policy delegation protocol, each connection answering its requests
/// in order (Postfix sends one at a time and keeps the connection).
public struct PostgreyServer: Service {
    let listener: PostgreyListener
    let policy: PostgreyPolicy
    let settings: PostgreySettings
    let log: MailLog

    public init(listener: PostgreyListener, policy: PostgreyPolicy, settings: PostgreySettings, log: MailLog) {
        self.listener = listener
        self.policy = policy
        self.settings = settings
        self.log = log
    }

    public func run() async throws {
        let channel = listener.channel
        let serverChannel = channel.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        // On SIGTERM open connections close too (smtpd keeps idle ones for minutes), as
                        // postgrey exits at once.
                        group.addTask {
                            await withGracefulShutdownHandler {
                                await serve(connection)
                            } onGracefulShutdown: {
                                connection.channel.close(promise: nil)
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        if case .unix(let path, _) = settings.endpoint { unlink(path) }
    }

    /// One client connection: lines in, `action=...` replies out, until the client closes.
    func serve(_ connection: NIOAsyncChannel<String, ByteBuffer>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var reader = PolicyRequestReader()
                for try await line in inbound {
                    switch reader.take(line: Substring(line)) {
                    case .pending: continue
                    case .garbage(let text): log.info("", "ignoring garbage: <\(text)>")
                    case .tooManyAttributes:
                        log.warning("", "more than \(PolicyRequestReader.attributeLimit) attributes in a request")
                        return
                    case .request(let attributes):
                        guard let action = await policy.answer(attributes) else { continue }
                        try await outbound.write(ByteBuffer(string: "action=\(action)\n\n"))
                        if settings.closeAfterAnswer { return }
                    }
                }
            }
        } catch is AuthLineDecoder.LineTooLong {
            log.warning("", "request line longer than \(PostgreySettings.lineLimit) bytes; connection closed")
        } catch {
            // The client went away; nothing to answer.
        }
    }
}

/// SIGHUP re-reads the whitelists (the database is cleaned as requests come in, as postgrey does).
public struct PostgreyReloader: Service {
    let policy: PostgreyPolicy

    public init(policy: PostgreyPolicy) {
        self.policy = policy
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() { await policy.reloadWhitelists() }
    }
}
