import NIOCore
import TernIMAP

/// imap-login: IMAPLoginSession up to a correct password, then the user's mail session with the connection
/// (the session answers the login command's tag).
struct IMAPLogin {
    let service: LoginService

    private enum Outcome { case loggedIn, logout, disconnected }

    func run(_ connection: LoginConnection) async {
        let start = ContinuousClock.now
        let sessionID = LoginService.newSessionID()
        var session = IMAPLoginSession(
            configuration: .init(
                greeting: service.greeting, mechanisms: service.mechanisms, tlsAvailable: service.tls != nil,
                plaintextAllowed: service.plaintextAllowed(connection)))
        if connection.tlsActive { session.tlsEstablished() }
        var outcome = Outcome.disconnected
        do {
            outcome = try await serve(connection, &session, sessionID)
        } catch {
            outcome = .disconnected
        }
        guard outcome != .loggedIn else { return }
        service.logDisconnect(
            connection, reason: outcome == .logout ? "Disconnected: Aborted login by logging out" : "Disconnected",
            attempts: session.failedAttempts, user: session.lastUser, method: session.lastMethod, since: start,
            sessionID: sessionID)
    }

    private func serve(_ connection: LoginConnection, _ session: inout IMAPLoginSession, _ sessionID: String)
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
                case .close:
                    return .logout
                case .login(let tag, let user, let password, let method):
                    switch await service.authenticate(
                        user: user, password: password, connection: connection, sessionID: sessionID)
                    {
                    case .success(let name):
                        switch await service.startMailSession(
                            user: name, method: method, tag: tag, connection: connection, sessionID: sessionID,
                            pipelined: session.takeBufferedBytes())
                        {
                        case .finished:
                            return .loggedIn
                        case .refused:
                            actions += session.loginRefused(code: .limit, text: service.userIPLimitText) + [.close]
                        case .failed:
                            let failure = IMAPResponse.tagged(
                                tag: tag, .no, .serverBug,
                                "Internal error occurred. Refer to server log for more information.")
                            actions += [.send(failure.bytes), .close]
                        }
                    case .failure:
                        actions += session.loginFailed()
                    case .unavailable:
                        actions += session.loginUnavailable()
                    }
                }
            }
            guard let bytes = try await connection.read() else { return .disconnected }
            actions = session.receive(bytes)
        }
    }
}
