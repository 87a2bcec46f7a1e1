import Foundation
import NIOCore
import NIOPosix
import TernAuth

/// One smtpd session's connection to a Dovecot auth server, used as Postfix's xsasl_dovecot_server.c
/// uses it: connect and read the handshake (MECH lines up to DONE) when the session starts, then one
/// `AUTH` request per AUTH command and one `CONT` per client response. It lives on the session's event
/// loop; the session closes it when it ends.
final class DovecotSASLClient: ChannelInboundHandler {
    typealias InboundIn = String
    typealias OutboundOut = ByteBuffer

    /// The auth server's answer to a request.
    enum Reply: Sendable, Equatable {
        /// `CONT`: the challenge in base64, to send as `334 challenge`.
        case challenge(String)
        case success(username: String)
        /// `FAIL` (`temp`: try again later), or the connection broke down.
        case failure(reason: String?, username: String?, temporary: Bool)

        static let connectionLost = Reply.failure(
            reason: "Connection lost to authentication server", username: nil, temporary: true)
    }

    /// Dovecot's auth lines are short; a longer one is a broken or hostile server.
    static let maximumLineLength = 65536

    private let loop: any EventLoop
    private let service: String
    private var channel: (any Channel)?
    private var handshake = AuthClient.Handshake()
    private var handshakePromise: EventLoopPromise<AuthClient.Handshake>?
    private var request: (id: UInt32, promise: EventLoopPromise<Reply>)?
    private var lastID: UInt32 = 0

    /// `service`: smtpd_sasl_service (`service=` of each request).
    init(loop: any EventLoop, service: String) {
        self.loop = loop
        self.service = service
    }

    /// Connects and reads the handshake; fails with the connect error or `AuthClient.ClientError`.
    func open(_ endpoint: SASLServerEndpoint) -> EventLoopFuture<AuthClient.Handshake> {
        let promise = loop.makePromise(of: AuthClient.Handshake.self)
        handshakePromise = promise
        let bootstrap = ClientBootstrap(group: loop).connectTimeout(.seconds(10)).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(AuthLineDecoder(maximumLength: Self.maximumLineLength)))
            }
        }
        let connecting: EventLoopFuture<any Channel> =
            switch endpoint.address {
            case .unix(let path): bootstrap.connect(unixDomainSocketPath: path)
            case .inet(let host, let port): bootstrap.connect(host: host, port: port)
            }
        connecting.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                self.failHandshake(error)
            case .success(let channel):
                self.attach(channel)
            }
        }
        return promise.futureResult
    }

    /// Starts an authentication: `initialResponse` is base64 as the client sent it (empty for `=`).
    /// `local` and `remote` are the addresses Dovecot's penalty and logs use (lip, rip).
    func start(
        mechanism: String, initialResponse: String?, local: String?, remote: String, secured: Bool
    ) -> EventLoopFuture<Reply> {
        lastID &+= 1
        var fields = ["AUTH", String(lastID), mechanism, "service=\(AuthProtocolText.escape(service))", "nologin"]
        if let local { fields.append("lip=\(local)") }
        fields.append("rip=\(remote)")
        if secured { fields.append("secured") }
        if let initialResponse { fields.append("resp=\(initialResponse)") }
        return send(fields.joined(separator: "\t"), id: lastID)
    }

    /// The client's response (base64) to the last challenge.
    func respond(_ response: String) -> EventLoopFuture<Reply> {
        send("CONT\t\(lastID)\t\(response)", id: lastID)
    }

    func close() {
        channel?.close(promise: nil)
        channel = nil
    }

    private func attach(_ channel: any Channel) {
        do {
            try channel.pipeline.syncOperations.addHandler(self)
        } catch {
            channel.close(promise: nil)
            failHandshake(error)
            return
        }
        self.channel = channel
        // Postfix sends its version and process ID first, then reads the server's handshake.
        write("VERSION\t1\t2\nCPID\t\(getpid())\n")
    }

    private func send(_ line: String, id: UInt32) -> EventLoopFuture<Reply> {
        guard channel != nil, request == nil else { return loop.makeSucceededFuture(.connectionLost) }
        let promise = loop.makePromise(of: Reply.self)
        request = (id, promise)
        write(line + "\n")
        return promise.futureResult
    }

    private func write(_ text: String) {
        channel?.writeAndFlush(ByteBuffer(string: text), promise: nil)
    }

    // MARK: - Lines from the auth server

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if handshakePromise != nil {
            readHandshake(line)
        } else {
            readReply(line)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        channel = nil
        failHandshake(AuthClient.ClientError.closed)
        finishRequest(.connectionLost)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func readHandshake(_ line: String) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        switch fields[0] {
        case "VERSION" where fields.count < 2 || fields[1] != "1":
            close()
            failHandshake(AuthClient.ClientError.protocolError(line))
        case "MECH" where fields.count >= 2:
            handshake.mechanisms.append((fields[1], Array(fields.dropFirst(2))))
        case "SPID" where fields.count >= 2: handshake.serverPID = fields[1]
        case "CUID" where fields.count >= 2: handshake.connectionID = fields[1]
        case "COOKIE" where fields.count >= 2: handshake.cookie = fields[1]
        case "DONE":
            let promise = handshakePromise
            handshakePromise = nil
            promise?.succeed(handshake)
        default: break
        }
    }

    private func readReply(_ line: String) {
        guard let reply = AuthClientReply(line: line), let request else { return }
        switch reply {
        case .cont(let id, let challenge) where id == request.id:
            finishRequest(.challenge(challenge))
        case .ok(let id, _) where id == request.id:
            finishRequest(.success(username: reply.user ?? ""))
        case .fail(let id, let fields) where id == request.id:
            let reason = fields.first { $0.hasPrefix("reason=") }.map { String($0.dropFirst(7)) }
            finishRequest(.failure(reason: reason, username: reply.user, temporary: fields.contains("temp")))
        default:
            break  // an answer to an abandoned request
        }
    }

    private func finishRequest(_ reply: Reply) {
        guard let pending = request else { return }
        request = nil
        pending.promise.succeed(reply)
    }

    private func failHandshake(_ error: any Error) {
        guard let promise = handshakePromise else { return }
        handshakePromise = nil
        promise.fail(error)
    }
}

/// Where smtpd_sasl_path points: a UNIX socket (a relative name is under queue_directory, where Postfix's
/// smtpd runs) or `inet:host:port`.
struct SASLServerEndpoint: Sendable, Hashable {
    enum Address: Sendable, Hashable {
        case unix(String)
        case inet(host: String, port: Int)
    }

    /// smtpd_sasl_path as configured: the log names the server so.
    let configured: String
    let address: Address

    init?(path: String, queueDirectory: String) {
        configured = path
        if path.hasPrefix("inet:") {
            let rest = path.dropFirst(5)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) else {
                return nil
            }
            let host = rest[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            address = .inet(host: host.isEmpty ? "localhost" : host, port: port)
        } else if path.hasPrefix("/") {
            address = .unix(path)
        } else {
            guard !path.isEmpty else { return nil }
            address = .unix(queueDirectory + "/" + path.replacingOccurrences(of: "unix:", with: ""))
        }
    }
}
