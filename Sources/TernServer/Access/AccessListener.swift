import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// One inet_listener of imap-login or pop3-login and the login sessions it accepts. With implicit TLS
/// (imaps, pop3s) the handshake comes first. A login that does not finish within `loginTimeout` is cut off
/// (Dovecot's login processes disconnect idle clients after 3 minutes); after login, the mail session's
/// own timeouts apply.
struct AccessListener: Service {
    typealias Connection = NIOAsyncChannel<LoginInput, ByteBuffer>
    typealias Session = @Sendable (LoginConnection) async -> Void

    let channel: NIOAsyncChannel<Connection, Never>
    let session: Session
    /// Implicit TLS: connections are secure from the start.
    let tlsActive: Bool
    /// Connections at once (the service's process_limit × client_limit, Dovecot's ceiling); beyond it the
    /// listener stops accepting and clients wait in the kernel's backlog.
    let slots: ConnectionSlots

    static let loginIdleHandlerName = "login-idle"
    static let loginTimeout = TimeAmount.minutes(3)

    /// Serves `descriptor` (bound by the root master) or binds `host:port` itself.
    static func start(
        descriptor: Int32?, host: String, port: Int, tls: NIOSSLContext?, timeoutReply: [UInt8],
        maxConnections: Int, session: @escaping Session
    ) async throws -> AccessListener {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { child in
            child.eventLoop.makeCompletedFuture {
                let pipeline = child.pipeline.syncOperations
                if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                try pipeline.addHandler(IdleStateHandler(readTimeout: loginTimeout), name: loginIdleHandlerName)
                try pipeline.addHandler(IdleTimeoutHandler(reply: timeoutReply), name: loginIdleHandlerName + "-reply")
                try pipeline.addHandler(InputEpochHandler())
                return try Connection(wrappingChannelSynchronously: child)
            }
        }
        let channel: NIOAsyncChannel<Connection, Never>
        if let descriptor {
            channel = try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
        } else {
            channel = try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
        }
        return AccessListener(
            channel: channel, session: session, tlsActive: tls != nil, slots: ConnectionSlots(maxConnections))
    }

    func run() async throws {
        let serverChannel = channel.channel
        let tlsActive = self.tlsActive
        let session = self.session
        let slots = self.slots
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    var connections = inbound.makeAsyncIterator()
                    while true {
                        await slots.acquire()
                        guard let connection = try await connections.next() else {
                            slots.release()
                            break
                        }
                        // The login conversation and the proxy run on the connection's event loop, so that
                        // each client line is handled without a thread switch.
                        group.addTask(executorPreference: EventLoopTaskExecutor(connection.channel.eventLoop)) {
                            defer { slots.release() }
                            // `dovecot stop` ends sessions too (Dovecot kills its imap processes).
                            await withGracefulShutdownHandler {
                                try? await connection.executeThenClose { input, output in
                                    await session(
                                        LoginConnection(
                                            channel: connection.channel, inbound: input, outbound: output,
                                            tlsActive: tlsActive))
                                }
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
    }

    /// After login the mail session times the connection out, not the login side.
    static func removeLoginTimeout(_ channel: any Channel) async {
        try? await channel.pipeline.removeHandler(name: loginIdleHandlerName).get()
        try? await channel.pipeline.removeHandler(name: loginIdleHandlerName + "-reply").get()
    }
}

/// A counting semaphore for connections: `acquire` waits while all slots are taken.
final class ConnectionSlots: Sendable {
    private let state: Mutex<(free: Int, waiting: [CheckedContinuation<Void, Never>])>

    init(_ limit: Int) { state = Mutex((max(1, limit), [])) }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if !state.waiting.isEmpty { return state.waiting.removeFirst() }
            state.free += 1
            return nil
        }
        next?.resume()
    }
}
