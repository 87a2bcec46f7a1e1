import Foundation

/// The not-authenticated state as Dovecot's imap-login runs it: greeting, CAPABILITY, NOOP, ID, ENABLE,
/// STARTTLS, LOGIN and AUTHENTICATE (with SASL-IR), LOGOUT. No I/O: bytes go in, replies and requests for
/// the driver come out. The password check and everything after login happen elsewhere: on `.login` the
/// driver authenticates and answers `loginFailed()` or hands the connection (with `takeBufferedBytes()`) to
/// the mail session, which sends the tagged OK. PLAIN and LOGIN credentials are collected here; other
/// mechanisms (CRAM-MD5) are the auth server's exchange: on `.startSASL` the driver relays its challenges
/// with `saslChallenge(_:)` and the client's answers with `takeSASLResponse()`.
public struct IMAPLoginSession: Sendable {
    public struct Configuration: Sendable {
        public var greeting: String
        /// auth_mechanisms, upper case.
        public var mechanisms: [String]
        public var tlsAvailable: Bool
        /// disable_plaintext_auth = no, or the connection is secure (TLS, or from the server's own address).
        public var plaintextAllowed: Bool
        /// imap_literal_minus = yes: LITERAL- instead of LITERAL+ (RFC 7888).
        public var literalMinus: Bool

        public init(
            greeting: String, mechanisms: [String], tlsAvailable: Bool, plaintextAllowed: Bool,
            literalMinus: Bool = false
        ) {
            self.literalMinus = literalMinus
            self.greeting = greeting
            self.mechanisms = mechanisms
            self.tlsAvailable = tlsAvailable
            self.plaintextAllowed = plaintextAllowed
        }
    }

    public enum Action: Sendable, Equatable {
        case send([UInt8])
        /// The reply is queued: start the TLS handshake; bytes received before it are dropped.
        case startTLS
        /// Check these credentials (`method` is what Dovecot logs: PLAIN or LOGIN).
        case login(tag: String, user: String, password: String, method: String)
        /// Run `mechanism` on the auth server, starting with the client's initial response (nil: none).
        case startSASL(tag: String, mechanism: String, initialResponse: [UInt8]?)
        /// RFC 2971 ID's fields, before its reply: a client in login_trusted_networks may name the client it
        /// proxies (`x-originating-ip`, `x-originating-port`, `x-connected-ip`, `x-session-id`), as Dovecot's
        /// imap-login lets it.
        case clientID([IDParameter])
        case close
    }

    private enum State: Sendable, Equatable {
        case ready
        /// AUTHENTICATE waiting for a response line; LOGIN's user name once given.
        case sasl(tag: String, mechanism: String, user: String?)
        /// The auth server's exchange: its challenge was sent, the client's answer is awaited.
        case serverSASL
        case checking
        case closed
    }

    public var configuration: Configuration
    public private(set) var tlsActive = false
    private var parser: IMAPCommandParser
    private var state = State.ready
    /// Failed logins so far (Dovecot logs `auth failed, N attempts`).
    public private(set) var failedAttempts = 0
    /// The user name of the last attempt, for the log.
    public private(set) var lastUser: String?
    public private(set) var lastMethod: String?
    /// How the client ended the auth server's exchange, when it did.
    private var clientEnd: ClientEnd?

    /// A client answer to an auth server challenge.
    public enum SASLResponse: Sendable, Equatable {
        case response([UInt8])
        /// `*`, or a line that is not base64: the driver cancels the exchange; `loginFailed()` then replies.
        case ended
    }

    private enum ClientEnd: Sendable { case aborted, invalidBase64 }

    public init(configuration: Configuration, limits: IMAPParserLimits = IMAPParserLimits()) {
        self.configuration = configuration
        var limits = limits
        if configuration.literalMinus { limits.maxNonSynchronizingLiteralSize = IMAPParserLimits.literalMinusMaximum }
        parser = IMAPCommandParser(limits: limits)
    }

    public var capabilities: [String] {
        var names = IMAPReplyText.preLoginCapabilities
        if configuration.literalMinus { names = IMAPReplyText.withLiteralMinus(names) }
        if configuration.tlsAvailable && !tlsActive { names.append("STARTTLS") }
        if !configuration.plaintextAllowed { names.append("LOGINDISABLED") }
        let mechanisms = configuration.mechanisms.filter { configuration.plaintextAllowed || !Self.isPlaintext($0) }
        return names + mechanisms.map { "AUTH=\($0)" }
    }

    public func greeting() -> [UInt8] {
        IMAPResponse.untagged(.ok, .capability(capabilities), configuration.greeting).bytes
    }

    public mutating func receive(_ bytes: [UInt8]) -> [Action] {
        parser.append(bytes)
        return process()
    }

    /// After a failed check: the NO reply, then whatever the client pipelined meanwhile. After an exchange
    /// the client ended itself: the reply to `*` or to bad base64 instead.
    public mutating func loginFailed() -> [Action] {
        guard state == .checking || state == .serverSASL else { return [] }
        state = .ready
        let reply: IMAPResponse
        switch clientEnd {
        case .aborted:
            reply = IMAPResponse.tagged(tag: pendingTag, .bad, nil, IMAPReplyText.authenticationAborted)
        case .invalidBase64:
            reply = IMAPResponse.tagged(tag: pendingTag, .no, .alert, Self.invalidBase64)
        case nil:
            failedAttempts += 1
            reply = IMAPResponse.tagged(tag: pendingTag, .no, .authenticationFailed, IMAPReplyText.authenticationFailed)
        }
        clientEnd = nil
        return [.send(reply.bytes)] + process()
    }

    /// The auth server's challenge for the client (`+ base64`); then wait for `takeSASLResponse()`.
    public mutating func saslChallenge(_ challenge: [UInt8]) -> [Action] {
        guard state == .checking || state == .serverSASL else { return [] }
        state = .serverSASL
        return [.send(IMAPResponse.continuation(Data(challenge).base64EncodedString()).bytes)]
    }

    /// The client's answer to the last challenge, once a whole line has arrived (nil: feed more bytes with
    /// `receive`, which only buffers during the exchange).
    public mutating func takeSASLResponse() -> SASLResponse? {
        guard state == .serverSASL else { return nil }
        parser.expectContinuationLine()
        guard let event = parser.next() else { return nil }
        state = .checking
        guard case .continuationLine(let line) = event else {
            clientEnd = .invalidBase64
            return .ended
        }
        let text = String(decoding: line, as: UTF8.self)
        if text == "*" {
            clientEnd = .aborted
            return .ended
        }
        guard let decoded = text == "=" ? Data() : Data(base64Encoded: text) else {
            clientEnd = .invalidBase64
            return .ended
        }
        return .response(Array(decoded))
    }

    /// A correct password, but the session may not start (mail_max_userip_connections): `NO [code] text`.
    /// Pipelined input was handed over already, so there is nothing more to process.
    public mutating func loginRefused(code: ResponseCode, text: String) -> [Action] {
        guard state == .checking || state == .serverSASL else { return [] }
        state = .ready
        return [.send(IMAPResponse.tagged(tag: pendingTag, .no, code, text).bytes)]
    }

    /// An internal failure (auth service down): Dovecot's temporary-failure reply.
    public mutating func loginUnavailable() -> [Action] {
        guard state == .checking || state == .serverSASL else { return [] }
        state = .ready
        let reply = IMAPResponse.tagged(
            tag: pendingTag, .no, .unavailable, "Temporary authentication failure. [\(Self.hostnameStamp)]")
        return [.send(reply.bytes)] + process()
    }

    public mutating func tlsEstablished() {
        tlsActive = true
        configuration.plaintextAllowed = true
    }

    /// Input the client sent after the command being answered (pipelined), for the mail session.
    public mutating func takeBufferedBytes() -> [UInt8] { parser.takeBufferedBytes() }

    private var pendingTag = ""

    private mutating func process() -> [Action] {
        var actions: [Action] = []
        while state != .checking && state != .serverSASL && state != .closed {
            if case .sasl = state { parser.expectContinuationLine() }
            guard let event = parser.next() else { break }
            actions += handle(event)
            if actions.contains(.startTLS) { break }
        }
        return actions
    }

    private mutating func handle(_ event: IMAPCommandParser.Event) -> [Action] {
        switch event {
        case .command(let tagged):
            return command(tagged)
        case .continuationRequest:
            return [.send(IMAPResponse.literalContinuation.bytes)]
        case .continuationLine(let line):
            return saslResponse(line)
        case .appendStart(let append):
            parser.rejectAppend()
            return [.send(IMAPResponse.tagged(tag: append.tag, .bad, nil, IMAPReplyText.preLoginCommandError).bytes)]
        case .appendBytes, .appendEnd, .catenateURL, .catenateText:
            return []
        case .error(let error):
            return [.send(IMAPResponse.badCommand(error, preLogin: true).bytes)]
        case .fatal(let error):
            state = .closed
            return [.send(IMAPResponse.untagged(.bye, nil, error.byeText).bytes), .close]
        }
    }

    private mutating func command(_ tagged: TaggedCommand) -> [Action] {
        let tag = tagged.tag
        func ok(_ text: String) -> Action { .send(IMAPResponse.tagged(tag: tag, .ok, nil, text).bytes) }
        func bad(_ text: String) -> Action { .send(IMAPResponse.tagged(tag: tag, .bad, nil, text).bytes) }
        switch tagged.command {
        case .capability:
            return [.send(IMAPResponse.capability(capabilities).bytes), ok(IMAPReplyText.preLoginCapabilityCompleted)]
        case .noop:
            return [ok("NOOP completed.")]
        case .logout:
            state = .closed
            return [.send(IMAPResponse.untagged(.bye, nil, IMAPReplyText.loggingOut).bytes), ok("Logout completed."), .close]
        case .id(let parameters):
            return (parameters.map { [Action.clientID($0)] } ?? []) + [.send(IMAPResponse.id([IDParameter(key: "name", value: "Dovecot")]).bytes), ok("ID completed.")]
        case .enable:
            return [.send(IMAPResponse.enabled([]).bytes), ok(IMAPReplyText.enableIgnoredPreLogin)]
        case .startTLS:
            guard configuration.tlsAvailable else { return [bad(IMAPReplyText.tlsNotEnabled)] }
            guard !tlsActive else { return [bad("TLS is already active.")] }
            _ = parser.takeBufferedBytes()
            return [ok("Begin TLS negotiation now."), .startTLS]
        case .login(let user, let password):
            guard configuration.plaintextAllowed else { return plaintextRefused(tag) }
            return check(tag: tag, user: user, password: password, method: "PLAIN")
        case .authenticate(let mechanism, let initial):
            return authenticate(tag: tag, mechanism: mechanism.uppercased(), initialResponse: initial)
        default:
            return [bad(IMAPReplyText.preLoginCommandError)]
        }
    }

    private mutating func plaintextRefused(_ tag: String) -> [Action] {
        let alert = IMAPResponse.untagged(
            .bad, .alert,
            "Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. "
                + "If anyone was listening, the password was exposed.")
        let reply = IMAPResponse.tagged(
            tag: tag, .no, .privacyRequired, "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
        return [.send(alert.bytes + reply.bytes)]
    }

    private mutating func check(tag: String, user: String, password: String, method: String) -> [Action] {
        state = .checking
        pendingTag = tag
        lastUser = user
        lastMethod = method
        return [.login(tag: tag, user: user, password: password, method: method)]
    }

    private mutating func authenticate(tag: String, mechanism: String, initialResponse: String?) -> [Action] {
        guard configuration.mechanisms.contains(mechanism) else {
            return [.send(IMAPResponse.tagged(tag: tag, .no, .alert, IMAPReplyText.unsupportedMechanism).bytes)]
        }
        guard Self.isPlaintext(mechanism) else { return serverSASL(tag: tag, mechanism: mechanism, initialResponse) }
        guard configuration.plaintextAllowed else { return plaintextRefused(tag) }
        state = .sasl(tag: tag, mechanism: mechanism, user: nil)
        if let initialResponse { return saslResponse(Array(initialResponse.utf8)) }
        return [.send(IMAPResponse.continuation(mechanism == "LOGIN" ? Self.usernameChallenge : "").bytes)]
    }

    /// A mechanism the auth server runs: the driver starts it and relays the challenges.
    private mutating func serverSASL(tag: String, mechanism: String, _ initialResponse: String?) -> [Action] {
        var initial: [UInt8]?
        if let initialResponse {
            guard let decoded = initialResponse == "=" ? Data() : Data(base64Encoded: initialResponse) else {
                return [.send(IMAPResponse.tagged(tag: tag, .no, .alert, Self.invalidBase64).bytes)]
            }
            initial = Array(decoded)
        }
        state = .checking
        pendingTag = tag
        lastUser = nil
        lastMethod = mechanism
        return [.startSASL(tag: tag, mechanism: mechanism, initialResponse: initial)]
    }

    static let invalidBase64 = "Invalid base64 in response"
    static let usernameChallenge = Data("Username:".utf8).base64EncodedString()
    static let passwordChallenge = Data("Password:".utf8).base64EncodedString()

    private mutating func saslResponse(_ line: [UInt8]) -> [Action] {
        guard case .sasl(let tag, let mechanism, let user) = state else { return [] }
        let text = String(decoding: line, as: UTF8.self)
        if text == "*" {
            state = .ready
            return [.send(IMAPResponse.tagged(tag: tag, .bad, nil, IMAPReplyText.authenticationAborted).bytes)]
        }
        guard let decoded = text == "=" ? Data() : Data(base64Encoded: text) else {
            state = .ready
            return [.send(IMAPResponse.tagged(tag: tag, .no, .alert, Self.invalidBase64).bytes)]
        }
        let bytes = Array(decoded)
        if mechanism == "LOGIN" {
            guard let user else {
                state = .sasl(tag: tag, mechanism: mechanism, user: String(decoding: bytes, as: UTF8.self))
                return [.send(IMAPResponse.continuation(Self.passwordChallenge).bytes)]
            }
            return check(tag: tag, user: user, password: String(decoding: bytes, as: UTF8.self), method: "LOGIN")
        }
        // PLAIN: authzid NUL authcid NUL password (RFC 4616).
        let fields = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else {
            state = .checking
            pendingTag = tag
            lastMethod = "PLAIN"
            return loginFailed()
        }
        return check(
            tag: tag, user: String(decoding: fields[1], as: UTF8.self),
            password: String(decoding: fields[2], as: UTF8.self), method: "PLAIN")
    }

    static func isPlaintext(_ mechanism: String) -> Bool { mechanism == "PLAIN" || mechanism == "LOGIN" }

    static var hostnameStamp: String { ProcessInfo.processInfo.hostName + ":" + String(Int(Date().timeIntervalSince1970)) }
}
