import Foundation
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
public import TernAuth

/// The auth service's listener: `service auth { unix_listener auth-client { mode user group } }` (and the
/// socket Postfix's `smtpd_sasl_path = private/auth` names), speaking Dovecot's auth protocol to each client
/// (AuthServerConnection). Failed authentications are answered after auth_failure_delay.
public struct AuthSocketServer: Service {
    /// The `unix_listener` settings.
    public struct Listener: Sendable {
        public var path: String
        /// Socket mode (Dovecot's default 0666 for auth-client; Postfix's example sets 0660 user postfix).
        public var mode: mode_t
        public var user: String?
        public var group: String?

        public init(path: String, mode: mode_t = 0o666, user: String? = nil, group: String? = nil) {
            self.path = path
            self.mode = mode
            self.user = user
            self.group = group
        }
    }

    public enum SetupError: Error, CustomStringConvertible {
        case unknownUser(String)
        case unknownGroup(String)
        case chmod(String, Int32)
        case chown(String, Int32)

        public var description: String {
            switch self {
            case .unknownUser(let name): "unix_listener: unknown user \(name)"
            case .unknownGroup(let name): "unix_listener: unknown group \(name)"
            case .chmod(let path, let code): "chmod(\(path)) failed: \(String(cString: strerror(code)))"
            case .chown(let path, let code): "chown(\(path)) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    public let listener: Listener
    let channel: NIOAsyncChannel<NIOAsyncChannel<String, ByteBuffer>, Never>
    let service: AuthService
    let limits: AuthServerConnection.Limits

    /// Binds now (replacing a stale socket file), then applies the mode and owner.
    public static func bind(
        _ listener: Listener, service: AuthService, limits: AuthServerConnection.Limits = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> AuthSocketServer {
        let maximumLength = limits.maximumLineLength
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .bind(unixDomainSocketPath: listener.path, cleanupExistingSocketFile: true) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(AuthLineDecoder(maximumLength: maximumLength)))
                    return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        do {
            try applyOwnership(listener)
        } catch {
            try? await channel.channel.close()
            throw error
        }
        return AuthSocketServer(listener: listener, channel: channel, service: service, limits: limits)
    }

    static func applyOwnership(_ listener: Listener) throws {
        guard chmod(listener.path, listener.mode) == 0 else { throw SetupError.chmod(listener.path, errno) }
        var uid = uid_t.max
        var gid = gid_t.max
        if let user = listener.user, !user.isEmpty {
            guard let entry = getpwnam(user) else { throw SetupError.unknownUser(user) }
            uid = entry.pointee.pw_uid
        }
        if let group = listener.group, !group.isEmpty {
            guard let entry = getgrnam(group) else { throw SetupError.unknownGroup(group) }
            gid = entry.pointee.gr_gid
        }
        if uid != uid_t.max || gid != gid_t.max {
            guard chown(listener.path, uid, gid) == 0 else { throw SetupError.chown(listener.path, errno) }
        }
    }

    public func run() async throws {
        let serverChannel = channel.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    // CUID: the connection's number on this listener.
                    var number: UInt32 = 0
                    for try await connection in inbound {
                        number &+= 1
                        let connectionID = number
                        group.addTask {
                            await AuthSession(connectionID: connectionID, service: service, limits: limits).run(
                                connection)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        unlink(listener.path)
    }
}
