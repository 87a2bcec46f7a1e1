import Foundation
import NIOCore
import NIOSSL
import Synchronization
import TernAuth
import TernConfig

/// The login settings `dovecot reload` (SIGHUP) changes for new connections.
struct LoginSettings: Sendable {
    var greeting: String
    /// auth_mechanisms the clients are offered (APOP is not a SASL mechanism for them).
    var mechanisms: [String]
    /// APOP is in auth_mechanisms: pop3-login's greeting carries a challenge.
    var apop: Bool
    var disablePlaintextAuth: Bool
    /// mail_max_userip_connections (0: no limit).
    var maxUserIPConnections: Int
    /// login_trusted_networks: clients that may say whom they proxy (IMAP ID x-originating-ip, POP3 XCLIENT)
    /// and count as secured.
    var trustedNetworks: AllowNets
    /// imap_literal_minus: imap-login lists LITERAL- and bounds non-synchronizing literals.
    var literalMinus: Bool

    init(_ settings: DovecotSettings) {
        greeting = settings.loginGreeting
        let all = settings.authMechanisms.map { $0.uppercased() }
        mechanisms = all.filter { $0 != "APOP" }
        apop = all.contains("APOP")
        disablePlaintextAuth = settings.disablePlaintextAuth || settings.ssl == .required
        maxUserIPConnections = settings.mailMaxUserIPConnections
        trustedNetworks = AllowNets(settings.string("login_trusted_networks"))
        literalMinus = settings.bool("imap_literal_minus")
    }
}

/// What a login session (POP3 or IMAP, before login) needs: its protocol's settings, the auth socket,
/// and a way to start the user's mail session once the password is right.
struct LoginService: Sendable {
    /// Starts the mail session worker on the given socket (closed by the starter); returns its pid.
    typealias SessionStarter = @Sendable (MailSessionRequest, Int32) async throws -> Int32

    /// Settings that reload replaces.
    final class State: Sendable {
        let settings: Mutex<LoginSettings>

        init(_ settings: LoginSettings) { self.settings = Mutex(settings) }
    }

    let protocolName: String
    let tls: NIOSSLContext?
    let authSocket: String
    let configPath: String
    let log: DovecotLog
    let startSession: SessionStarter
    let state: State

    var logPrefix: String { "\(protocolName)-login" }
    var settings: LoginSettings { state.settings.withLock { $0 } }
    var greeting: String { settings.greeting }
    var mechanisms: [String] { settings.mechanisms }
    var disablePlaintextAuth: Bool { settings.disablePlaintextAuth }

    /// Dovecot's refusal when mail_max_userip_connections is reached.
    var userIPLimitText: String {
        "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=\(settings.maxUserIPConnections))"
    }

    /// Whether the client's own address is in login_trusted_networks.
    func trusted(_ connection: LoginConnection) -> Bool { settings.trustedNetworks.contains(connection.realRemoteIP) }

    /// Dovecot's `secured`: TLS, a trusted client, or one on the server's own address.
    func secured(_ connection: LoginConnection) -> Bool {
        connection.tlsActive || trusted(connection) || connection.realRemoteIP == connection.realLocalIP
    }

    /// disable_plaintext_auth applies to connections that are not secured.
    func plaintextAllowed(_ connection: LoginConnection) -> Bool { !disablePlaintextAuth || secured(connection) }

    /// The APOP challenge for pop3-login's greeting, made with the auth server's pid and connection number
    /// as Dovecot makes it; nil when APOP is off or the auth server cannot be reached (no APOP then).
    func apopChallenge() async -> String? {
        guard settings.apop else { return nil }
        let handshake = try? await AuthClient.withConnection(path: authSocket) { client in client.handshake }
        guard let handshake, let pid = Int(handshake.serverPID), let connection = Int(handshake.connectionID) else {
            return nil
        }
        return APOPChallenges.make(
            serverPID: pid, connectionID: connection, hostname: ProcessInfo.processInfo.hostName,
            now: Int(Date().timeIntervalSince1970))
    }

    enum AuthResult {
        case success(user: String)
        case failure
        /// The client ended the exchange (`*`, or a response that is not base64).
        case aborted
        case unavailable
    }

    /// One PLAIN authentication through the auth socket, as Dovecot's login processes ask theirs.
    func authenticate(
        user: String, password: String, connection: LoginConnection
    ) async -> AuthResult {
        let result = await authenticate(
            mechanism: "PLAIN", initialResponse: Array("\0\(user)\0\(password)".utf8), connection: connection)
        if case .success(let name) = result, name.isEmpty { return .success(user: user) }
        return result
    }

    /// One SASL exchange run by the auth server (CRAM-MD5, APOP, and PLAIN for the credentials the login
    /// collected): `respond` shows the client each challenge and returns its answer, nil when it gave up.
    func authenticate(
        mechanism: String, initialResponse: [UInt8]?, connection: LoginConnection,
        respond: ([UInt8]) async throws -> [UInt8]? = { _ in nil }
    ) async -> AuthResult {
        var parameters = [
            "lip=\(connection.localIP)", "rip=\(connection.remoteIP)", "rport=\(connection.remotePort)",
            "session=\(connection.sessionID)",
        ]
        if secured(connection) { parameters.append("secured") }
        let service = protocolName
        do {
            let reply = try await AuthClient.withConnection(path: authSocket) { client in
                try await client.authenticate(
                    mechanism: mechanism, service: service, parameters: parameters, initialResponse: initialResponse,
                    respond: respond)
            }
            switch reply {
            case .ok: return .success(user: reply.user ?? "")  // the auth server names the user on OK
            case .fail(_, let fields) where fields.contains("reason=cancelled"):
                return .aborted
            case .fail(_, let fields) where fields.contains("code=temp_fail") || fields.contains("temp"):
                return .unavailable
            case .fail, .cont: return .failure
            }
        } catch {
            log.log(logPrefix, .error, "auth-client: conn unix:\(authSocket): \(error)")
            return .unavailable
        }
    }

    enum SessionStart { case finished, refused, failed }

    /// Hands the connection to a new mail session and logs Dovecot's `Login:` line. A plaintext connection's
    /// socket goes to the session (as Dovecot's login processes pass the client's descriptor on); TLS ends
    /// here, so such a client is proxied to the session through a socket pair until the session ends.
    /// `.refused`: the user has mail_max_userip_connections sessions from this address already (the master
    /// counts them).
    func startMailSession(
        user: String, method: String, tag: String?, connection: LoginConnection, pipelined: [UInt8]
    ) async -> SessionStart {
        var request = MailSessionRequest(
            protocolName: protocolName, user: user, tag: tag, sessionID: connection.sessionID, remoteIP: connection.remoteIP,
            localIP: connection.localIP, configPath: configPath)
        request.maxUserIPConnections = settings.maxUserIPConnections
        let sessionSocket: Int32
        var proxyEnd: Int32?
        if let client = connection.takeForHandOver() {
            request.pipelined = Data(pipelined).base64EncodedString()
            sessionSocket = client
        } else {
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                log.log(logPrefix, .error, "socketpair() failed: \(String(cString: strerror(errno)))")
                return .failed
            }
            sessionSocket = fds[1]
            proxyEnd = fds[0]
        }
        let pid: Int32
        do {
            pid = try await startSession(request, sessionSocket)
        } catch {
            if let proxyEnd { close(proxyEnd) }
            if case MailSessionLauncher.LaunchError.userIPLimit = error {
                log.info(
                    logPrefix,
                    "Disconnected: \(userIPLimitText): "
                        + sessionFields(connection, user: user, method: method).joined(separator: ", "))
                return .refused
            }
            log.log(logPrefix, .error, "Internal login failure for user \(user): \(error)")
            return .failed
        }
        let security = connection.tlsActive ? "TLS" : (secured(connection) ? "secured" : nil)
        log.info(
            logPrefix,
            "Login: user=<\(user)>, method=\(method), rip=\(connection.remoteIP), lip=\(connection.localIP), "
                + "mpid=\(pid), \(security.map { $0 + ", " } ?? "")session=<\(connection.sessionID)>")
        guard let proxyEnd else { return .finished }
        await AccessListener.removeLoginTimeout(connection.channel)
        // The proxy's channel owns proxyEnd from here on, also when it fails.
        try? await connection.proxy(to: proxyEnd, initial: pipelined)
        return .finished
    }

    /// Dovecot's line for a client that leaves without logging in (fail2ban's dovecot filter reads it).
    func logDisconnect(
        _ connection: LoginConnection, reason: String, attempts: Int, user: String?, method: String?,
        since start: ContinuousClock.Instant
    ) {
        let seconds = (ContinuousClock.now - start).components.seconds
        let what = attempts > 0 ? "auth failed, \(attempts) attempts in \(seconds) secs" : "no auth attempts in \(seconds) secs"
        let fields = sessionFields(connection, user: user ?? "", method: method)
        log.info(logPrefix, "\(reason) (\(what)): \(fields.joined(separator: ", "))")
    }

    /// `user=<u>, method=PLAIN, rip=..., lip=..., TLS|secured, session=<...>` as Dovecot's login lines end.
    func sessionFields(_ connection: LoginConnection, user: String, method: String?) -> [String] {
        var fields = ["user=<\(user)>"]
        if let method { fields.append("method=\(method)") }
        fields += ["rip=\(connection.remoteIP)", "lip=\(connection.localIP)"]
        if connection.tlsActive {
            fields.append("TLS")
        } else if secured(connection) {
            fields.append("secured")
        }
        fields.append("session=<\(connection.sessionID)>")
        return fields
    }

    /// Dovecot's session IDs: 12 random bytes in base64.
    static func newSessionID() -> String {
        Data((0..<12).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }
}
