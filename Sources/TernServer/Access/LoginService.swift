import Foundation
import NIOCore
import NIOSSL
import TernAuth

/// What a login session (POP3 or IMAP, before login) needs: its protocol's settings, the auth socket,
/// and a way to start the user's mail session once the password is right.
struct LoginService: Sendable {
    /// Starts the mail session worker on the given socket (closed by the starter); returns its pid.
    typealias SessionStarter = @Sendable (MailSessionRequest, Int32) async throws -> Int32

    let protocolName: String
    let greeting: String
    let mechanisms: [String]
    let tls: NIOSSLContext?
    let disablePlaintextAuth: Bool
    let authSocket: String
    let configPath: String
    let log: DovecotLog
    let startSession: SessionStarter

    var logPrefix: String { "\(protocolName)-login" }

    /// disable_plaintext_auth applies to connections that are neither TLS nor from the server's own address.
    func plaintextAllowed(_ connection: LoginConnection) -> Bool {
        !disablePlaintextAuth || connection.tlsActive || connection.remoteIP == connection.localIP
    }

    enum AuthResult {
        case success(user: String)
        case failure
        case unavailable
    }

    /// One PLAIN authentication through the auth socket, as Dovecot's login processes ask theirs.
    func authenticate(
        user: String, password: String, connection: LoginConnection, sessionID: String
    ) async -> AuthResult {
        var parameters = [
            "lip=\(connection.localIP)", "rip=\(connection.remoteIP)", "rport=\(connection.remotePort)",
            "session=\(sessionID)",
        ]
        if connection.tlsActive || connection.remoteIP == connection.localIP { parameters.append("secured") }
        let service = protocolName
        do {
            let reply = try await AuthClient.withConnection(path: authSocket) { client in
                try await client.authenticate(
                    mechanism: "PLAIN", service: service, parameters: parameters,
                    initialResponse: Array("\0\(user)\0\(password)".utf8))
            }
            switch reply {
            case .ok: return .success(user: reply.user ?? user)
            case .fail(_, let fields) where fields.contains("code=temp_fail") || fields.contains("temp"):
                return .unavailable
            case .fail, .cont: return .failure
            }
        } catch {
            log.log(logPrefix, .error, "auth-client: conn unix:\(authSocket): \(error)")
            return .unavailable
        }
    }

    /// Hands the connection to a new mail session: a socket pair, the worker on one end, the client proxied
    /// to the other. Logs Dovecot's `Login:` line. Returns false when the session could not start.
    func startMailSession(
        user: String, method: String, tag: String?, connection: LoginConnection, sessionID: String,
        pipelined: [UInt8]
    ) async -> Bool {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            log.log(logPrefix, .error, "socketpair() failed: \(String(cString: strerror(errno)))")
            return false
        }
        var request = MailSessionRequest(
            protocolName: protocolName, user: user, tag: tag, sessionID: sessionID, remoteIP: connection.remoteIP,
            localIP: connection.localIP, configPath: configPath)
        request.uid = 0
        let pid: Int32
        do {
            pid = try await startSession(request, fds[1])
        } catch {
            close(fds[0])
            log.log(logPrefix, .error, "Internal login failure for user \(user): \(error)")
            return false
        }
        let security = connection.tlsActive ? "TLS" : (connection.remoteIP == connection.localIP ? "secured" : nil)
        log.info(
            logPrefix,
            "Login: user=<\(user)>, method=\(method), rip=\(connection.remoteIP), lip=\(connection.localIP), "
                + "mpid=\(pid), \(security.map { $0 + ", " } ?? "")session=<\(sessionID)>")
        await AccessListener.removeLoginTimeout(connection.channel)
        // The proxy's channel owns fds[0] from here on, also when it fails.
        try? await connection.proxy(to: fds[0], initial: pipelined)
        return true
    }

    /// Dovecot's line for a client that leaves without logging in (fail2ban's dovecot filter reads it).
    func logDisconnect(
        _ connection: LoginConnection, reason: String, attempts: Int, user: String?, method: String?,
        since start: ContinuousClock.Instant, sessionID: String
    ) {
        let seconds = (ContinuousClock.now - start).components.seconds
        let what = attempts > 0 ? "auth failed, \(attempts) attempts in \(seconds) secs" : "no auth attempts in \(seconds) secs"
        var fields = ["user=<\(user ?? "")>"]
        if let method { fields.append("method=\(method)") }
        fields += ["rip=\(connection.remoteIP)", "lip=\(connection.localIP)"]
        if connection.tlsActive { fields.append("TLS") }
        fields.append("session=<\(sessionID)>")
        log.info(logPrefix, "\(reason) (\(what)): \(fields.joined(separator: ", "))")
    }

    /// Dovecot's session IDs: 12 random bytes in base64.
    static func newSessionID() -> String {
        Data((0..<12).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }
}
