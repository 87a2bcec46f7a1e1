import TernCore

/// SMTP AUTH (RFC 4954) as Postfix's auth_cmd() and smtpd_sasl_authenticate() run it with
/// `smtpd_sasl_type = dovecot`: the driver relays the exchange to the auth server and feeds its answers
/// back (`saslChallenge`, `saslSucceeded`, `saslFailed`); client responses arrive as command lines.
extension SMTPServerStateMachine {
    /// auth_cmd(), its checks in Postfix's order. smtpd_client_auth_rate_limit comes first: Postfix 3.7
    /// counts every AUTH command, even one refused because AUTH is off or HELO is missing.
    mutating func auth(_ tokens: [SMTPToken], _ transaction: MailTransaction?) -> [SMTPServerAction] {
        if limitedEvents.contains(.auth) {
            state = .checkingEventRate(.auth, tokens, transaction)
            return [.checkEventRate(.auth)]
        }
        return authAllowed(tokens, transaction)
    }

    mutating func authAllowed(_ tokens: [SMTPToken], _ transaction: MailTransaction?) -> [SMTPServerAction] {
        if configuration.heloRequired && heloName == nil {
            return finish(.auth, succeeded: false, reply: .sendHeloFirst)
        }
        guard isAuthAvailable else { return finish(.auth, succeeded: false, reply: .authNotEnabled) }
        if transaction != nil { return finish(.auth, succeeded: false, reply: .mailTransactionInProgress) }
        if authenticatedUser != nil { return finish(.auth, succeeded: false, reply: .alreadyAuthenticated) }
        guard tokens.count == 2 || tokens.count == 3 else {
            return finish(.auth, succeeded: false, reply: .authSyntax)
        }
        let method = Self.printable(tokens[1].text)
        // xsasl_dovecot_server_first(): only mechanisms this session offered, whatever the server knows.
        guard let mechanism = activeMechanisms.first(where: { $0.uppercased() == method.uppercased() }) else {
            return authenticationFailed(method, reason: "Invalid authentication mechanism", temporary: false)
        }
        var initialResponse: String?
        if tokens.count == 3 {
            // `=` is the empty initial response (RFC 4954 §4).
            let text = tokens[2].text
            guard text == "=" || SASLBase64.isValid(text) else {
                return authenticationFailed(method, reason: "Invalid base64 data in initial response", temporary: false)
            }
            initialResponse = text == "=" ? "" : text
        }
        state = .authenticating(method: method)
        return [.startSASL(mechanism: mechanism, initialResponse: initialResponse)]
    }

    /// The Received: header's `with` value (RFC 3848): ESMTP, plus S with TLS and A after AUTH.
    public var receivedProtocolName: String {
        guard protocolName == "ESMTP" else { return protocolName }
        return protocolName + (isTLSActive ? "S" : "") + (authenticatedUser != nil ? "A" : "")
    }

    /// AUTH is offered: smtpd_sasl_auth_enable, the auth server announced usable mechanisms, and TLS is
    /// active if smtpd_tls_auth_only (or mandatory TLS) asks for it.
    var isAuthAvailable: Bool {
        configuration.authAvailable && !activeMechanisms.isEmpty && (isTLSActive || !configuration.tls.authOnly)
    }

    /// The mechanisms for the connection as it is now (with or without TLS).
    var activeMechanisms: [String] { isTLSActive ? saslMechanismsWithTLS : saslMechanisms }

    /// A client line while a `334` challenge is outstanding: `*` aborts, anything else must be base64.
    mutating func saslResponse(_ line: FramedLine, method: String) -> [SMTPServerAction] {
        if case .truncated(let bytes) = line {
            state = .ready(nil)
            let start = String(decoding: bytes.prefix(30), as: UTF8.self)
            return [.log(.requestTooLong(limit: configuration.saslResponseLimit, start: start))]
                + finish(.auth, succeeded: false, reply: .saslResponseLimitExceeded)
        }
        let text = String(decoding: line.bytes, as: UTF8.self)
        if text == "*" {
            state = .ready(nil)
            return [.log(.saslAuthenticationAborted(method: method))]
                + finish(.auth, succeeded: false, reply: .authenticationAborted)
        }
        guard SASLBase64.isValid(text) else {
            return authenticationFailed(method, reason: "Invalid base64 data in continued response", temporary: false)
        }
        state = .authenticating(method: method)
        return [.continueSASL(response: text)]
    }

    /// The auth server sent a challenge (base64, as sent): `334 challenge`, then wait for the response.
    public mutating func saslChallenge(_ challenge: String) -> [SMTPServerAction] {
        guard case .authenticating(let method) = state else { return unexpected() }
        state = .awaitingSASLResponse(method: method)
        return replyActions(SMTPReply(code: 334, challenge))
    }

    /// The auth server accepted the client as `username`.
    public mutating func saslSucceeded(username: String) -> [SMTPServerAction] {
        guard case .authenticating(let method) = state else { return unexpected() }
        state = .ready(nil)
        authenticatedUser = Self.printable(username)
        saslMethod = method
        return finish(.auth, succeeded: true, reply: .authenticationSuccessful)
    }

    /// The auth server refused (or the exchange broke down: `temporary`); `reason` is its text, if any, and
    /// `username` the user it named.
    public mutating func saslFailed(reason: String?, username: String?, temporary: Bool) -> [SMTPServerAction] {
        guard case .authenticating(let method) = state else { return unexpected() }
        if let username { lastSASLUsername = Self.printable(username) }
        let text = reason.flatMap { $0.isEmpty ? nil : $0 } ?? "(reason unavailable)"
        return authenticationFailed(method, reason: text, temporary: temporary)
    }

    /// `535 5.7.8` (or `454 4.7.0` when temporary) and the warning fail2ban's postfix-sasl filter reads.
    /// Like Postfix, the log names the last user name an auth server reported in this session.
    private mutating func authenticationFailed(_ method: String, reason: String, temporary: Bool)
        -> [SMTPServerAction]
    {
        state = .ready(nil)
        let warning = SMTPServerWarning.saslAuthenticationFailed(
            method: method, reason: reason, username: lastSASLUsername)
        let reply: SMTPReply =
            temporary
            ? SMTPReply(code: 454, enhancedStatus: "4.7.0", "Temporary authentication failure: \(reason)")
            : SMTPReply(code: 535, enhancedStatus: "5.7.8", "Error: authentication failed: \(reason)")
        return [.log(warning)] + finish(.auth, succeeded: false, reply: reply)
    }

    /// Postfix's printable(): control and non-ASCII characters in client-given names become `?`.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value >= 0x7F ? "?" : $0 }))
    }
}

extension SMTPReply {
    public static let alreadyAuthenticated = SMTPReply(
        code: 503, enhancedStatus: "5.5.1", "Error: already authenticated")
    public static let authSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Syntax: AUTH mechanism")
    public static let authenticationSuccessful = SMTPReply(
        code: 235, enhancedStatus: "2.7.0", "Authentication successful")
    public static let authenticationAborted = SMTPReply(code: 501, enhancedStatus: "5.7.0", "Authentication aborted")
    /// A response over smtpd_sasl_response_limit; the session goes on.
    public static let saslResponseLimitExceeded = SMTPReply(
        code: 500, enhancedStatus: "5.5.6", "SASL response limit exceeded")
}
