public import NIOCore
public import NIOPosix
public import ServiceLifecycle

/// One listening socket from master.cf (`127.0.0.1:21025 inet ... smtpd`) and the sessions it accepts.
/// A session starts on the connection's event loop as soon as it is accepted (the greeting goes out without
/// a thread switch). On graceful shutdown the listener stops accepting at once and lets running sessions
/// finish; `postfix stop` waits for that (the drain), `postfix abort` does not.
public struct TCPListener: Service {
    public let host: String
    public let port: Int
    let channel: NIOAsyncChannel<any Channel, Never>
    let sessions: Sessions
    let limiter: ConnectionLimiter

    /// What the listener does with its connections.
    public struct Sessions: Sendable {
        /// Adds the session's handlers; runs on the connection's event loop, behind the timeout handlers.
        public var start: @Sendable (any Channel) -> Void
        /// Asks a running session to finish (graceful shutdown); called from any thread.
        public var shutdown: @Sendable (any Channel) -> Void
        public init(
            start: @escaping @Sendable (any Channel) -> Void, shutdown: @escaping @Sendable (any Channel) -> Void
        ) {
            self.start = start
            self.shutdown = shutdown
        }
    }

    /// Per-connection settings read when a connection arrives (they change with `postfix reload`).
    public struct Limits: Sendable {
        /// smtpd_timeout, and the reply sent when it expires.
        public var idleTimeout: TimeAmount
        public var timeoutReply: [UInt8]
        public init(idleTimeout: TimeAmount, timeoutReply: [UInt8]) {
            self.idleTimeout = idleTimeout
            self.timeoutReply = timeoutReply
        }
    }

    /// Binds now (so that `postfix start` can report a busy port before it daemonises) and serves in `run()`.
    public static func bind(
        host: String, port: Int, maxSessions: Int, limits: @escaping @Sendable () -> Limits,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, sessions: Sessions
    ) async throws -> TCPListener {
        let limiter = ConnectionLimiter(limit: maxSessions)
        let channel = try await bootstrap(group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port, childChannelInitializer: initializer(limits, limiter, sessions))
        limiter.attach(channel.channel)
        return TCPListener(host: host, port: port, channel: channel, sessions: sessions, limiter: limiter)
    }

    /// Serves a socket the root master bound and passed down (privilege separation).
    public static func adopt(
        descriptor: Int32, host: String, port: Int, maxSessions: Int, limits: @escaping @Sendable () -> Limits,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, sessions: Sessions
    ) async throws -> TCPListener {
        let limiter = ConnectionLimiter(limit: maxSessions)
        let channel = try await bootstrap(group)
            .bind(descriptor, childChannelInitializer: initializer(limits, limiter, sessions))
        limiter.attach(channel.channel)
        return TCPListener(host: host, port: port, channel: channel, sessions: sessions, limiter: limiter)
    }

    private static func bootstrap(_ group: any EventLoopGroup) -> ServerBootstrap {
        let loop = group.next()
        return ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Sessions read when they want the next command (smtpd(8) reads nothing ahead).
            .childChannelOption(.autoRead, value: false)
    }

    /// Each connection: smtpd_timeout (idle handler), then the session once the limiter admits it.
    private static func initializer(
        _ limits: @escaping @Sendable () -> Limits, _ limiter: ConnectionLimiter, _ sessions: Sessions
    ) -> @Sendable (any Channel) -> EventLoopFuture<any Channel> {
        { child in
            child.eventLoop.makeCompletedFuture {
                let current = limits()
                try child.pipeline.syncOperations.addHandlers(
                    IdleStateHandler(readTimeout: current.idleTimeout),
                    IdleTimeoutHandler(reply: current.timeoutReply))
                limiter.admit {
                    child.closeFuture.whenComplete { _ in limiter.release() }
                    if child.eventLoop.inEventLoop {
                        sessions.start(child)
                    } else {
                        child.eventLoop.execute { sessions.start(child) }
                    }
                }
                return child
            }
        }
    }

    public func run() async throws {
        let serverChannel = channel.channel
        let sessions = self.sessions
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            await withGracefulShutdownHandler {
                                try? await connection.closeFuture.get()
                            } onGracefulShutdown: {
                                sessions.shutdown(connection)
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
    }
}
