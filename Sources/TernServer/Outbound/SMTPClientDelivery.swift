import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization
import TernCore
import TernDelivery
import TernQueue
import TernSMTP

/// smtp(8): delivers one message to one next hop for a group of its recipients, trying the hop's servers
/// in order until one takes the conversation (connect failures and greeting refusals move on to the next).
struct SMTPClientDelivery {
    struct Settings: Sendable {
        /// smtp_helo_name
        var heloName: String
        /// smtp_connect_timeout
        var connectTimeout: Int
        /// smtp_helo_timeout ... smtp_data_done_timeout, and the lmtp_ ones.
        var timeouts: ReplyTimeouts
        var lmtpTimeouts: ReplyTimeouts
        /// inet_protocols includes ipv6
        var ipv6: Bool
        /// queue_directory, for `unix:` next hops given relative to it.
        var queueDirectory: String
        /// smtp_tls_* (the lmtp client does not use TLS).
        var tls: ClientTLSPolicy
        /// smtp_sasl_* when smtp_sasl_auth_enable = yes.
        var sasl: ClientSASLSettings?
    }

    let settings: Settings
    let log: MailLog

    /// One outcome per recipient, in order. `envelope` already carries the rewritten (generic) addresses.
    func deliver(
        file: QueueFile, envelope: SMTPClientStateMachine.Envelope, hop: NextHop, lmtp: Bool = false,
        content: @escaping @Sendable (QueueFile) -> ContentStream
    ) async -> [RecipientOutcome] {
        let agent = lmtp ? "lmtp" : "smtp"
        let count = envelope.recipients.count
        var servers: [MailServerAddress] = []
        if let path = hop.unixPath {
            let absolute = path.hasPrefix("/") ? path : "\(settings.queueDirectory)/\(path)"
            let server = MailServerAddress(name: settings.heloName, address: path, port: 0, isUnixSocket: true)
            switch await converse(
                with: server, hop: hop, socketPath: absolute, file: file, envelope: envelope, lmtp: lmtp,
                content: content)
            {
            case .connectFailed(let text):
                return Array(repeating: .deferred("4.4.1", text, relay: "none", agent: agent), count: count)
            case .finished(let outcomes), .unusable(let outcomes), .tlsFailed(let outcomes):
                return outcomes
            }
        }
        do {
            servers = try await BlockingIO.pool.runIfActive { [settings] in
                try NextHopResolver.addresses(for: hop, ipv6: settings.ipv6)
            }
        } catch let error as NextHopLookupError {
            let outcome = error.permanent
                ? RecipientOutcome(status: .bounced, dsn: "5.4.4", text: error.text, relay: "none", agent: agent)
                : RecipientOutcome(status: .deferred, dsn: "4.4.3", text: error.text, relay: "none", agent: agent)
            return Array(repeating: outcome, count: count)
        } catch {
            return Array(repeating: .deferred("4.4.3", "\(error)", relay: "none", agent: agent), count: count)
        }
        var lastFailure = "no mail server for \(hop.host)"
        var lastOutcomes: [RecipientOutcome]?
        for server in servers {
            var attempt = await converse(
                with: server, hop: hop, socketPath: nil, file: file, envelope: envelope, lmtp: lmtp, content: content)
            if case .tlsFailed = attempt {
                // Opportunistic TLS that fails in the handshake: the same server again in plaintext.
                attempt = await converse(
                    with: server, hop: hop, socketPath: nil, file: file, envelope: envelope, lmtp: lmtp,
                    plaintextOnly: true, content: content)
            }
            switch attempt {
            case .connectFailed(let text):
                lastFailure = text
            case .tlsFailed(let outcomes), .unusable(let outcomes):
                lastOutcomes = outcomes
            case .finished(let outcomes):
                return outcomes
            }
        }
        return lastOutcomes ?? Array(repeating: .deferred("4.4.1", lastFailure, relay: "none", agent: agent), count: count)
    }

    private enum Attempt {
        case connectFailed(String)
        /// The server did not meet the client's TLS or SASL requirements: the next server may.
        case unusable([RecipientOutcome])
        /// The TLS handshake failed at `may`: worth a plaintext retry.
        case tlsFailed([RecipientOutcome])
        case finished([RecipientOutcome])
    }

    private func converse(
        with server: MailServerAddress, hop: NextHop, socketPath: String?, file: QueueFile,
        envelope: SMTPClientStateMachine.Envelope, lmtp: Bool, plaintextOnly: Bool = false,
        content: @escaping @Sendable (QueueFile) -> ContentStream
    ) async -> Attempt {
        let relay = server.logName
        let hostText = "\(server.name)[\(server.address)]"
        let agent = lmtp ? "lmtp" : "smtp"
        var security = SMTPClientStateMachine.Security()
        if !lmtp {
            security.tls = plaintextOnly ? .off : settings.tls.stateMachineTLS
            if let sasl = settings.sasl {
                do {
                    security.credentials = try await sasl.credentials(hostname: server.name, hop: hop)
                } catch {
                    let outcome = RecipientOutcome.deferred("4.3.0", "\(error)", relay: relay, agent: agent)
                    return .finished(Array(repeating: outcome, count: envelope.recipients.count))
                }
            }
        }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let timeouts = lmtp ? settings.lmtpTimeouts : settings.timeouts
        let timedOut = TimeoutFlag()
        do {
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(Int64(settings.connectTimeout)))
            let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = {
                channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyTimeoutHandler(initial: timeouts.helo, flag: timedOut))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
            if let socketPath {
                channel = try await bootstrap.connect(unixDomainSocketPath: socketPath, channelInitializer: initializer)
            } else {
                channel = try await bootstrap.channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .connect(host: server.address, port: server.port, channelInitializer: initializer)
            }
        } catch {
            return .connectFailed("connect to \(relay): \(Self.describe(error))")
        }
        var machine = SMTPClientStateMachine(
            heloName: settings.heloName, envelope: envelope, lmtp: lmtp, security: security)
        var failure: String?
        var tlsFailure: (dsn: String, text: String)?
        do {
            try await channel.executeThenClose { inbound, outbound in
                var parser = SMTPReplyParser()
                var iterator = inbound.makeAsyncIterator()
                conversation: while true {
                    guard let chunk = try await iterator.next() else {
                        failure = Self.lostConnection(timedOut: timedOut, hostText: hostText, stage: machine.stage)
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
                        for action in machine.received(reply) {
                            switch action {
                            case .send(let text):
                                try await outbound.write(ByteBuffer(string: text))
                            case .sendContent:
                                var stream = content(file)
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
                                    let version = try await startTLS(on: channel.channel, server: server, hop: hop, trust: trust)
                                    log.info(
                                        agent,
                                        "\(trust.logWord(level: settings.tls.level)) TLS connection established to \(relay): \(Self.name(version))")
                                } catch {
                                    tlsFailure = Self.tlsFailure(trust: trust, level: settings.tls.level)
                                    break conversation
                                }
                                for next in machine.tlsEstablished() {
                                    if case .send(let text) = next { try await outbound.write(ByteBuffer(string: text)) }
                                }
                            case .close:
                                break conversation
                            }
                        }
                    }
                    ReplyTimeoutHandler.arm(channel.channel, seconds: timeouts.waitingFor(machine.stage))
                }
            }
        } catch {
            if failure == nil {
                failure = Self.lostConnection(timedOut: timedOut, hostText: hostText, stage: machine.stage)
            }
        }
        if let tlsFailure {
            let outcome = RecipientOutcome.deferred(tlsFailure.dsn, tlsFailure.text, relay: relay, agent: agent)
            let outcomes = Array(repeating: outcome, count: envelope.recipients.count)
            return settings.tls.level == .may ? .tlsFailed(outcomes) : .unusable(outcomes)
        }
        var refused = false
        let outcomes = machine.outcomes.map { outcome -> RecipientOutcome in
            switch outcome {
            case .refused(let refusal):
                refused = true
                let (dsn, text) = Self.describe(refusal, hostText: hostText)
                return .deferred(dsn, text, relay: relay, agent: agent)
            case .delivered(let reply):
                var outcome = RecipientOutcome(
                    status: .sent, dsn: reply.enhancedStatus ?? "2.0.0", text: reply.quoted, relay: relay, agent: agent)
                outcome.nextHopHandlesDSN = machine.extensions["DSN"] != nil
                outcome.repeatable = true
                return outcome
            case .failed(let reply, let command):
                let permanent = reply.code / 100 == 5
                let text = command.map { "host \(hostText) said: \(reply.quoted) (in reply to \($0) command)" }
                    ?? "host \(hostText) refused to talk to me: \(reply.quoted)"
                return RecipientOutcome(
                    status: permanent ? .bounced : .deferred,
                    dsn: reply.enhancedStatus ?? (permanent ? "5.0.0" : "4.0.0"), text: text, relay: relay, agent: agent)
            case nil:
                return .deferred("4.4.2", failure ?? "lost connection with \(hostText)", relay: relay, agent: agent)
            }
        }
        return refused ? .unusable(outcomes) : .finished(outcomes)
    }

    /// `conversation with host[ip] timed out while ...` when the reply timeout closed the connection, else
    /// `lost connection with host[ip] while ...`.
    static func lostConnection(timedOut: TimeoutFlag, hostText: String, stage: SMTPClientStateMachine.Stage) -> String {
        timedOut.fired.load(ordering: .relaxed)
            ? "conversation with \(hostText) timed out while \(stage.rawValue)"
            : "lost connection with \(hostText) while \(stage.rawValue)"
    }

    /// Puts the TLS handler in front of the pipeline and waits for the handshake; returns the protocol version.
    private func startTLS(on channel: any Channel, server: MailServerAddress, hop: NextHop, trust: PeerTrust)
        async throws -> TLSVersion?
    {
        let policy = settings.tls
        let expected = policy.expectedNames(hostname: server.name, nexthop: hop.host)
        return try await channel.eventLoop.flatSubmit {
            do {
                let handshake = channel.eventLoop.makePromise(of: TLSVersion?.self)
                let handler = try policy.makeHandler(serverName: server.name, expectedNames: expected, trust: trust)
                try channel.pipeline.syncOperations.addHandlers(
                    [handler, TLSHandshakeWatcher(handshake)], position: .first)
                return handshake.futureResult
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }

    /// Postfix's texts for a failed TLS start: an unverified certificate at `verify`/`secure`, else the handshake.
    static func tlsFailure(trust: PeerTrust, level: ClientTLSPolicy.Level) -> (dsn: String, text: String) {
        guard level == .verify || level == .secure, let result = trust.result else {
            return ("4.7.5", "Cannot start TLS: handshake failure")
        }
        return ("4.7.5", result == .untrusted ? "Server certificate not trusted" : "Server certificate not verified")
    }

    static func describe(_ refusal: SMTPClientStateMachine.Refusal, hostText: String) -> (String, String) {
        switch refusal {
        case .tlsNotOffered:
            return ("4.7.4", "TLS is required, but was not offered by host \(hostText)")
        case .tlsRefused(let reply):
            return ("4.7.4", "TLS is required, but host \(hostText) refused to start TLS: \(reply.quoted)")
        case .noSASLMechanism:
            return ("4.7.0", "SASL authentication failed; cannot authenticate to server \(hostText): no mechanism available")
        case .authenticationFailed(let reply):
            // smtp_sasl_auth_soft_bounce = yes: a rejected password defers instead of bouncing.
            let status = reply.enhancedStatus.map { "4" + $0.dropFirst() } ?? "4.7.0"
            return (status, "SASL authentication failed; server \(hostText) said: \(reply.quoted)")
        }
    }

    /// `TLSv1.3`, as Postfix logs the protocol.
    static func name(_ version: TLSVersion?) -> String {
        switch version {
        case .tlsv1: return "TLSv1"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        case nil: return "TLS"
        }
    }

    /// `Connection refused`, `Connection timed out`, ... as strerror(3) words them.
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "Connection timed out" }
        if let connect = error as? NIOConnectionError, let first = connect.connectionErrors.first {
            return describe(first.error)
        }
        return "\(error)"
    }
}

/// Completes `promise` with the protocol version when the TLS handshake in front of it finishes, or with
/// the error that ended it.
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let promise: EventLoopPromise<TLSVersion?>
    private var completed = false

    init(_ promise: EventLoopPromise<TLSVersion?>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, !completed {
            completed = true
            promise.succeed(try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).tlsVersion)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(ChannelError.eof)
        context.fireChannelInactive()
    }

    private func finish(_ error: any Error) {
        guard !completed else { return }
        completed = true
        promise.fail(error)
    }
}

/// smtp(8)'s per-command timeouts: the wait for each reply is limited by the timeout of the command it
/// answers (smtp_helo_timeout for the greeting and EHLO, smtp_mail_timeout, ... smtp_data_done_timeout).
struct ReplyTimeouts: Sendable {
    var helo, starttls, mail, rcpt, dataInit, dataTransfer, dataDone, quit: Int

    /// `smtp` or `lmtp` (whose greeting/LHLO timeout is lmtp_lhlo_timeout).
    init(prefix: String, time: (String) -> Int?) {
        helo = time(prefix == "lmtp" ? "lmtp_lhlo_timeout" : "smtp_helo_timeout") ?? 300
        starttls = time("\(prefix)_starttls_timeout") ?? 300
        mail = time("\(prefix)_mail_timeout") ?? 300
        rcpt = time("\(prefix)_rcpt_timeout") ?? 300
        dataInit = time("\(prefix)_data_init_timeout") ?? 120
        dataTransfer = time("\(prefix)_data_xfer_timeout") ?? 180
        dataDone = time("\(prefix)_data_done_timeout") ?? 600
        quit = time("\(prefix)_quit_timeout") ?? 300
    }

    func waitingFor(_ stage: SMTPClientStateMachine.Stage) -> Int {
        switch stage {
        case .greeting, .helo, .auth: return helo
        case .tls: return starttls
        case .mail: return mail
        case .recipients: return rcpt
        case .data: return dataInit
        case .content: return dataTransfer
        case .endOfData: return dataDone
        case .quit, .done: return quit
        }
    }
}

/// Set when the reply timeout closed the connection (it outlives the pipeline, which a close empties).
final class TimeoutFlag: Sendable {
    let fired = Atomic<Bool>(false)
}

/// Closes the connection when the server has not answered within the armed timeout, and remembers why.
/// Every arrival restarts the clock, so each of several pipelined replies gets the full time.
final class ReplyTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let flag: TimeoutFlag
    private var seconds: Int
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(initial seconds: Int, flag: TimeoutFlag) {
        self.seconds = seconds
        self.flag = flag
    }

    /// Sets the timeout for what the client waits for next (from any thread).
    static func arm(_ channel: any Channel, seconds: Int) {
        channel.eventLoop.execute {
            try? channel.pipeline.syncOperations.handler(type: ReplyTimeoutHandler.self).restart(seconds: seconds)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { restart(seconds: seconds) }
    }

    func channelActive(context: ChannelHandlerContext) {
        restart(seconds: seconds)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        restart(seconds: seconds)
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        self.context = nil
    }

    private func restart(seconds: Int) {
        self.seconds = seconds
        deadline?.cancel()
        guard let context else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(Int64(seconds))) {
            self.flag.fired.store(true, ordering: .relaxed)
            context.close(promise: nil)
        }
    }
}

/// The message content as the wire wants it: CRLF line ends, leading dots doubled (RFC 5321 §4.5.2), then
/// the terminating `.` line. Read from the queue file in pieces.
struct ContentStream {
    private let read: (Int, Int) throws -> [UInt8]
    private let length: Int
    private var offset = 0
    private var atLineStart = true
    private var finished = false
    private(set) var error: (any Error)?
    private var header: HeaderRewriter?

    /// `rewriteHeaders` gets each header line (without line end) and returns its replacement (smtp_generic_maps).
    init(file: QueueFile, rewriteHeaders: HeaderRewriter? = nil) {
        read = { try file.readContent(offset: $0, count: $1) }
        length = file.contentLength
        header = rewriteHeaders
    }

    typealias HeaderRewriter = (String) -> String

    mutating func next() -> [UInt8]? {
        guard !finished else { return nil }
        if offset >= length {
            finished = true
            return atLineStart ? Array(".\r\n".utf8) : Array("\r\n.\r\n".utf8)
        }
        let chunk: [UInt8]
        do {
            chunk = try read(offset, min(65536, length - offset))
        } catch {
            self.error = error
            finished = true
            return nil
        }
        guard !chunk.isEmpty else {
            offset = length
            return next()
        }
        offset += chunk.count
        if let rewrite = header {
            // Header lines are handed to the rewriter whole; the chunk boundary may split one.
            return rewriteHeaderSection(chunk, rewrite)
        }
        return Self.stuff(chunk, atLineStart: &atLineStart)
    }

    private var pendingHeader: [UInt8] = []

    /// While in the header section: collect whole lines, rewrite them, and pass the body on unchanged.
    private mutating func rewriteHeaderSection(_ chunk: [UInt8], _ rewrite: HeaderRewriter) -> [UInt8] {
        var bytes = pendingHeader + chunk
        pendingHeader = []
        var out: [UInt8] = []
        while let newline = bytes.firstIndex(of: 0x0A) {
            let line = Array(bytes[..<newline])
            bytes.removeSubrange(...newline)
            if line.isEmpty {
                header = nil
                out += [0x0D, 0x0A]
                atLineStart = true
                return out + ContentStream.stuff(bytes, atLineStart: &atLineStart)
            }
            let replaced = Array(rewrite(String(decoding: line, as: UTF8.self)).utf8)
            for piece in replaced.split(separator: 0x0A, omittingEmptySubsequences: false) {
                if piece.first == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
                out += piece + [0x0D, 0x0A]
            }
        }
        pendingHeader = bytes
        if offset >= length && !pendingHeader.isEmpty {
            header = nil
            out += ContentStream.stuff(pendingHeader, atLineStart: &atLineStart)
            pendingHeader = []
        }
        return out
    }

    private static func stuff(_ bytes: [UInt8], atLineStart: inout Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 32 + 4)
        for byte in bytes {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(byte) }
            if byte == 0x0A {
                out.append(0x0D)
                atLineStart = true
            } else {
                atLineStart = false
            }
            out.append(byte)
        }
        return out
    }
}
