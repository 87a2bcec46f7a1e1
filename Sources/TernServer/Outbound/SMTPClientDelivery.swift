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
        /// smtp_connection_cache_* / lmtp_connection_cache_* and the reuse limits.
        var cache = ConnectionCacheSettings()
        var lmtpCache = ConnectionCacheSettings()
    }

    let settings: Settings
    let log: MailLog

    /// One outcome per recipient, in order. `envelope` already carries the rewritten (generic) addresses.
    /// `backlog` tells whether the destination has more mail waiting (smtp_connection_cache_on_demand).
    func deliver(
        file: QueueFile, envelope: SMTPClientStateMachine.Envelope, hop: NextHop, lmtp: Bool = false,
        backlog: @escaping @Sendable () -> Bool = { false },
        content: @escaping @Sendable (QueueFile) -> ContentStream
    ) async -> [RecipientOutcome] {
        let agent = lmtp ? "lmtp" : "smtp"
        let count = envelope.recipients.count
        var request = Request(
            file: file, envelope: envelope, hop: hop, lmtp: lmtp, requested: Date(),
            caching: caching(hop: hop, lmtp: lmtp, backlog: backlog), content: content)
        request.destination = await destinationKey(request)
        // A session parked for this next hop saves even the DNS lookup.
        if let destination = request.destination, let parked = SMTPConnectionPool.shared.take(destination),
            let outcomes = await reuse(parked, request: request)
        {
            return outcomes
        }
        var servers: [MailServerAddress] = []
        if let path = hop.unixPath {
            let absolute = path.hasPrefix("/") ? path : "\(settings.queueDirectory)/\(path)"
            let server = MailServerAddress(name: settings.heloName, address: path, port: 0, isUnixSocket: true)
            switch await converse(with: server, socketPath: absolute, request: request) {
            case .connectFailed(let text):
                return Array(repeating: .deferred("4.4.1", text, relay: "none", agent: agent), count: count)
            case .finished(let outcomes), .unusable(let outcomes), .tlsFailed(let outcomes):
                return outcomes
            case .stale:
                return Array(repeating: .deferred("4.4.2", "lost connection with \(server.logName)", relay: "none", agent: agent), count: count)
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
            var attempt = await converse(with: server, socketPath: nil, request: request)
            if case .tlsFailed = attempt {
                // Opportunistic TLS that fails in the handshake: the same server again in plaintext.
                attempt = await converse(with: server, socketPath: nil, request: request, plaintextOnly: true)
            }
            switch attempt {
            case .connectFailed(let text):
                lastFailure = text
            case .tlsFailed(let outcomes), .unusable(let outcomes):
                lastOutcomes = outcomes
            case .finished(let outcomes):
                return outcomes
            case .stale:
                lastFailure = "lost connection with \(server.logName)"
            }
        }
        return lastOutcomes ?? Array(repeating: .deferred("4.4.1", lastFailure, relay: "none", agent: agent), count: count)
    }

    /// What one delivery needs on whichever session carries it.
    private struct Request {
        var file: QueueFile
        var envelope: SMTPClientStateMachine.Envelope
        var hop: NextHop
        var lmtp: Bool
        var requested: Date
        /// The cache limits and whether the session is wanted there afterwards; nil: caching is off.
        var caching: (settings: ConnectionCacheSettings, wanted: @Sendable () -> Bool)?
        var content: @Sendable (QueueFile) -> ContentStream
        /// The cache key for the next hop as named (nil: no caching, or its SASL lookup failed).
        var destination: ConnectionCacheKey?
        var transport: String { lmtp ? "lmtp" : "smtp" }
    }

    enum Attempt: Sendable {
        case connectFailed(String)
        /// The server did not meet the client's TLS or SASL requirements: the next server may.
        case unusable([RecipientOutcome])
        /// The TLS handshake failed at `may`: worth a plaintext retry.
        case tlsFailed([RecipientOutcome])
        case finished([RecipientOutcome])
        /// A cached session turned out closed before it took anything: a new connection is needed.
        case stale
    }

    /// smtp_connection_cache_destinations lists the next hop, or on demand when it has a backlog.
    private func caching(hop: NextHop, lmtp: Bool, backlog: @escaping @Sendable () -> Bool)
        -> (settings: ConnectionCacheSettings, wanted: @Sendable () -> Bool)?
    {
        let cache = lmtp ? settings.lmtpCache : settings.cache
        let listed = cache.lists(host: hop.host)
        guard listed || cache.onDemand else { return nil }
        return (cache, { listed || backlog() })
    }

    /// The TLS level and SASL account a session must have been opened with to carry this delivery.
    private func securityKey(username: String?, lmtp: Bool) -> String {
        lmtp ? "none|" : "\(settings.tls.level.rawValue)|\(username ?? "")"
    }

    /// The destination key, with the SASL account looked up by next hop (nil: that lookup failed).
    private func destinationKey(_ request: Request) async -> ConnectionCacheKey? {
        guard request.caching != nil else { return nil }
        var username: String?
        if !request.lmtp, let sasl = settings.sasl {
            do {
                username = try await sasl.credentials(hostname: request.hop.host, hop: request.hop)?.username
            } catch {
                return nil
            }
        }
        return ConnectionCacheKey(
            kind: .destination, transport: request.transport, name: request.hop.description,
            security: securityKey(username: username, lmtp: request.lmtp))
    }

    /// The delivery on a parked session; nil when the session was found closed (then a new one does it).
    private func reuse(_ parked: ParkedSession, request: Request) async -> [RecipientOutcome]? {
        let job = makeJob(request, security: parked.security, keys: parked.keys)
        parked.next.send(job)
        switch await job.result.wait() {
        case .finished(let outcomes), .unusable(let outcomes), .tlsFailed(let outcomes):
            return outcomes
        case .connectFailed, .stale:
            return nil
        }
    }

    private func makeJob(
        _ request: Request, security: SMTPClientStateMachine.Security, keys: [ConnectionCacheKey]
    ) -> SessionJob {
        SessionJob(
            file: request.file, envelope: request.envelope, security: security, hop: request.hop,
            content: request.content,
            parking: request.caching.map { SessionJob.Parking(keys: keys, settings: $0.settings, wanted: $0.wanted) },
            requested: request.requested)
    }

    private func converse(
        with server: MailServerAddress, socketPath: String?, request: Request, plaintextOnly: Bool = false
    ) async -> Attempt {
        let relay = server.logName
        let lmtp = request.lmtp
        var security = SMTPClientStateMachine.Security()
        if !lmtp {
            security.tls = plaintextOnly ? .off : settings.tls.stateMachineTLS
            if let sasl = settings.sasl {
                do {
                    security.credentials = try await sasl.credentials(hostname: server.name, hop: request.hop)
                } catch {
                    let outcome = RecipientOutcome.deferred("4.3.0", "\(error)", relay: relay, agent: request.transport)
                    return .finished(Array(repeating: outcome, count: request.envelope.recipients.count))
                }
            }
        }
        let securityKey = securityKey(username: security.credentials?.username, lmtp: lmtp)
        let endpoint = ConnectionCacheKey(
            kind: .endpoint, transport: request.transport,
            name: server.isUnixSocket ? server.address : "\(server.address):\(server.port)", security: securityKey)
        var keys = [endpoint]
        if let destination = request.destination, destination.security == securityKey {
            keys.insert(destination, at: 0)
        }
        if request.caching != nil, let parked = SMTPConnectionPool.shared.take(endpoint),
            let outcomes = await reuse(parked, request: request)
        {
            return .finished(outcomes)
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
        let job = makeJob(request, security: security, keys: keys)
        let session = SMTPClientSession(
            delivery: self, server: server, lmtp: lmtp, channel: channel, timedOut: timedOut,
            pool: SMTPConnectionPool.shared)
        // A session that may be cached runs as a task of the pool, which it outlives the delivery in.
        if request.caching == nil || !SMTPConnectionPool.shared.spawn({ await session.run(first: job) }) {
            await session.run(first: job)
        }
        return await job.result.wait()
    }

    /// The per-recipient outcomes of a transaction, with Postfix's texts.
    func attempt(
        _ machine: SMTPClientStateMachine, failure: String?, relay: String, hostText: String, connectionUse: Int,
        setup: Double
    ) -> Attempt {
        let agent = machine.lmtp ? "lmtp" : "smtp"
        var refused = false
        let outcomes = machine.outcomes.map { outcome -> RecipientOutcome in
            var result: RecipientOutcome
            switch outcome {
            case .refused(let refusal):
                refused = true
                let (dsn, text) = Self.describe(refusal, hostText: hostText)
                result = .deferred(dsn, text, relay: relay, agent: agent)
            case .delivered(let reply):
                result = RecipientOutcome(
                    status: .sent, dsn: reply.enhancedStatus ?? "2.0.0", text: reply.quoted, relay: relay, agent: agent)
                result.nextHopHandlesDSN = machine.extensions["DSN"] != nil
                result.repeatable = true
            case .failed(let reply, let command):
                let permanent = reply.code / 100 == 5
                let text = command.map { "host \(hostText) said: \(reply.quoted) (in reply to \($0) command)" }
                    ?? "host \(hostText) refused to talk to me: \(reply.quoted)"
                result = RecipientOutcome(
                    status: permanent ? .bounced : .deferred,
                    dsn: reply.enhancedStatus ?? (permanent ? "5.0.0" : "4.0.0"), text: text, relay: relay, agent: agent)
            case nil:
                result = .deferred("4.4.2", failure ?? "lost connection with \(hostText)", relay: relay, agent: agent)
            }
            result.connectionUse = connectionUse
            result.setupSeconds = setup
            return result
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
    func startTLS(on channel: any Channel, server: MailServerAddress, hop: NextHop, trust: PeerTrust)
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
    var helo, starttls, mail, rcpt, dataInit, dataTransfer, dataDone, rset, quit: Int

    /// `smtp` or `lmtp` (whose greeting/LHLO timeout is lmtp_lhlo_timeout).
    init(prefix: String, time: (String) -> Int?) {
        helo = time(prefix == "lmtp" ? "lmtp_lhlo_timeout" : "smtp_helo_timeout") ?? 300
        starttls = time("\(prefix)_starttls_timeout") ?? 300
        mail = time("\(prefix)_mail_timeout") ?? 300
        rcpt = time("\(prefix)_rcpt_timeout") ?? 300
        dataInit = time("\(prefix)_data_init_timeout") ?? 120
        dataTransfer = time("\(prefix)_data_xfer_timeout") ?? 180
        dataDone = time("\(prefix)_data_done_timeout") ?? 600
        rset = time("\(prefix)_rset_timeout") ?? 20
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
        case .rset: return rset
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
