import NIOCore
import NIOPosix
import NIOSSL
import TernAuth

/// The client's input on the login side, read from the socket only when the login asks for more (autoRead is
/// off). So nothing is read ahead: what the client sent and the login has not used is exactly what the mail
/// session gets when it takes the socket over, and STARTTLS drops the plaintext the login has not used
/// (CVE-2011-0411: nothing sent before the handshake may count).
final class LoginInputHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var buffered: [UInt8] = []
    private var waiting: EventLoopPromise<[UInt8]?>?
    private var ended = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        ended = true
        deliver()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffered += unwrapInboundIn(data).readableBytesView
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliver()
        // A read that brought nothing for the login (TLS records only) is followed by another.
        if waiting != nil { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        deliver()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ended = true
        deliver()
        context.close(promise: nil)
    }

    /// The next bytes (nil at the end of input), read from the socket if none are buffered.
    func next(_ promise: EventLoopPromise<[UInt8]?>) {
        guard waiting == nil else { return promise.fail(ChannelError.inappropriateOperationForState) }
        waiting = promise
        deliver()
        if waiting != nil { context?.read() }
    }

    /// What the login has not used; the buffer is empty afterwards.
    func takeBuffered() -> [UInt8] {
        defer { buffered = [] }
        return buffered
    }

    private func deliver() {
        guard let promise = waiting, !buffered.isEmpty || ended else { return }
        waiting = nil
        promise.succeed(buffered.isEmpty ? nil : takeBuffered())
    }
}

/// One client connection on the login side: reads, writes, STARTTLS, its addresses, and for a plaintext
/// connection a descriptor of the socket to hand to the mail session after login.
final class LoginConnection {
    let channel: any Channel
    private let input: NIOLoopBound<LoginInputHandler>
    /// The client's socket for the mail session (nil with TLS, which ends in this process, and once handed on).
    private var handOverDescriptor: Int32?
    private(set) var tlsActive: Bool

    init(channel: any Channel, input: NIOLoopBound<LoginInputHandler>, handOverDescriptor: Int32?, tlsActive: Bool) {
        self.channel = channel
        self.input = input
        self.handOverDescriptor = handOverDescriptor
        self.tlsActive = tlsActive
    }

    deinit {
        if let handOverDescriptor { close(handOverDescriptor) }
    }

    /// Dovecot's session ID (12 random bytes in base64), or the one a trusted proxy passed on.
    var sessionID = LoginService.newSessionID()
    /// What a client in login_trusted_networks said about the connection it proxies (IMAP ID's
    /// x-originating-ip and friends, POP3 XCLIENT): logins, logs and the auth penalty go by these.
    var forwardedRemoteIP: String?
    var forwardedRemotePort: Int?
    var forwardedLocalIP: String?

    var realRemoteIP: String { channel.remoteAddress?.ipAddress ?? "" }
    var realLocalIP: String { channel.localAddress?.ipAddress ?? "" }
    var remoteIP: String { forwardedRemoteIP ?? realRemoteIP }
    var localIP: String { forwardedLocalIP ?? realLocalIP }
    var remotePort: Int { forwardedRemotePort ?? channel.remoteAddress?.port ?? 0 }

    /// Takes a trusted client's word for the connection it proxies: addresses that do not parse and
    /// session IDs over 64 characters are ignored, as Dovecot ignores them.
    func forward(remoteIP: String?, remotePort: Int?, localIP: String?, sessionID: String?) {
        if let remoteIP, AllowNets.bytes(remoteIP) != nil { forwardedRemoteIP = remoteIP }
        if let remotePort { forwardedRemotePort = remotePort }
        if let localIP, AllowNets.bytes(localIP) != nil { forwardedLocalIP = localIP }
        if let sessionID, sessionID.count <= 64 { self.sessionID = sessionID }
    }

    /// The next bytes from the client; nil at end of input.
    func read() async throws -> [UInt8]? {
        let input = self.input
        let promise = channel.eventLoop.makePromise(of: [UInt8]?.self)
        channel.eventLoop.execute { input.value.next(promise) }
        return try await promise.futureResult.get()
    }

    /// Queues `bytes` for the client. The login side's replies are short, and a write waiting for the TLS
    /// handshake must not keep the login from reading the client's handshake.
    func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    /// Sends `reply` in plaintext and puts TLS in front in the same event-loop turn, so that the client's
    /// handshake, whenever it comes, meets the TLS handler; input the login has not used is dropped.
    func startTLS(reply: [UInt8], context: NIOSSLContext) async throws {
        let channel = self.channel
        let input = self.input
        try await channel.eventLoop.submit {
            channel.writeAndFlush(ByteBuffer(bytes: reply), promise: nil)
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context), position: .first)
            _ = input.value.takeBuffered()
        }.get()
        tlsActive = true
        if let handOverDescriptor { close(handOverDescriptor) }
        handOverDescriptor = nil
    }

    /// For a plaintext connection: the client's socket for the mail session (what the client sent after the
    /// bytes the login has read is still in the socket). nil over TLS.
    func takeForHandOver() -> Int32? {
        guard let descriptor = handOverDescriptor else { return nil }
        handOverDescriptor = nil
        return descriptor
    }

    /// After login: copies bytes both ways between the client and the mail session's socket until either
    /// side ends. `initial` is what the client pipelined after its login command. The session's output goes
    /// to the client from a handler on the session socket's channel; the client's input is forwarded by this
    /// task. Nothing more is kept per proxied connection, which matters for thousands of idle IMAP clients.
    func proxy(to sessionSocket: Int32, initial: [UInt8]) async throws {
        let client = channel
        let session = try await ClientBootstrap(group: channel.eventLoop)
            .channelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(SessionToClientHandler(client: client))
                }
            }
            .withConnectedSocket(sessionSocket).get()
        do {
            if !initial.isEmpty { try await session.writeAndFlush(ByteBuffer(bytes: initial)) }
            while let bytes = try await read() { try await session.writeAndFlush(ByteBuffer(bytes: bytes)) }
        } catch {
            // The client went away, or the session ended and closed it: either way the proxy is over.
        }
        try? await session.close()
    }
}

/// On the session socket's channel: writes what the mail session sends to the client, pausing reads from the
/// session while the client is not taking data, and closes the client when the session ends.
final class SessionToClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let client: any Channel

    init(client: any Channel) { self.client = client }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let written = client.writeAndFlush(unwrapInboundIn(data))
        guard !client.isWritable else { return }
        let session = context.channel
        session.setOption(ChannelOptions.autoRead, value: false).whenSuccess {
            written.whenComplete { _ in
                session.setOption(ChannelOptions.autoRead, value: true).whenSuccess { session.read() }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
