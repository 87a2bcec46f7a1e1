import Foundation
import NIOCore
import NIOPosix
import NIOTLS
import TernCore
import TernPolicy
import TernQueue
import TernSMTP

/// Drives one SMTP connection on its channel's event loop: bytes in through the framer or the DATA receiver,
/// the state machine decides, this carries out its actions (policy checks, queue file writing) and writes
/// the replies. Replies to pipelined commands are sent together once the buffered input is used up
/// (RFC 2920). Commands are handled where the bytes arrive, without a thread switch; only lookups and the
/// fsync of a new queue file leave the event loop. Input is read only when the session wants more (the
/// channel runs with autoRead off), as smtpd(8) reads nothing ahead of the command it is working on.
final class SMTPSession: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let runtime: MTARuntime
    let settings: MTASettings
    let client: ClientIdentity

    private var machine: SMTPServerStateMachine
    private var framer: SMTPLineFramer
    private var data: DataReceiver?
    private var message: IncomingMessage?
    private var pending: [SMTPServerAction] = []
    private var output: [UInt8] = []
    /// A lookup, commit or pause is running; its result continues the session.
    private var waiting = false
    private var started = false
    private var closing = false
    private var inputEnded = false
    private var finished = false
    private var lastCommand = "CONNECT"
    /// For the postmaster notice of notify_classes (protocol, policy, resource, software, bounce).
    private var transcript = SessionTranscript()
    /// The connection to the Dovecot auth server, when smtpd_sasl_auth_enable is on.
    private var saslClient: DovecotSASLClient?
    /// Our address on this connection (`lip=` for the auth server).
    private var localAddress: String?
    private var localSocket: SocketAddress?
    /// smtpd's restriction lists and their state in this session (defer_if_permit, message actions).
    private let policy: RecipientPolicy
    private var restrictionState = RestrictionSessionState()
    /// Commands arrived ahead of replies where that is not allowed (reject_unauth_pipelining).
    private var improperPipelining = false
    /// The policy protocol's `instance`: one value per MAIL transaction.
    private var policyInstance = ""
    private var transactions = 0
    /// The TLS handshake (STARTTLS or wrapper mode) is running; what it negotiated, once done.
    private var handshaking = false
    private var tls: TLSConnectionDetails?
    /// The client's anvil counters (smtpd_client_*_limit).
    private var events: ClientEventControl

    init(runtime: MTARuntime, settings: MTASettings, client: ClientIdentity, events: ClientEventControl) {
        self.runtime = runtime
        self.settings = settings
        self.client = client
        self.events = events
        machine = SMTPServerStateMachine(configuration: settings.smtpd)
        policy = RecipientPolicy(settings: settings, client: client)
        framer = SMTPLineFramer(lineLengthLimit: settings.smtpd.lineLengthLimit)
    }

    /// Whether a message is being received or committed (a shutdown lets it finish, then says 421).
    private var isReceivingMessage: Bool { data != nil || (waiting && !handshaking) }

    /// The session may be added before the accepted channel is registered (then it starts on channelActive).
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        runtime.log.info("smtpd", "connect from \(client.logName)")
        localSocket = context.channel.localAddress
        localAddress = localSocket?.ipAddress
        if settings.restrictions.lacksRelayControl {
            // Postfix's smtpd exits here (fatal); the client sees the connection close without a greeting.
            runtime.log.log("smtpd", RestrictionSettings.relayControlFatal, severity: .fatal)
            finished = true
            closing = true
            context.close(promise: nil)
            return
        }
        guard settings.tls.wrapperMode else { return prepare(context) }
        guard settings.tls.context != nil else {
            runtime.log.warning(
                "smtpd",
                "Wrapper-mode request dropped from \(client.logName). TLS context initialization failed. For details see earlier warnings in your logs.")
            return abandon(context)
        }
        startHandshake(context)
    }

    /// Before the greeting: the client's connection count and rate (after the wrapper-mode handshake, as
    /// in Postfix), then the auth server, when SASL is on.
    private func prepare(_ context: ChannelHandlerContext) {
        if let refusal = events.connect() { return refuseByLimit(refusal, context) }
        machine.limitedEvents = events.limitedEvents
        guard let sasl = settings.sasl else { return greet(context) }
        connectSASL(sasl, context)
    }

    /// TLS goes in front (STARTTLS after its 220 was written, or wrapper mode at connect); the session
    /// waits for the handshake. With autoRead off, one read starts it (NIOSSLHandler reads on from there).
    private func startHandshake(_ context: ChannelHandlerContext) {
        guard let tlsContext = settings.tls.context else { return }
        flushOutput(context)
        do {
            try SMTPTLSUpgrade.install(tlsContext, on: context.pipeline.syncOperations)
        } catch {
            runtime.log.warning("smtpd", "cannot start TLS for \(client.logName): \(error)")
            closing = true
            return
        }
        handshaking = true
        waiting = true
        context.read()
    }

    private func handshakeCompleted(_ context: ChannelHandlerContext) {
        guard handshaking else { return }
        handshaking = false
        waiting = false
        let details = SMTPTLSUpgrade.details(context.pipeline.syncOperations)
        tls = details
        if settings.tls.logLevel >= 1 {
            runtime.log.info("smtpd", "Anonymous TLS connection established from \(client.logName): \(details.summary)")
        }
        if let refusal = events.newTLSSession() {
            runtime.log.warning("smtpd", refusal.warning)
            transcript.record(.policy)
            pending += machine.tlsSessionRefused(refusal.reply)
            return drive(context)
        }
        if settings.tls.wrapperMode && !machine.isTLSActive {
            machine.implicitTLSEstablished()
            return prepare(context)
        }
        pending += machine.tlsEstablished()
        drive(context)
    }

    private func greet(_ context: ChannelHandlerContext) {
        guard !settings.restrictions.delayReject, settings.restrictions.has(.client) else {
            pending = machine.connected()
            return drive(context)
        }
        // smtpd_delay_reject = no: a refused client gets the rejection instead of the greeting.
        restrict(restrictionRequest("CONNECT"), context, { await $0.checkClient($1, &$2) }) { result in
            let greeting = self.machine.connected()
            guard case .rejected(let reply) = result else { return greeting }
            // Every command but QUIT gets 503 from now on; the refusal is the session's first error.
            self.machine.refuseCommands(
                with: SMTPReply(code: 503, enhancedStatus: "5.7.0", "Error: access denied for \(self.client.logName)"))
            return [.send(reply)]
        }
        drive(context)
    }

    /// Postfix's smtpd_sasl_activate(): before the greeting, connect to the auth server and learn its
    /// mechanisms. Without them smtpd gives up on the session (`fatal: no SASL authentication mechanisms`;
    /// Postfix's smtpd process exits, so the client sees the connection close without a greeting).
    private func connectSASL(_ sasl: SMTPDSASLSettings, _ context: ChannelHandlerContext) {
        let saslClient = DovecotSASLClient(loop: context.eventLoop, service: sasl.service)
        self.saslClient = saslClient
        waiting = true
        saslClient.open(sasl.endpoint).assumeIsolated().whenComplete { result in
            self.waiting = false
            switch result {
            case .success(let handshake):
                self.machine.saslMechanisms = sasl.offered(handshake.mechanisms, tls: false)
                self.machine.saslMechanismsWithTLS = sasl.offered(handshake.mechanisms, tls: true)
                if self.machine.saslMechanisms.isEmpty {
                    self.runtime.log.warning("smtpd", "no applicable SASL mechanisms")
                    return self.abandon(context, fatal: "no SASL authentication mechanisms")
                }
                self.checkSASLExceptions(sasl.exceptions, context)
            case .failure(let error):
                self.runtime.log.warning(
                    "smtpd",
                    "SASL: Connect to Dovecot auth socket '\(sasl.endpoint.configured)' failed: \(Self.reason(error))")
                self.abandon(context, fatal: "no SASL authentication mechanisms")
            }
        }
    }

    /// smtpd_sasl_exceptions_networks, then the greeting. A table lookup error hides AUTH, as Postfix does
    /// when it cannot tell (`cant_announce_feature`).
    private func checkSASLExceptions(_ exceptions: HostAddressList, _ context: ChannelHandlerContext) {
        guard !exceptions.isEmpty else { return greet(context) }
        let client = self.client
        let log = runtime.log
        let listed = context.eventLoop.makeFutureWithLoopTask {
            do {
                return try await exceptions.contains(name: client.name, address: client.address)
            } catch {
                log.warning("smtpd", "\(client.logName): smtpd_sasl_exceptions_networks: \(error); not announcing AUTH")
                return true
            }
        }
        waiting = true
        listed.assumeIsolated().whenSuccess { listed in
            self.waiting = false
            self.machine.authHiddenFromEHLO = listed
            self.greet(context)
        }
    }

    /// Ends the session as a dying smtpd process does: no reply, no disconnect line.
    private func abandon(_ context: ChannelHandlerContext, fatal: String? = nil) {
        if let fatal { runtime.log.log("smtpd", fatal, severity: .fatal) }
        finished = true
        closing = true
        saslClient?.close()
        events.disconnect()
        context.close(promise: nil)
    }

    /// The system's text for a connect error (`No such file or directory`), as Postfix's %m.
    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return reason(first.error)
        }
        return "\(error)"
    }

    func channelRead(context: ChannelHandlerContext, data bytes: NIOAny) {
        receive(Array(unwrapInboundIn(bytes).readableBytesView))
        if !waiting { drive(context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            handshakeCompleted(context)
        } else if case ChannelEvent.inputClosed = event {
            inputEnded = true
            if !waiting { drive(context) }
        } else if event is Shutdown {
            if !isReceivingMessage {
                closing = true
                context.close(promise: nil)
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if handshaking && !finished && !closing {
            runtime.log.info("smtpd", "SSL_accept error from \(client.logName): \(error)")
        }
        if !finished && !closing {
            runtime.log.info("smtpd", "lost connection after \(lastCommand) from \(client.logName)")
            closing = true
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard started else { return context.fireChannelInactive() }
        if !closing {
            let timedOut = (try? context.pipeline.syncOperations.handler(type: IdleTimeoutHandler.self))?.timedOut ?? false
            runtime.log.info(
                "smtpd", "\(timedOut ? "timeout" : "lost connection") after \(lastCommand) from \(client.logName)")
        }
        end()
        context.fireChannelInactive()
    }

    /// Graceful shutdown, sent through the pipeline: an idle session is cut off (as Postfix's master stops
    /// smtpd); one receiving a message finishes it and then says 421.
    struct Shutdown: Sendable {}

    // MARK: - The loop

    /// Carries out pending actions and buffered commands until the session needs input or a result.
    private func drive(_ context: ChannelHandlerContext) {
        while !waiting && !finished {
            if !pending.isEmpty {
                perform(pending.removeFirst(), context)
                continue
            }
            if !closing, data == nil, machine.isAwaitingInput, let line = nextLine() {
                if !machine.isAwaitingSASLResponse { lastCommand = Self.verb(of: line) }
                transcript.received(String(decoding: line.bytes, as: UTF8.self))
                if framer.bufferedByteCount > 0
                    && (machine.protocolName != "ESMTP" || ["EHLO", "HELO", "DATA", "STARTTLS"].contains(lastCommand))
                {
                    improperPipelining = true
                }
                pending = machine.receive(line)
                continue
            }
            if closing {
                end()
                // The last reply (221, 421) goes out before the connection closes.
                let channel = context.channel
                flushOutput(context).whenComplete { _ in channel.close(promise: nil) }
                return
            }
            if inputEnded {
                runtime.log.info("smtpd", "lost connection after \(lastCommand) from \(client.logName)")
                closing = true
                continue
            }
            if runtime.isShuttingDown && data == nil && machine.transaction == nil {
                output += Array("421 4.3.2 \(settings.hostname) Service shutting down\r\n".utf8)
                closing = true
                continue
            }
            flushOutput(context)
            context.read()
            return
        }
    }

    /// The next command (or SASL response) line, framed with the limit the state machine expects.
    private func nextLine() -> FramedLine? {
        framer.lineLengthLimit = machine.inputLineLimit
        return framer.next()
    }

    @discardableResult
    private func flushOutput(_ context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        guard !output.isEmpty, context.channel.isActive else { return context.eventLoop.makeSucceededVoidFuture() }
        defer { output.removeAll(keepingCapacity: true) }
        return context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)))
    }

    /// The disconnect line, once; an unfinished queue file is removed.
    private func end() {
        guard !finished else { return }
        finished = true
        message?.abort()
        message = nil
        saslClient?.close()
        events.disconnect()
        runtime.log.info("smtpd", "disconnect from \(client.logName) \(machine.disconnectLogText)")
        notifyPostmaster()
    }

    /// smtpd_chat_notify(): the session's transcript to the postmaster when it had an error of a class in
    /// notify_classes (bounce errors to bounce_notice_recipient, others to error_notice_recipient). Written
    /// on the thread pool: the fsync must not hold up the event loop.
    private func notifyPostmaster() {
        let settings = self.settings
        let notified = transcript.errors.filter { settings.notifyClasses.contains($0.rawValue) }
        guard !notified.isEmpty else { return }
        let recipient = notified.contains(.bounce) ? settings.noticeRecipients.bounce : settings.noticeRecipients.error
        let (transcript, client, log, queue, manager) = (transcript, client.logName, runtime.log, runtime.queue, runtime.queueManager)
        BlockingIO.pool.submit { state in
            guard case .active = state else { return }
            do {
                let (id, messageID) = try queue.postMail(
                    sender: settings.postmasterNoticeSender, recipient: recipient, hostname: settings.hostname
                ) {
                    transcript.notice(
                        mailName: settings.mailName, hostname: settings.hostname, client: client, to: recipient,
                        messageID: $0, now: $1)
                }
                log.info("cleanup", "\(id): message-id=\(messageID)")
                manager.queued(id)
            } catch {
                log.warning("smtpd", "cannot queue a postmaster notice for \(client): \(error)")
            }
        }
    }

    /// Input bytes: DATA content goes to the receiver (and the queue file); commands to the framer.
    private func receive(_ bytes: [UInt8]) {
        guard var receiver = data else {
            framer.append(bytes)
            return
        }
        let result = receiver.receive(bytes)
        data = receiver
        message?.write(result.records)
        guard let end = result.end else { return }
        data = nil
        framer.append(end.remaining)
        pending += machine.dataEnded(sizeExceeded: end.sizeExceeded)
    }

    /// Waits for `work` (a lookup, the fsync, a pause) without blocking the loop; `then` turns its value
    /// into the actions that continue the session.
    private func resume<Value: Sendable>(
        after work: EventLoopFuture<Value>, _ context: ChannelHandlerContext,
        then: @escaping (Value) -> [SMTPServerAction]
    ) {
        waiting = true
        work.assumeIsolated().whenComplete { result in
            self.waiting = false
            switch result {
            case .success(let value):
                self.pending += then(value)
            case .failure(let error):
                self.runtime.log.warning("smtpd", "\(self.client.logName): \(error)")
                self.transcript.record(.software)
                self.pending += [.send(SMTPReply(code: 421, enhancedStatus: "4.3.0", "\(self.settings.hostname) Error: internal error")), .close]
            }
            self.drive(context)
        }
    }

    private func perform(_ action: SMTPServerAction, _ context: ChannelHandlerContext) {
        let loop = context.eventLoop
        switch action {
        case .send(let reply):
            transcript.sent(reply)
            output += reply.encoded
        case .pause(let seconds):
            resume(after: loop.scheduleTask(in: .seconds(Int64(seconds))) {}.futureResult, context) { [] }
        case .close:
            closing = true
        case .log(let warning):
            runtime.log.info("smtpd", warning.logText(client: client.logName))
        case .checkHelo(let name):
            var request = restrictionRequest(lastCommand)
            request.heloName = name
            restrict(request, context, { await $0.checkHelo($1, &$2) }) { self.machine.heloChecked($0) }
        case .checkSender(let check):
            restrictionState.resetTransaction()
            transactions += 1
            policyInstance = [Int(getpid()), Int(Date().timeIntervalSince1970), transactions]
                .map { String($0, radix: 16) }.joined(separator: ".")
            guard !settings.restrictions.delayReject, policy.evaluator.hasRestrictions(.sender) else {
                pending += machine.senderChecked(.accepted)
                return
            }
            let request = restrictionRequest("MAIL", sender: check.sender, size: check.parameters.size)
            restrict(request, context, { await $0.checkSender($1, &$2) }) { self.machine.senderChecked($0) }
        case .checkRecipient(let check):
            let request = restrictionRequest(
                "RCPT", sender: check.transaction.sender, recipient: check.recipient.address,
                size: check.transaction.parameters.size)
            restrict(request, context, { await $0.checkRecipient($1, &$2) }) { self.machine.recipientChecked($0) }
        case .checkData(let transaction):
            let request = restrictionRequest(
                "DATA", sender: transaction.sender, recipient: transaction.recipients.last?.address,
                recipientCount: transaction.recipients.count, size: transaction.parameters.size)
            restrict(request, context, { await $0.checkData(.data, $1, &$2) }) { self.machine.dataChecked($0) }
        case .verifyAddress(let request):
            let policy = self.policy
            resume(after: loop.makeFutureWithLoopTask { await policy.verify(request) }, context) {
                self.machine.verifyChecked($0)
            }
        case .runETRN(let domain):
            // Only destinations in fast_flush_domains (Postfix's flush service says the same).
            let domains = settings.fastFlushDomains
            resume(after: loop.makeFutureWithLoopTask { (try? await domains.contains(domain)) ?? false }, context) { listed in
                guard listed else {
                    self.runtime.log.warning("smtpd", "reject: ETRN \(domain.prefix(100))... from \(self.client.logName)")
                    return self.machine.etrnFinished(.etrnServiceUnavailable(domain))
                }
                self.runtime.queueManager.trigger(.flushSite(domain.lowercased()))
                return self.machine.etrnFinished(.etrnQueuingStarted)
            }
        case .receiveData(let transaction):
            var made = runtime.envelope(
                for: transaction, settings: settings, client: client, helo: machine.heloName,
                protocolName: machine.protocolName, login: saslLogin, arrival: Date())
            restrictionState.actions.apply(to: &made, log: runtime.log)
            let envelope = made
            let rewriter = settings.addressRewriter
            guard rewriter.isConfigured else {
                startMessage(transaction, envelope, rewriteError: nil, context)
                return
            }
            // Canonical and virtual alias lookups leave the event loop; 354 goes out once they are done.
            let rewriting = loop.makeFutureWithLoopTask { () async -> (QueueEnvelope, RewriteError?) in
                var rewritten = envelope
                do throws(RewriteError) {
                    try await rewriter.rewriteEnvelope(&rewritten)
                    return (rewritten, nil)
                } catch {
                    return (envelope, error)
                }
            }
            resume(after: rewriting, context) { result in
                self.startMessage(transaction, result.0, rewriteError: result.1, context)
                return []
            }
        case .queueMessage(let transaction):
            guard let incoming = message, settings.restrictions.has(.endOfData) else { return commitMessage(context) }
            let request = restrictionRequest(
                "END-OF-MESSAGE", sender: transaction.sender, recipient: transaction.recipients.last?.address,
                recipientCount: transaction.recipients.count, size: transaction.parameters.size,
                queueID: incoming.writer.queueID.value)
            restrict(request, context, { await $0.checkData(.endOfData, $1, &$2) }) { result in
                guard case .rejected(let reply) = result else {
                    self.commitMessage(context)
                    return []
                }
                self.message?.abort()
                self.message = nil
                return self.machine.messageRejected(reply)
            }
        case .abortMessage:
            message?.abort()
            message = nil
        case .startSASL(let mechanism, let initialResponse):
            startSASL(mechanism, initialResponse, context)
        case .continueSASL(let response):
            guard let saslClient else {
                pending += answerSASL(.connectionLost)
                return
            }
            resume(after: saslClient.respond(response).recover { _ in .connectionLost }, context) {
                self.answerSASL($0)
            }
        case .checkEventRate(let event):
            guard let refusal = events.check(event) else {
                pending += machine.eventRateChecked(.accepted)
                return
            }
            runtime.log.warning("smtpd", refusal.warning)
            transcript.record(.policy)
            pending += machine.eventRateChecked(.rejected(refusal.reply))
        case .startTLS:
            // CVE-2011-0411: plaintext the client pipelined after STARTTLS must not count as sent over TLS.
            _ = framer.takeBufferedBytes()
            startHandshake(context)
        }
    }

    /// Commits the queue file (after smtpd_end_of_data_restrictions): 250 with the queue ID, or cleanup's error.
    private func commitMessage(_ context: ChannelHandlerContext) {
        guard let incoming = message else {
            transcript.record(.resource)
            pending += machine.messageRejected(.queueFileWriteError)
            return
        }
        // From here the file is cleanup's to finish: a client that goes away now does not undo it.
        message = nil
        resume(after: incoming.commit(on: context.eventLoop), context) { outcome in
            switch outcome {
            case .success(let id):
                self.transcript.messageQueued()
                return self.machine.messageQueued(id)
            case .failure(let reply):
                self.transcript.record(reply == .queueFileWriteError ? .resource : .bounce)
                return self.machine.messageRejected(reply)
            }
        }
    }

    private func startSASL(_ mechanism: String, _ initialResponse: String?, _ context: ChannelHandlerContext) {
        guard let saslClient else {
            pending += answerSASL(.connectionLost)
            return
        }
        let request = saslClient.start(
            mechanism: mechanism, initialResponse: initialResponse, local: localAddress, remote: client.address,
            secured: machine.isTLSActive)
        resume(after: request.recover { _ in .connectionLost }, context) { self.answerSASL($0) }
    }

    // MARK: - Restrictions

    /// The facts of the current command for the restriction lists.
    private func restrictionRequest(
        _ command: String, sender: MailAddress? = nil, recipient: MailAddress? = nil, recipientCount: Int = 0,
        size: Int64? = nil, queueID: String? = nil
    ) -> RestrictionRequest {
        policy.request(
            command, machine: machine, sender: sender, recipient: recipient, recipientCount: recipientCount,
            size: Int(size ?? 0), local: localSocket, improperPipelining: improperPipelining, queueID: queueID,
            instance: policyInstance)
    }

    /// Runs a restriction stage off the event loop; its log lines are written and its reply handed on.
    private func restrict(
        _ request: RestrictionRequest, _ context: ChannelHandlerContext,
        _ check: @escaping @Sendable (RestrictionEvaluator, RestrictionRequest, inout RestrictionSessionState) async
            -> RestrictionOutcome,
        then: @escaping (SMTPCheckResult) -> [SMTPServerAction]
    ) {
        let (evaluator, state) = (policy.evaluator, restrictionState)
        let work = context.eventLoop.makeFutureWithLoopTask { () async -> (RestrictionOutcome, RestrictionSessionState) in
            var state = state
            let outcome = await check(evaluator, request, &state)
            return (outcome, state)
        }
        resume(after: work, context) { result in
            let (outcome, state) = result
            self.restrictionState = state
            for line in outcome.log {
                if let event = line.event {
                    self.runtime.log.info("smtpd", RecipientPolicy.logText(event, line.text, request))
                } else if line.text.hasPrefix("warning: ") {
                    self.runtime.log.warning("smtpd", String(line.text.dropFirst(9)))
                } else {
                    self.runtime.log.info("smtpd", line.text)
                }
            }
            guard let reply = outcome.reply else { return then(.accepted) }
            // Postfix counts an unknown recipient as a bounce, configuration errors as software, the rest as policy.
            self.transcript.record(outcome.isServerError ? .software : reply.status == "5.1.1" ? .bounce : .policy)
            return then(.rejected(reply.smtpReply))
        }
    }

    /// The client is over its connection count or rate: `421 4.7.0 host Error: too many connections from
    /// ADDR`, and the session ends before the greeting.
    private func refuseByLimit(_ refusal: ClientEventControl.Refusal, _ context: ChannelHandlerContext) {
        runtime.log.warning("smtpd", refusal.warning)
        transcript.record(.policy)
        pending = [.send(refusal.reply), .close]
        drive(context)
    }

    /// The AUTH login, for the queue file and the `client=` log line.
    private var saslLogin: (method: String, username: String)? {
        guard let method = machine.saslMethod, let username = machine.authenticatedUser else { return nil }
        return (method, username)
    }

    /// Feeds the auth server's answer to the state machine.
    private func answerSASL(_ reply: DovecotSASLClient.Reply) -> [SMTPServerAction] {
        switch reply {
        case .challenge(let challenge): machine.saslChallenge(challenge)
        case .success(let username): machine.saslSucceeded(username: username)
        case .failure(let reason, let username, let temporary):
            machine.saslFailed(reason: reason, username: username, temporary: temporary)
        }
    }

    /// Creates the queue file and starts reading the content.
    private func startMessage(
        _ transaction: MailTransaction, _ envelope: QueueEnvelope, rewriteError: RewriteError?,
        _ context: ChannelHandlerContext
    ) {
        guard !finished else { return }  // the client left while the envelope was being rewritten
        message = runtime.makeIncomingMessage(
            envelope, transaction: transaction, rewriteError: rewriteError, settings: settings, client: client,
            helo: machine.heloName, protocolName: machine.receivedProtocolName,
            tlsComments: settings.tls.receivedHeader ? tls?.receivedComments ?? [] : [], eventLoop: context.eventLoop,
            actions: restrictionState.actions)
        data = machine.makeDataReceiver()
        // Pipelined content that arrived with the DATA command belongs to the message.
        receive(framer.takeBufferedBytes())
    }

    /// The command of a framed line for `lost connection after VERB` log lines: smtpd's command name, or
    /// UNKNOWN for what is not in its command table (as Postfix logs it).
    static func verb(of line: FramedLine) -> String {
        let word = String(decoding: line.bytes.prefix { $0 != UInt8(ascii: " ") }.prefix(16), as: UTF8.self)
        return SMTPVerb(word: word).map { $0.rawValue.uppercased() } ?? "UNKNOWN"
    }
}

extension SMTPReply {
    /// cleanup could not write the queue file (disk full, I/O error): Postfix's `451 4.3.0`.
    static let queueFileWriteError = SMTPReply(code: 451, enhancedStatus: "4.3.0", "Error: queue file write error")
}
