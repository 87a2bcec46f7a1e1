import Foundation
import NIOCore
import TernCore
import TernDelivery
import TernQueue
import TernSMTP

/// One delivery for a session: a transaction, and where its result goes.
struct SessionJob: Sendable {
    /// Where a session may be kept after the delivery (nil: QUIT when done).
    struct Parking: Sendable {
        var keys: [ConnectionCacheKey]
        var settings: ConnectionCacheSettings
        /// Evaluated when the transaction ends: the destination has a backlog, or is listed.
        var wanted: @Sendable () -> Bool
    }

    var file: QueueFile
    var envelope: SMTPClientStateMachine.Envelope
    var security: SMTPClientStateMachine.Security
    var hop: NextHop
    var content: @Sendable (QueueFile) -> ContentStream
    var parking: Parking?
    /// When the delivery asked for a session (connection setup, the third `delays=` field, counts from here).
    var requested: Date
    let result = Handover<SMTPClientDelivery.Attempt>()
}

/// smtp(8)'s conversation on one connection: the first delivery after the greeting, and, when the session is
/// kept (no QUIT) and parked in the connection cache, the deliveries handed to it later, each starting with
/// RSET (is the session still alive?) and MAIL FROM, with what EHLO, STARTTLS and AUTH set up the first time.
struct SMTPClientSession {
    let delivery: SMTPClientDelivery
    let server: MailServerAddress
    let lmtp: Bool
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let timedOut: TimeoutFlag
    let pool: SMTPConnectionPool

    private struct Negotiated {
        var extensions: [String: String] = [:]
        var tlsActive = false
        var uses = 0
        var firstUse = SMTPConnectionPool.now
    }

    private var timeouts: ReplyTimeouts { lmtp ? delivery.settings.lmtpTimeouts : delivery.settings.timeouts }

    /// Runs `first` and then the deliveries of later takers until the session ends; every job gets its result.
    /// The conversation runs on the connection's event loop: each reply continues it without a thread switch.
    func run(first: SessionJob) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(channel.channel.eventLoop)) {
            await converse(first: first)
        }
    }

    private func converse(first: SessionJob) async {
        var job = first
        var answered = false
        do {
            try await channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                var parser = SMTPReplyParser()
                var negotiated = Negotiated()
                while true {
                    answered = false
                    let (attempt, idle) = await transact(
                        job, negotiated: &negotiated, iterator: &iterator, parser: &parser, outbound: outbound)
                    guard idle, let parking = job.parking else {
                        job.result.send(attempt)
                        answered = true
                        return
                    }
                    let parked = ParkedSession(channel: channel.channel, security: job.security, keys: parking.keys)
                    guard
                        let id = pool.park(
                            parked, keys: parking.keys, uses: negotiated.uses, firstUse: negotiated.firstUse,
                            settings: parking.settings)
                    else {
                        job.result.send(attempt)
                        answered = true
                        await quit(iterator: &iterator, outbound: outbound)
                        return
                    }
                    job.result.send(attempt)
                    answered = true
                    var next: SessionJob?
                    await withDiscardingTaskGroup { group in
                        group.addTask {
                            try? await Task.sleep(for: .seconds(parking.settings.timeLimit))
                            pool.expire(id)
                        }
                        next = await parked.next.wait()
                        group.cancelAll()
                    }
                    // Expired (or shutdown): scache(8) closes the connection without QUIT.
                    guard let next else { return }
                    job = next
                }
            }
        } catch {
            // Closing failed; the result (if not sent yet) says the connection was lost.
        }
        if !answered {
            job.result.send(.stale)
        }
    }

    /// QUIT for a session that is not kept, waiting (smtp_quit_timeout at most) for the reply.
    private func quit(
        iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async {
        guard channel.channel.isActive else { return }
        ReplyTimeoutHandler.arm(channel.channel, seconds: timeouts.quit)
        do {
            try await outbound.write(ByteBuffer(string: "QUIT\r\n"))
            _ = try await iterator.next()
        } catch {}
    }

    /// One transaction (after RSET on a reused session); `idle` when it ended with the session kept.
    private func transact(
        _ job: SessionJob, negotiated: inout Negotiated,
        iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, parser: inout SMTPReplyParser,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async -> (SMTPClientDelivery.Attempt, idle: Bool) {
        let reused = negotiated.uses > 0
        negotiated.uses += 1
        let relay = server.logName
        let hostText = "\(server.name)[\(server.address)]"
        let settings = delivery.settings
        var machine = SMTPClientStateMachine(
            heloName: settings.heloName, envelope: job.envelope, lmtp: lmtp, security: job.security)
        var failure: String?
        var tlsFailure: (dsn: String, text: String)?
        var idle = false
        var contentSent = false
        var transactionStart: Date?
        /// No QUIT: the session is wanted in the cache (a TLS one only with smtp_tls_connection_reuse).
        func keep() -> Bool {
            guard let parking = job.parking, pool.isRunning else { return false }
            if machine.tlsActive && !parking.settings.tlsReuse { return false }
            return parking.wanted()
        }
        do {
            var actions: [SMTPClientStateMachine.Action] = []
            if reused {
                actions = machine.resume(extensions: negotiated.extensions, tlsActive: negotiated.tlsActive)
            }
            conversation: while true {
                var index = 0
                while index < actions.count {
                    let action = actions[index]
                    index += 1
                    switch action {
                    case .send(let text):
                        try await outbound.write(ByteBuffer(string: text))
                    case .sendContent:
                        contentSent = true
                        var stream = job.content(job.file)
                        while let piece = stream.next() {
                            // smtp_data_xfer_timeout: the server must keep taking the content.
                            ReplyTimeoutHandler.arm(channel.channel, seconds: timeouts.dataTransfer)
                            try await outbound.write(ByteBuffer(bytes: piece))
                        }
                        if let error = stream.error {
                            failure = "error reading queue file: \(error)"
                            break conversation
                        }
                    case .startTLS:
                        let trust = PeerTrust()
                        do {
                            let version = try await delivery.startTLS(
                                on: channel.channel, server: server, hop: job.hop, trust: trust)
                            delivery.log.info(
                                lmtp ? "lmtp" : "smtp",
                                "\(trust.logWord(level: settings.tls.level)) TLS connection established to \(relay): \(SMTPClientDelivery.name(version))"
                            )
                        } catch {
                            tlsFailure = SMTPClientDelivery.tlsFailure(trust: trust, level: settings.tls.level)
                            break conversation
                        }
                        actions += machine.tlsEstablished()
                    case .close:
                        break conversation
                    case .idle:
                        idle = true
                        break conversation
                    }
                }
                actions = []
                if transactionStart == nil && machine.stage == .mail { transactionStart = Date() }
                ReplyTimeoutHandler.arm(channel.channel, seconds: timeouts.waitingFor(machine.stage))
                guard let chunk = try await iterator.next() else {
                    failure = SMTPClientDelivery.lostConnection(timedOut: timedOut, hostText: hostText, stage: machine.stage)
                    break
                }
                let replies: [SMTPReply]
                do {
                    replies = try parser.receive(chunk.readableBytesView)
                } catch {
                    failure = "host \(hostText) talked to me improperly while \(machine.stage.rawValue)"
                    break
                }
                for reply in replies {
                    let wanted = keep()
                    machine.keepSession = wanted
                    actions += machine.received(reply)
                }
            }
        } catch {
            if failure == nil {
                failure = SMTPClientDelivery.lostConnection(timedOut: timedOut, hostText: hostText, stage: machine.stage)
            }
        }
        negotiated.extensions = machine.extensions
        negotiated.tlsActive = negotiated.tlsActive || machine.tlsActive
        // A cached session that failed the RSET check, or that the server closed (or is closing, 421) before
        // it took any of this transaction: nothing was delivered, and a new connection does the delivery.
        if reused && !contentSent
            && machine.outcomes.allSatisfy({ outcome in
                guard let outcome else { return true }
                if case .failed(let reply, let command) = outcome { return reply.code == 421 || command == "RSET" }
                return false
            })
        {
            return (.stale, false)
        }
        if let tlsFailure {
            let agent = lmtp ? "lmtp" : "smtp"
            let outcome = RecipientOutcome.deferred(tlsFailure.dsn, tlsFailure.text, relay: relay, agent: agent)
            let outcomes = Array(repeating: outcome, count: job.envelope.recipients.count)
            return (settings.tls.level == .may ? .tlsFailed(outcomes) : .unusable(outcomes), false)
        }
        let setup = max(0, (transactionStart ?? Date()).timeIntervalSince(job.requested))
        return (
            delivery.attempt(
                machine, failure: failure, relay: relay, hostText: hostText, connectionUse: negotiated.uses,
                setup: setup),
            idle
        )
    }
}
