import NIOCore
import Synchronization

/// smtpd_timeout: when the client sends nothing for that long, say why (`421 4.4.2 host Error: timeout
/// exceeded`) and close, as Postfix does. Sits behind an `IdleStateHandler`.
final class IdleTimeoutHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let reply: [UInt8]
    private let fired = Atomic<Bool>(false)

    init(reply: [UInt8]) {
        self.reply = reply
    }

    /// Whether the connection was closed for being idle (for the `timeout after CMD` log line).
    var timedOut: Bool { fired.load(ordering: .relaxed) }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        fired.store(true, ordering: .relaxed)
        let buffer = context.channel.allocator.buffer(bytes: reply)
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
