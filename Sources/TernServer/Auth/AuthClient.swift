import Foundation
public import NIOCore
public import NIOPosix
public import TernAuth

/// A client of Dovecot's auth protocol over a UNIX socket: what `doveadm auth test` uses, and what Tern's
/// smtpd (`smtpd_sasl_type = dovecot`) and logins can use against Tern's or a real Dovecot's auth service.
public struct AuthClient: ~Copyable {
    /// What the server announced.
    public struct Handshake: Sendable, Equatable {
        /// Mechanism names with their flags, in the server's order.
        public var mechanisms: [(name: String, flags: [String])] = []
        public var serverPID = ""
        public var connectionID = ""
        public var cookie = ""

        public static func == (lhs: Handshake, rhs: Handshake) -> Bool {
            lhs.mechanisms.map(\.name) == rhs.mechanisms.map(\.name) && lhs.serverPID == rhs.serverPID
                && lhs.connectionID == rhs.connectionID && lhs.cookie == rhs.cookie
        }
    }

    public enum ClientError: Error, CustomStringConvertible {
        case closed
        case protocolError(String)

        public var description: String {
            switch self {
            case .closed: "auth server closed the connection"
            case .protocolError(let line): "unexpected line from the auth server: \(line)"
            }
        }
    }

    public private(set) var handshake = Handshake()
    private var iterator: NIOAsyncChannelInboundStream<String>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextID: UInt32 = 1

    /// Connects to `path`, reads the handshake up to DONE and answers `VERSION 1 2` and `CPID`.
    public static func withConnection<Result>(
        path: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (inout AuthClient) async throws -> Result
    ) async throws -> Result {
        let channel = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: path) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(AuthLineDecoder(maximumLength: 65536)))
                return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            var client = AuthClient(iterator: inbound.makeAsyncIterator(), outbound: outbound)
            try await client.readHandshake()
            try await client.send(["VERSION\t1\t2", "CPID\t\(getpid())"])
            return try await body(&client)
        }
    }

    private init(
        iterator: NIOAsyncChannelInboundStream<String>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.iterator = iterator
        self.outbound = outbound
    }

    private mutating func readHandshake() async throws {
        while let line = try await readLine() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields[0] {
            case "VERSION":
                guard fields.count >= 2, fields[1] == "1" else { throw ClientError.protocolError(line) }
            case "MECH" where fields.count >= 2: handshake.mechanisms.append((fields[1], Array(fields.dropFirst(2))))
            case "SPID" where fields.count >= 2: handshake.serverPID = fields[1]
            case "CUID" where fields.count >= 2: handshake.connectionID = fields[1]
            case "COOKIE" where fields.count >= 2: handshake.cookie = fields[1]
            case "DONE": return
            default: continue
            }
        }
        throw ClientError.closed
    }

    public mutating func send(_ lines: [String]) async throws {
        try await outbound.write(ByteBuffer(string: lines.map { $0 + "\n" }.joined()))
    }

    public mutating func readLine() async throws -> String? {
        try await iterator.next()
    }

    /// Runs one authentication: `AUTH` with the initial response, then one `CONT` per challenge, the
    /// response coming from `respond` (nil cancels with a `*`-free abort: the request is dropped by closing).
    /// Returns the final OK or FAIL.
    public mutating func authenticate(
        mechanism: String, service: String, parameters: [String] = [], initialResponse: [UInt8]? = nil,
        respond: ([UInt8]) async throws -> [UInt8]? = { _ in nil }
    ) async throws -> AuthClientReply {
        let id = nextID
        nextID += 1
        try await send([
            AuthClientRequest.auth(
                id: id, mechanism: mechanism, service: service, parameters: parameters, initialResponse: initialResponse
            )
        ])
        while let line = try await readLine() {
            guard let reply = AuthClientReply(line: line) else { throw ClientError.protocolError(line) }
            switch reply {
            case .ok(let replyID, _), .fail(let replyID, _):
                if replyID == id { return reply }
            case .cont(let replyID, let challenge):
                guard replyID == id else { continue }
                guard let decoded = Data(base64Encoded: challenge), let response = try await respond(Array(decoded))
                else {
                    try await send(["CANCEL\t\(id)"])
                    return .fail(id: id, fields: ["reason=cancelled"])
                }
                try await send([AuthClientRequest.cont(id: id, response: response)])
            }
        }
        throw ClientError.closed
    }
}
