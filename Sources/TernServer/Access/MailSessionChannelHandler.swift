import NIOCore
import NIOPosix
import Synchronization
import Glibc

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
    /// Something the session waits for changed (IDLE's mailbox): report it.
    func wake(_ output: SessionOutput) throws(SessionOutput.Closed) -> Bool
    /// After the last step: Dovecot's `Disconnected: ...` log line.
    func finish(clientClosed: Bool)
}

extension MailProtocolSession {
    func wake(_ output: SessionOutput) throws(SessionOutput.Closed) -> Bool { false }
}

/// Runs a session's steps for its channel (the socket the login process proxies the client to). Reads only
/// while no step runs (autoRead is off), so input waiting for a busy session stays in the kernel. A step
/// writes its output and reads its client's next command itself, through a second descriptor of the socket
/// (SessionOutput): a client that answers within `followUpMilliseconds` keeps its pool thread, so a busy
/// session costs no thread switch per command; a quiet one goes back to the event loop. A step that runs
/// while the channel waits for input (a tick) leaves the reading to the channel.
final class MailSessionChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Builds the session on the first step (it reads settings and opens the mail store); nil after it has
    /// told the client why not. The session calls `wake` (from any thread) when something it waits for
    /// changed; a step then runs its `wake`.
    typealias Opener = @Sendable (SessionOutput, _ wake: @escaping @Sendable () -> Void) -> (any MailProtocolSession)?

    private struct Outcome: Sendable {
        var session: (any MailProtocolSession)?
        var close: Bool
        /// The client sent more while the step ran (the quiet time starts again).
        var receivedInput = false
        /// The client closed its end.
        var clientClosed = false
    }

    /// How long a step waits for the client's next command before the event loop takes over again.
    static let followUpMilliseconds: Int32 = 2
    /// Steps wait for follow-ups only while most pool threads are free.
    private static let waitingSteps = Atomic<Int>(0)

    private let pool: NIOThreadPool
    /// The session's socket for its steps (a dup of the channel's, closed at the end).
    private let descriptor: Int32
    private let open: Opener
    private let ended: @Sendable () -> Void
    private var session: (any MailProtocolSession)?
    private var pending: [UInt8] = []
    private var running = false
    private var inactive = false
    private var finished = false
    private var activated = false
    /// NIO has a read of the client's input pending (context.read() not answered yet): a step then must not
    /// read the socket itself, or the two would split the client's bytes between them.
    private var readPending = false
    private var quiet = 0
    private var tick: Scheduled<Void>?
    /// A wake came while a step ran: another step follows it.
    private var wakePending = false

    /// `pipelined`: what the client sent after its login command (the login process read it).
    init(
        pool: NIOThreadPool, descriptor: Int32, pipelined: [UInt8], open: @escaping Opener,
        ended: @escaping @Sendable () -> Void
    ) {
        self.pool = pool
        self.descriptor = descriptor
        pending = pipelined
        self.open = open
        self.ended = ended
    }

    static let wakeDelay = TimeAmount.milliseconds(500)

    func channelActive(context: ChannelHandlerContext) {
        activated = true
        let open = self.open
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        // Half a second later, as Dovecot's NOTIFY_DELAY_MSECS: a session that changed the mailbox (an APPEND)
        // syncs it first, so \Recent goes to it as in Dovecot, not to the session idling beside it.
        let wake: @Sendable () -> Void = {
            loop.scheduleTask(in: Self.wakeDelay) { bound.value.handler.wake(bound.value.context) }
        }
        run(context) { output in
            guard let session = open(output, wake) else { return Outcome(session: nil, close: true) }
            return Outcome(session: session, close: try session.start(output))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readPending = false
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

    /// A channel that never became active ran no step: its descriptor is closed here (otherwise by finish).
    func handlerRemoved(context: ChannelHandlerContext) {
        if !activated { close(descriptor) }
    }

    /// On the event loop: a step that reports the change, now or after the running one.
    private func wake(_ context: ChannelHandlerContext) {
        guard !inactive, !finished else { return }
        // A running step may be the first one still (it takes the client's follow-ups): the session is known
        // once it ends.
        guard !running else {
            wakePending = true
            return
        }
        guard let session else { return }
        run(context) { output in Outcome(session: session, close: try session.wake(output)) }
    }

    private func receivePending(_ context: ChannelHandlerContext) {
        guard !running, !inactive, !pending.isEmpty, let session else { return }
        let bytes = pending
        pending = []
        quiet = 0
        run(context) { output in Outcome(session: session, close: try session.receive(bytes, output)) }
    }

    /// One step on the pool, followed by the steps for whatever the client sends within
    /// `followUpMilliseconds`; afterwards the next input is read, or the next tick is scheduled.
    private func run(_ context: ChannelHandlerContext, _ step: @escaping @Sendable (SessionOutput) throws -> Outcome) {
        running = true
        tick?.cancel()
        let output = SessionOutput(descriptor: descriptor)
        let readsItself = !readPending
        let result = pool.runIfActive(eventLoop: context.eventLoop) { () -> Outcome in
            var outcome: Outcome
            var receivedInput = false
            do {
                outcome = try step(output)
                try output.flush()
                while readsItself, !outcome.close, let session = outcome.session, let input = Self.followUp(output) {
                    guard case .bytes(let bytes) = input else {
                        return Outcome(session: session, close: true, clientClosed: true)
                    }
                    receivedInput = true
                    outcome = Outcome(session: session, close: try session.receive(bytes, output))
                    try output.flush()
                }
            } catch {
                outcome = Outcome(session: nil, close: true)
            }
            outcome.receivedInput = receivedInput
            return outcome
        }
        result.assumeIsolated().whenComplete { result in
            self.running = false
            let outcome = (try? result.get()) ?? Outcome(session: nil, close: true)
            if let session = outcome.session { self.session = session }
            if outcome.receivedInput { self.quiet = 0 }
            if self.inactive {
                self.finish(clientClosed: true)
            } else if outcome.close {
                self.finish(clientClosed: outcome.clientClosed)
                context.close(promise: nil)
            } else if !self.pending.isEmpty {
                self.receivePending(context)
            } else if self.wakePending {
                self.wakePending = false
                self.wake(context)
            } else {
                self.readPending = true
                context.read()
                self.scheduleTick(context)
            }
        }
    }

    /// The client's next input if it comes within `followUpMilliseconds` and few steps are waiting already
    /// (a waiting step holds a pool thread).
    private static func followUp(_ output: SessionOutput) -> SessionOutput.Input? {
        defer { waitingSteps.subtract(1, ordering: .relaxed) }
        guard waitingSteps.add(1, ordering: .relaxed).newValue <= MailSessionWorker.stepThreads / 2 else { return nil }
        return output.read(within: followUpMilliseconds)
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
        close(descriptor)
        // The session's wake closure holds this handler: let go of the session so neither outlives the channel.
        session = nil
        ended()
    }
}
