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

    /// Binds now (so that `postfix start` can report a busy port before it daemonises) and serves in `run()`.
    public static func bind(
        host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        session: @escaping @Sendable (Connection) async -> Void
    ) async throws -> TCPListener {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    try Connection(
                        wrappingChannelSynchronously: child,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return TCPListener(host: host, port: port, channel: channel, session: session)
    }

    /// Serves a socket the root master bound and passed down (privilege separation).
    public static func adopt(
        descriptor: Int32, host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        session: @escaping @Sendable (Connection) async -> Void
    ) async throws -> TCPListener {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(descriptor) { child in
                child.eventLoop.makeCompletedFuture {
                    try Connection(
                        wrappingChannelSynchronously: child,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return TCPListener(host: host, port: port, channel: channel, session: session)
    }

    public func run() async throws {
        let serverChannel = channel.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await session(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
    }
}
