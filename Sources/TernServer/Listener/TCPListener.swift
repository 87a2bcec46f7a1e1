public import NIOCore
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// One listening socket from master.cf (`127.0.0.1:21025 inet ... smtpd`) and the sessions it accepts.
/// A session starts on the connection's event loop as soon as it is accepted (the greeting goes out without
/// a thread switch). On graceful shutdown the listener stops accepting at once and lets running sessions
/// finish; `postfix stop` waits for that (the drain), `postfix abort` does not.
public struct TCPListener: Service {
    public let host: String
    public let port: Int
    let channel: any Channel
    let sessions: Sessions
    let limiter: ConnectionLimiter
    let connections: OpenConnections

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
        try await start(maxSessions: maxSessions, limits: limits, group: group, sessions: sessions, host: host, port: port) {
            $0.serverChannelOption(.socketOption(.so_reuseaddr), value: 1).bind(host: host, port: port)
        }
    }

    /// Serves an already bound and listening socket (handed down by the master).
    public static func adopt(
        descriptor: Int32, host: String, port: Int, maxSessions: Int, limits: @escaping @Sendable () -> Limits,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, sessions: Sessions
    ) async throws -> TCPListener {
        try await start(maxSessions: maxSessions, limits: limits, group: group, sessions: sessions, host: host, port: port) {
            $0.withBoundSocket(descriptor)
        }
    }

    private static func start(
        maxSessions: Int, limits: @escaping @Sendable () -> Limits, group: any EventLoopGroup, sessions: Sessions,
        host: String, port: Int, listen: (ServerBootstrap) -> EventLoopFuture<any Channel>
    ) async throws -> TCPListener {
        let limiter = ConnectionLimiter(limit: maxSessions)
        let connections = OpenConnections()
        let loop = group.next()
        let bootstrap = ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Sessions read when they want the next command (smtpd(8) reads nothing ahead).
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer(initializer(limits, limiter, connections, sessions))
        let channel = try await listen(bootstrap).get()
        limiter.attach(channel)
        return TCPListener(
            host: host, port: port, channel: channel, sessions: sessions, limiter: limiter, connections: connections)
    }

    /// Each accepted connection gets the idle timeout, is counted, and its session starts once the
    /// connection limit admits it.
    private static func initializer(
        _ limits: @escaping @Sendable () -> Limits, _ limiter: ConnectionLimiter, _ connections: OpenConnections,
        _ sessions: Sessions
    ) -> @Sendable (any Channel) -> EventLoopFuture<Void> {
        { child in
            child.eventLoop.makeCompletedFuture {
                let current = limits()
                try child.pipeline.syncOperations.addHandlers(
                    IdleStateHandler(readTimeout: current.idleTimeout),
                    IdleTimeoutHandler(reply: current.timeoutReply))
                if connections.add(child) { sessions.shutdown(child) }
                child.closeFuture.whenComplete { _ in connections.remove(child) }
                limiter.admit {
                    child.closeFuture.whenComplete { _ in limiter.release() }
                    if child.eventLoop.inEventLoop {
                        sessions.start(child)
                    } else {
                        child.eventLoop.execute { sessions.start(child) }
                    }
                }
            }
        }
    }

    /// Serves until graceful shutdown, then stops accepting, asks every session to finish and returns when
    /// the last connection has closed.
    public func run() async throws {
        let (serverChannel, connections, sessions) = (channel, connections, self.sessions)
        await withGracefulShutdownHandler {
            try? await serverChannel.closeFuture.get()
            await connections.drained()
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
            for connection in connections.beginShutdown() { sessions.shutdown(connection) }
        }
    }
}

/// The listener's open connections (kept without a task per connection), so that a graceful shutdown can
/// reach each session and wait for the last one.
final class OpenConnections: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// Counts a new connection; true when the listener is already shutting down (the caller tells it to finish).
    func add(_ channel: any Channel) -> Bool {
        state.withLock { state in
            state.channels[ObjectIdentifier(channel)] = channel
            return state.shuttingDown
        }
    }

    func remove(_ channel: any Channel) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.channels[ObjectIdentifier(channel)] = nil
            guard state.channels.isEmpty else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The connections to tell to finish.
    func beginShutdown() -> [any Channel] {
        state.withLock { state in
            state.shuttingDown = true
            return Array(state.channels.values)
        }
    }

    /// Returns once no connection is open.
    func drained() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.channels.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
