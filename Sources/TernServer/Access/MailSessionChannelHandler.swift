import NIOCore
import NIOPosix

/// A logged-in POP3 or IMAP conversation in the session worker, driven one step at a time: the client's
/// input, or a tick when it has been quiet for `tickMilliseconds`. Steps may block on the mailbox and on
/// `SessionOutput`, so they run on the worker's thread pool; the handler makes sure only one runs at a time.
protocol MailProtocolSession: AnyObject, Sendable {
    /// The first output (IMAP's tagged LOGIN answer, POP3's `+OK Logged in.`). true: the session is over.
    func start(_ output: SessionOutput) throws(SessionOutput.Closed) -> Bool
    func receive(_ bytes: [UInt8], _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool
    /// The client has sent nothing for `quietMilliseconds` (IMAP's IDLE poll, autologout).
    func tick(quietMilliseconds: Int, _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool
    /// How long to wait for input before the next tick.
    var tickMilliseconds: Int { get }
    /// After the last step: Dovecot's `Disconnected: ...` log line.
    func finish(clientClosed: Bool)
}

/// Runs a session's steps for its channel (the socket the login process proxies the client to). Reads only
/// while no step runs (autoRead is off), so input waiting for a busy session stays in the kernel.
final class MailSessionChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Builds the session on the first step (it reads settings and opens the mail store); nil after it has
    /// told the client why not.
    typealias Opener = @Sendable (SessionOutput) -> (any MailProtocolSession)?

    private struct Outcome: Sendable {
        var session: (any MailProtocolSession)?
        var close: Bool
    }

    private let pool: NIOThreadPool
    private let open: Opener
    private let ended: @Sendable () -> Void
    private var session: (any MailProtocolSession)?
    private var pending: [UInt8] = []
    private var running = false
    private var inactive = false
    private var finished = false
    private var quiet = 0
    private var tick: Scheduled<Void>?

    init(pool: NIOThreadPool, open: @escaping Opener, ended: @escaping @Sendable () -> Void) {
        self.pool = pool
        self.open = open
        self.ended = ended
    }

    func channelActive(context: ChannelHandlerContext) {
        let open = self.open
        run(context) { output in
            guard let session = open(output) else { return Outcome(session: nil, close: true) }
            return Outcome(session: session, close: try session.start(output))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receivePending(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        tick?.cancel()
        if !running { finish(clientClosed: true) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func receivePending(_ context: ChannelHandlerContext) {
        guard !running, !inactive, !pending.isEmpty, let session else { return }
        let bytes = pending
        pending = []
        quiet = 0
        run(context) { output in Outcome(session: session, close: try session.receive(bytes, output)) }
    }

    /// One step on the pool; afterwards the next input is read, or the next tick is scheduled.
    private func run(_ context: ChannelHandlerContext, _ step: @escaping @Sendable (SessionOutput) throws -> Outcome) {
        running = true
        tick?.cancel()
        let output = SessionOutput(channel: context.channel)
        let result = pool.runIfActive(eventLoop: context.eventLoop) { () -> Outcome in
            var outcome: Outcome
            do {
                outcome = try step(output)
                try output.flush(waiting: outcome.close)
            } catch {
                outcome = Outcome(session: nil, close: true)
            }
            return outcome
        }
        result.assumeIsolated().whenComplete { result in
            self.running = false
            let outcome = (try? result.get()) ?? Outcome(session: nil, close: true)
            if let session = outcome.session { self.session = session }
            if self.inactive {
                self.finish(clientClosed: true)
            } else if outcome.close {
                self.finish(clientClosed: false)
                context.close(promise: nil)
            } else if !self.pending.isEmpty {
                self.receivePending(context)
            } else {
                context.read()
                self.scheduleTick(context)
            }
        }
    }

    private func scheduleTick(_ context: ChannelHandlerContext) {
        guard let session else { return }
        let milliseconds = session.tickMilliseconds
        tick = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(milliseconds))) {
            guard !self.running, !self.inactive else { return }
            self.quiet += milliseconds
            let quiet = self.quiet
            self.run(context) { output in
                Outcome(session: session, close: try session.tick(quietMilliseconds: quiet, output))
            }
        }
    }

    private func finish(clientClosed: Bool) {
        guard !finished else { return }
        finished = true
        session?.finish(clientClosed: clientClosed)
        ended()
    }
}
