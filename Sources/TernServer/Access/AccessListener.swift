import CTernSys
import Dispatch
import Foundation
import Glibc
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// One inet_listener of imap-login or pop3-login and the login sessions it accepts. With implicit TLS
/// (imaps, pop3s) the handshake comes first. A login that does not finish within `loginTimeout` is cut off
/// (Dovecot's login processes disconnect idle clients after 3 minutes); after login, the mail session's
/// own timeouts apply.
///
/// Connections are accepted here rather than by a NIO server channel because a plaintext client's socket
/// is handed to the mail session after login: the login side keeps a descriptor of it next to its channel's.
struct AccessListener: Service {
    typealias Session = @Sendable (LoginConnection) async -> Void

    /// The listening socket (blocking: accept(2) waits on a thread of its own).
    let descriptor: Int32
    let session: Session
    let tls: NIOSSLContext?
    let timeoutReply: [UInt8]
    /// Connections at once (the service's process_limit × client_limit, Dovecot's ceiling); beyond it the
    /// listener stops accepting and clients wait in the kernel's backlog.
    let slots: DispatchSemaphore

    static let loginIdleHandlerName = "login-idle"
    static let loginTimeout = TimeAmount.minutes(3)

    /// Serves `descriptor` (bound by the root master) or binds `host:port` itself.
    static func start(
        descriptor: Int32?, host: String, port: Int, tls: NIOSSLContext?, timeoutReply: [UInt8],
        maxConnections: Int, session: @escaping Session
    ) throws -> AccessListener {
        let listening = try descriptor ?? ListenSocket.bind(host: host, port: port)
        let flags = fcntl(listening, F_GETFL)
        _ = fcntl(listening, F_SETFL, flags & ~O_NONBLOCK)
        return AccessListener(
            descriptor: listening, session: session, tls: tls, timeoutReply: timeoutReply,
            slots: DispatchSemaphore(value: max(1, maxConnections)))
    }

    func run() async throws {
        let connections = acceptedSockets()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await socket in connections {
                    group.addTask { await serve(socket) }
                }
            }
        } onGracefulShutdown: {
            // accept(2) returns EINVAL on a socket shut down for reading: the accepting thread ends.
            shutdown(descriptor, Int32(SHUT_RDWR))
        }
    }

    /// Accepted client sockets, from a thread that waits for a free slot before each accept.
    private func acceptedSockets() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let thread = Thread { [descriptor, slots] in
            while true {
                slots.wait()
                let client = tern_accept_cloexec(descriptor)
                if client >= 0 {
                    continuation.yield(client)
                    continue
                }
                let failure = errno
                slots.signal()
                if failure == EMFILE || failure == ENFILE {
                    usleep(100_000)  // out of descriptors: wait for sessions to end
                } else if failure != EINTR && failure != ECONNABORTED {
                    break  // the listener was shut down
                }
            }
            continuation.finish()
        }
        thread.name = "tern-login-accept"
        thread.start()
        return stream
    }

    /// One login conversation on the connection's event loop (each client line is handled without a thread
    /// switch), then the mail session or the proxy to it.
    private func serve(_ socket: Int32) async {
        defer { slots.signal() }
        // Over implicit TLS the socket stays with this process; otherwise it may be handed on after login.
        let nioSocket = tls == nil ? dup(socket) : socket
        guard nioSocket >= 0 else {
            close(socket)
            return
        }
        let channel: any Channel
        let input: NIOLoopBound<LoginInputHandler>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.autoRead, value: false)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { [tls, timeoutReply] child in
                    child.eventLoop.makeCompletedFuture {
                        let pipeline = child.pipeline.syncOperations
                        if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                        try pipeline.addHandler(
                            IdleStateHandler(readTimeout: Self.loginTimeout), name: Self.loginIdleHandlerName)
                        try pipeline.addHandler(
                            IdleTimeoutHandler(reply: timeoutReply), name: Self.loginIdleHandlerName + "-reply")
                        try pipeline.addHandler(LoginInputHandler())
                    }
                }
                .withConnectedSocket(nioSocket).get()
            input = try await channel.eventLoop.submit {
                NIOLoopBound(
                    try channel.pipeline.syncOperations.handler(type: LoginInputHandler.self), eventLoop: channel.eventLoop)
            }.get()
        } catch {
            if nioSocket != socket { close(socket) }  // the failed channel closed nioSocket
            return
        }
        let connection = LoginConnection(
            channel: channel, input: input, handOverDescriptor: tls == nil ? socket : nil, tlsActive: tls != nil)
        await withTaskExecutorPreference(EventLoopTaskExecutor(channel.eventLoop)) {
            // `dovecot stop` ends sessions too (Dovecot kills its imap processes).
            await withGracefulShutdownHandler {
                await session(connection)
            } onGracefulShutdown: {
                channel.close(promise: nil)
            }
        }
        try? await channel.close()
    }

    /// After login the mail session times the connection out, not the login side.
    static func removeLoginTimeout(_ channel: any Channel) async {
        try? await channel.pipeline.removeHandler(name: loginIdleHandlerName).get()
        try? await channel.pipeline.removeHandler(name: loginIdleHandlerName + "-reply").get()
    }
}
