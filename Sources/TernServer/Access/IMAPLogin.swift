import NIOCore
import TernIMAP

/// imap-login: IMAPLoginSession up to a correct password, then the user's mail session with the connection
/// (the session answers the login command's tag).
struct IMAPLogin {
    let service: LoginService

    private enum Outcome { case loggedIn, logout, disconnected }

    func run(_ connection: LoginConnection) async {
        let start = ContinuousClock.now
        var session = IMAPLoginSession(
            configuration: .init(
                greeting: service.greeting, mechanisms: service.mechanisms, tlsAvailable: service.tls != nil,
                plaintextAllowed: service.plaintextAllowed(connection), literalMinus: service.settings.literalMinus))
        if connection.tlsActive { session.tlsEstablished() }
        var outcome = Outcome.disconnected
        do {
            outcome = try await serve(connection, &session)
        } catch {
            outcome = .disconnected
        }
        guard outcome != .loggedIn else { return }
        service.logDisconnect(
            connection, reason: outcome == .logout ? "Disconnected: Aborted login by logging out" : "Disconnected",
            attempts: session.failedAttempts, user: session.lastUser, method: session.lastMethod, since: start)
    }

    private func serve(_ connection: LoginConnection, _ session: inout IMAPLoginSession)
        async throws -> Outcome
    {
        try await connection.write(session.greeting())
        var actions: [IMAPLoginSession.Action] = []
        while true {
            while !actions.isEmpty {
                let action = actions.removeFirst()
                switch action {
                case .send(let bytes):
                    if actions.first == .startTLS, let tls = service.tls {
                        actions.removeFirst()
                        try await connection.startTLS(reply: bytes, context: tls)
                        session.tlsEstablished()
                    } else {
                        try await connection.write(bytes)
                    }
                case .startTLS:
                    continue
                case .clientID(let fields) where service.trusted(connection):
                    Self.forward(fields, connection)
                case .clientID:
                    continue
                case .close:
                    return .logout
                case .login(let tag, let user, let password, let method):
                    let result = await service.authenticate(
                        user: user, password: password, connection: connection)
                    guard let next = await finish(result, tag: tag, method: method, connection, &session)
                    else { return .loggedIn }
                    actions += next
                case .startSASL(let tag, let mechanism, let initialResponse):
                    let result = await service.authenticate(
                        mechanism: mechanism, initialResponse: initialResponse, connection: connection
                    ) { challenge in
                        for case .send(let bytes) in session.saslChallenge(challenge) { try await connection.write(bytes) }
                        while true {
                            switch session.takeSASLResponse() {
                            case .response(let bytes): return bytes
                            case .ended: return nil
                            case nil:
                                guard let bytes = try await connection.read() else { return nil }
                                _ = session.receive(bytes)
                            }
                        }
                    }
                    guard let next = await finish(result, tag: tag, method: mechanism, connection, &session)
                    else { return .loggedIn }
                    actions += next
                }
            }
            guard let bytes = try await connection.read() else { return .disconnected }
            actions = session.receive(bytes)
        }
    }

    /// The auth server's verdict: the mail session takes the connection over (nil), or the replies to send.
    private func finish(
        _ result: LoginService.AuthResult, tag: String, method: String, _ connection: LoginConnection,
        _ session: inout IMAPLoginSession
    ) async -> [IMAPLoginSession.Action]? {
        switch result {
        case .success(let name):
            switch await service.startMailSession(
                user: name, method: method, tag: tag, connection: connection,
                pipelined: session.takeBufferedBytes())
            {
            case .finished:
                return nil
            case .refused:
                return session.loginRefused(code: .limit, text: service.userIPLimitText) + [.close]
            case .failed:
                let failure = IMAPResponse.tagged(
                    tag: tag, .no, .serverBug, "Internal error occurred. Refer to server log for more information.")
                return [.send(failure.bytes), .close]
            }
        case .failure, .aborted:
            return session.loginFailed()
        case .unavailable:
            return session.loginUnavailable()
        }
    }

    /// A trusted client's ID fields (Dovecot's imap-login client_update_info); NIL values are skipped.
    static func forward(_ fields: [IDParameter], _ connection: LoginConnection) {
        func value(_ keys: String...) -> String? {
            fields.last { field in keys.contains(field.key.lowercased()) && field.value != nil }?.value
        }
        connection.forward(
            remoteIP: value("x-originating-ip"), remotePort: value("x-originating-port").flatMap { UInt16($0) }.map(Int.init),
            localIP: value("x-connected-ip"), sessionID: value("x-session-id", "x-session-ext-id"))
    }
}
