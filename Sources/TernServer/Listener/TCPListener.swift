public import NIOCore
public import NIOPosix
public import ServiceLifecycle

/// One listening socket from master.cf (`127.0.0.1:21025 inet ... smtpd`) and the sessions it accepts.
/// On graceful shutdown it stops accepting at once and lets running sessions finish; `postfix stop` waits
/// for that (the drain), `postfix abort` does not.
public struct TCPListener: Service {
    public typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    public let host: String
    public let port: Int
    let channel: NIOAsyncChannel<Connection, Never>
    let session: @Sendable (Connection) async -> Void
    let limiter: ConnectionLimiter

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
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        session: @escaping @Sendable (Connection) async -> Void
    ) async throws -> TCPListener {
        let channel = try await bootstrap(group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port, childChannelInitializer: initializer(limits))
        return TCPListener(
            host: host, port: port, channel: channel, session: session, limiter: ConnectionLimiter(limit: maxSessions))
    }

    /// Serves a socket the root master bound and passed down (privilege separation).
    public static func adopt(
        descriptor: Int32, host: String, port: Int, maxSessions: Int, limits: @escaping @Sendable () -> Limits,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        session: @escaping @Sendable (Connection) async -> Void
    ) async throws -> TCPListener {
        let channel = try await bootstrap(group).bind(descriptor, childChannelInitializer: initializer(limits))
        return TCPListener(
            host: host, port: port, channel: channel, session: session, limiter: ConnectionLimiter(limit: maxSessions))
    }

    private static func bootstrap(_ group: any EventLoopGroup) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
    }

    /// Each connection: smtpd_timeout (idle handler) in front of the async channel the session reads.
    private static func initializer(
        _ limits: @escaping @Sendable () -> Limits
    ) -> @Sendable (any Channel) -> EventLoopFuture<Connection> {
        { child in
            child.eventLoop.makeCompletedFuture {
                let current = limits()
                try child.pipeline.syncOperations.addHandlers(
                    IdleStateHandler(readTimeout: current.idleTimeout),
                    IdleTimeoutHandler(reply: current.timeoutReply))
                return try Connection(
                    wrappingChannelSynchronously: child, configuration: .init(isOutboundHalfClosureEnabled: true))
            }
        }
    }

    public func run() async throws {
        let serverChannel = channel.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    // At the process limit, new connections wait in the kernel's backlog (Postfix: maxproc).
                    var iterator = inbound.makeAsyncIterator()
                    while true {
                        await limiter.acquire()
                        guard let connection = try await iterator.next() else { break }
                        group.addTask {
                            await session(connection)
                            limiter.release()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
    }
}
