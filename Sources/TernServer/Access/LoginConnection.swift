import NIOCore
import NIOPosix
import NIOSSL

/// Bytes from the client marked with the TLS epoch they arrived in: STARTTLS starts a new epoch, and bytes
/// of the old one still queued are dropped (CVE-2011-0411: nothing sent before the handshake may count).
struct LoginInput: Sendable {
    let epoch: Int
    let bytes: ByteBuffer
}

/// Marks inbound bytes with the current epoch; it sits after TLS and before the async channel.
final class InputEpochHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = LoginInput

    var epoch = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(LoginInput(epoch: epoch, bytes: unwrapInboundIn(data))))
    }
}

/// One client connection on the login side: reads, writes, STARTTLS, and its addresses.
final class LoginConnection {
    let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<LoginInput>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var epoch = 0
    private(set) var tlsActive: Bool

    init(
        channel: any Channel, inbound: NIOAsyncChannelInboundStream<LoginInput>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, tlsActive: Bool
    ) {
        self.channel = channel
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
        self.tlsActive = tlsActive
    }

    var remoteIP: String { channel.remoteAddress?.ipAddress ?? "" }
    var localIP: String { channel.localAddress?.ipAddress ?? "" }
    var remotePort: Int { channel.remoteAddress?.port ?? 0 }

    /// The next bytes of the current epoch; nil at end of input.
    func read() async throws -> [UInt8]? {
        while let input = try await inbound.next() {
            if input.epoch == epoch { return Array(input.bytes.readableBytesView) }
        }
        return nil
    }

    func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends `reply` in plaintext and puts TLS in front in the same event-loop turn, so that the client's
    /// handshake, whenever it comes, meets the TLS handler.
    func startTLS(reply: [UInt8], context: NIOSSLContext) async throws {
        let channel = self.channel
        try await channel.eventLoop.submit {
            channel.writeAndFlush(ByteBuffer(bytes: reply), promise: nil)
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context), position: .first)
            try channel.pipeline.syncOperations.handler(type: InputEpochHandler.self).epoch += 1
        }.get()
        epoch += 1
        tlsActive = true
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
