import Foundation
import NIOCore
import TernPOP3

/// pop3-login: the AUTHORIZATION state of POP3Session (USER/PASS, APOP, AUTH, STLS) up to a correct
/// password, then the user's mail session with the connection.
struct POP3Login {
    let service: LoginService

    /// Longest command line before Dovecot's `-ERR Input buffer full, aborting`.
    static let maxLineLength = 8192

    /// Where a login is: the state machine plus what the log and SASL need.
    private struct Progress {
        var session: POP3Session
        var buffer: [UInt8] = []
        var attempts = 0
        var user: String?
        var method: String?
        /// AUTH in progress: its mechanism and, for LOGIN, the user name once given.
        var sasl: (mechanism: String, user: String?)?
    }

    private enum Outcome { case loggedIn, quit, disconnected }

    func run(_ connection: LoginConnection) async {
        let start = ContinuousClock.now
        var configuration = POP3Session.Configuration(
            greeting: service.greeting, mechanisms: service.mechanisms, tlsAvailable: service.tls != nil,
            plaintextAllowed: service.plaintextAllowed(connection))
        configuration.apopChallenge = await service.apopChallenge()
        configuration.trusted = service.trusted(connection)
        var progress = Progress(session: POP3Session(configuration: configuration))
        if connection.tlsActive { progress.session.tlsEstablished() }
        var outcome = Outcome.disconnected
        do {
            outcome = try await serve(connection, &progress)
        } catch {
            outcome = .disconnected
        }
        guard outcome != .loggedIn else { return }
        service.logDisconnect(
            connection, reason: outcome == .quit ? "Disconnected: Aborted login by logging out" : "Disconnected",
            attempts: progress.attempts, user: progress.user, method: progress.method, since: start)
    }

    private func serve(_ connection: LoginConnection, _ progress: inout Progress) async throws
        -> Outcome
    {
        try await connection.write(Array(Self.text(progress.session.greeting()).utf8))
        while true {
            while let line = Self.takeLine(&progress.buffer) {
                var actions = progress.session.received(line: line)
                while !actions.isEmpty {
                    let action = actions.removeFirst()
                    switch action {
                    case .send(let text):
                        if actions.first == .startTLS, let tls = service.tls {
                            actions.removeFirst()
                            try await connection.startTLS(reply: Array(text.utf8), context: tls)
                            progress.buffer.removeAll()
                            progress.session.tlsEstablished()
                        } else {
                            try await connection.write(Array(text.utf8))
                        }
                    case .close:
                        return .quit
                    case .checkPassword(let user, let password):
                        progress.method = "PLAIN"
                        if let next = try await check(user, password, connection, &progress) {
                            actions = next
                        } else {
                            return .loggedIn
                        }
                    case .startSASL(let mechanism, let initial) where mechanism != "PLAIN" && mechanism != "LOGIN":
                        progress.method = mechanism
                        guard let next = try await serverSASL(mechanism, initial, connection, &progress)
                        else { return .loggedIn }
                        actions = next
                    case .startSASL(let mechanism, let initial):
                        progress.sasl = (mechanism, nil)
                        progress.method = mechanism
                        actions = initial.map { saslResponse($0, &progress) }
                            ?? progress.session.saslChallenge(mechanism == "LOGIN" ? Self.usernameChallenge : "")
                    case .continueSASL(let line):
                        actions = saslResponse(line, &progress)
                    case .abortSASL:
                        progress.sasl = nil
                    case .forward(let forwarded):
                        connection.forward(
                            remoteIP: forwarded.address, remotePort: forwarded.port, localIP: nil,
                            sessionID: forwarded.sessionID)
                    case .startTLS, .openMaildrop, .sendMessage, .commit:
                        continue
                    }
                    if case .checkPassword = actions.first, progress.sasl != nil { progress.sasl = nil }
                }
            }
            if progress.buffer.count > Self.maxLineLength {
                try await connection.write(Array("-ERR Input buffer full, aborting\r\n".utf8))
                return .disconnected
            }
            guard let bytes = try await connection.read() else { return .disconnected }
            progress.buffer += bytes
        }
    }

    /// The password check; nil once the mail session has taken the connection over.
    private func check(
        _ user: String, _ password: String, _ connection: LoginConnection, _ progress: inout Progress
    ) async throws -> [POP3Session.Action]? {
        progress.user = user
        let result = await service.authenticate(
            user: user, password: password, connection: connection)
        return await finish(result, connection, &progress)
    }

    /// A mechanism the auth server runs (CRAM-MD5): its challenges go to the client as `+ base64`, the
    /// client's lines back; nil once the mail session has taken the connection over.
    private func serverSASL(
        _ mechanism: String, _ initial: String?, _ connection: LoginConnection, _ progress: inout Progress
    ) async throws -> [POP3Session.Action]? {
        var initialResponse: [UInt8]?
        if let initial {
            guard let decoded = Data(base64Encoded: initial) else {
                return progress.session.loginFailed(reason: "Invalid base64 data in initial response")
            }
            initialResponse = Array(decoded)
        }
        var clientEnded: [POP3Session.Action]?
        let result = await service.authenticate(
            mechanism: mechanism, initialResponse: initialResponse, connection: connection
        ) { challenge in
            for case .send(let text) in progress.session.saslChallenge(Data(challenge).base64EncodedString()) {
                try await connection.write(Array(text.utf8))
            }
            while true {
                if let line = Self.takeLine(&progress.buffer) {
                    let actions = progress.session.received(line: line)
                    guard case .continueSASL(let text) = actions.first else {
                        clientEnded = actions.filter { $0 != .abortSASL }  // `*`: the abort reply
                        return nil
                    }
                    guard let decoded = text == "=" ? Data() : Data(base64Encoded: text) else {
                        clientEnded = progress.session.loginFailed(reason: "Invalid base64 data in continued response")
                        return nil
                    }
                    return Array(decoded)
                }
                guard progress.buffer.count <= Self.maxLineLength, let bytes = try await connection.read() else {
                    return nil
                }
                progress.buffer += bytes
            }
        }
        if let clientEnded { return clientEnded }
        return await finish(result, connection, &progress)
    }

    /// The auth server's verdict: the mail session takes the connection over (nil), or the reply to send.
    private func finish(
        _ result: LoginService.AuthResult, _ connection: LoginConnection, _ progress: inout Progress
    ) async -> [POP3Session.Action]? {
        switch result {
        case .success(let name):
            switch await service.startMailSession(
                user: name, method: progress.method ?? "PLAIN", tag: nil, connection: connection,
                pipelined: progress.buffer)
            {
            case .finished: return nil
            case .refused: return progress.session.loginFailed(reason: "[IN-USE] " + service.userIPLimitText) + [.close]
            case .failed: return [.send(Self.internalError), .close]
            }
        case .failure, .aborted:
            progress.attempts += 1
            return progress.session.loginFailed()
        case .unavailable:
            return progress.session.loginFailed(reason: "[SYS/TEMP] Temporary authentication failure.")
        }
    }

    /// One AUTH response line (RFC 5034): PLAIN's credentials, or LOGIN's user name then password.
    private func saslResponse(_ line: String, _ progress: inout Progress) -> [POP3Session.Action] {
        guard let sasl = progress.sasl else { return [] }
        guard let decoded = line == "=" ? Data() : Data(base64Encoded: line) else {
            progress.sasl = nil
            return progress.session.loginFailed(reason: "Invalid base64 data in continued response")
        }
        let text = String(decoding: decoded, as: UTF8.self)
        if sasl.mechanism == "LOGIN" {
            guard let user = sasl.user else {
                progress.sasl = (sasl.mechanism, text)
                return progress.session.saslChallenge(Self.passwordChallenge)
            }
            progress.sasl = nil
            return [.checkPassword(user: user, password: text)]
        }
        progress.sasl = nil
        let fields = Array(decoded).split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard sasl.mechanism == "PLAIN", fields.count == 3 else { return progress.session.loginFailed() }
        return [
            .checkPassword(
                user: String(decoding: fields[1], as: UTF8.self), password: String(decoding: fields[2], as: UTF8.self))
        ]
    }

    /// The first line of `buffer`, without its line end, once it is complete.
    private static func takeLine(_ buffer: inout [UInt8]) -> String? {
        guard let end = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var line = buffer[..<end]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        defer { buffer.removeSubrange(...end) }
        return String(decoding: line, as: UTF8.self)
    }

    private static func text(_ action: POP3Session.Action) -> String {
        if case .send(let text) = action { return text }
        return ""
    }

    static let usernameChallenge = Data("Username:".utf8).base64EncodedString()
    static let passwordChallenge = Data("Password:".utf8).base64EncodedString()
    static let internalError = "-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.\r\n"
}
