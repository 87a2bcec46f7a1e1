/// Server-side TLS as Postfix 3.7 smtpd(8) has it: what smtpd_tls_security_level (or the older
/// smtpd_use_tls / smtpd_enforce_tls, or smtpd_tls_wrappermode) and smtpd_tls_auth_only ask for.
public struct SMTPServerTLSPolicy: Sendable, Hashable {
    /// STARTTLS is announced and accepted (`may`, `encrypt`, smtpd_use_tls).
    public var offered = false
    /// TLS is mandatory (`encrypt`, smtpd_enforce_tls, wrapper mode): before it, only the commands that
    /// may come before TLS are accepted, the others get `530 5.7.0 Must issue a STARTTLS command first`.
    public var required = false
    /// smtpd_tls_auth_only: no AUTH before TLS.
    public var authOnlyConfigured = false
    /// The server TLS context could be set up (certificate and key loaded); without it STARTTLS is still
    /// announced when offered, but answers `454 4.7.0 TLS not available due to local problem`.
    public var available = false

    public init(offered: Bool = false, required: Bool = false, authOnly: Bool = false, available: Bool = false) {
        self.offered = offered || required
        self.required = required
        self.authOnlyConfigured = authOnly
        self.available = available
    }

    /// AUTH waits for TLS: smtpd_tls_auth_only, or mandatory TLS ("with non-wrapper mode, TLS enforce mode
    /// implies that we don't advertise AUTH before the client issues STARTTLS", smtpd.c).
    public var authOnly: Bool { authOnlyConfigured || required }
}

/// STARTTLS (RFC 3207), starttls_cmd() with its checks in Postfix's order, and the TLS enforcement of
/// smtpd_proto().
extension SMTPServerStateMachine {
    /// EHLO announces STARTTLS while TLS is offered and not yet active.
    var offersStartTLS: Bool { configuration.tls.offered && !isTLSActive }

    /// With mandatory TLS and no TLS yet, every command but HELO, EHLO, STARTTLS, NOOP, QUIT (and XCLIENT)
    /// is refused. The refusal counts as an error, not as a use of the command.
    func requiresTLSFirst(_ verb: SMTPVerb) -> Bool {
        guard configuration.tls.required, !isTLSActive else { return false }
        switch verb {
        case .helo, .ehlo, .starttls, .noop, .quit, .xclient: return false
        default: return true
        }
    }

    mutating func startTLS(_ tokens: [SMTPToken]) -> [SMTPServerAction] {
        guard tokens.count == 1 else { return finish(.starttls, succeeded: false, reply: .startTLSSyntax) }
        if isTLSActive { return finish(.starttls, succeeded: false, reply: .tlsAlreadyActive) }
        guard configuration.tls.offered else {
            return finish(.starttls, succeeded: false, reply: .commandNotImplemented)
        }
        guard configuration.tls.available else {
            return finish(.starttls, succeeded: false, reply: .tlsNotAvailable)
        }
        // smtpd_client_new_tls_session_rate_limit: a client over it is refused before the handshake.
        if limitedEvents.contains(.startTLS) {
            state = .checkingEventRate(.startTLS, tokens, transaction)
            return [.checkEventRate(.startTLS)]
        }
        return startTLSAllowed()
    }

    mutating func startTLSAllowed() -> [SMTPServerAction] {
        let actions = finish(.starttls, succeeded: true, reply: .readyToStartTLS)
        // RFC 3207 §4.2: the client starts over; HELO/EHLO, the transaction and an AUTH login are forgotten.
        resetTransaction()
        state = .startingTLS
        return actions + [.startTLS]
    }

    /// The TLS handshake after STARTTLS completed: the session restarts without HELO (RFC 3207 §4.2), and
    /// without the AUTH login of before (Postfix resets SASL and offers the smtpd_sasl_tls_security_options
    /// mechanisms).
    public mutating func tlsEstablished() -> [SMTPServerAction] {
        guard case .startingTLS = state else { return unexpected() }
        isTLSActive = true
        heloName = nil
        protocolName = "SMTP"
        authenticatedUser = nil
        saslMethod = nil
        state = .ready(nil)
        return []
    }

    /// smtpd_client_new_tls_session_rate_limit, counted once the handshake is done (STARTTLS or wrapper
    /// mode): the driver's `421 4.7.0 host Error: too many new TLS sessions from host[addr]` goes out over
    /// TLS and the session ends. A refused STARTTLS counts as failed (`starttls=0/1`), as in Postfix.
    public mutating func tlsSessionRefused(_ reply: SMTPReply) -> [SMTPServerAction] {
        if case .startingTLS = state { counters.revokeSuccess(.starttls) }
        isTLSActive = true
        state = .closed
        return [.send(reply), .close]
    }

    /// smtpd_tls_wrappermode: the handshake was done on connect, before the greeting (`connected()`).
    public mutating func implicitTLSEstablished() {
        guard case .notGreeted = state else { return }
        isTLSActive = true
    }
}

extension SMTPReply {
    public static let tlsAlreadyActive = SMTPReply(code: 554, enhancedStatus: "5.5.1", "Error: TLS already active")
    public static let tlsNotAvailable = SMTPReply(
        code: 454, enhancedStatus: "4.7.0", "TLS not available due to local problem")
    public static let mustIssueStartTLS = SMTPReply(
        code: 530, enhancedStatus: "5.7.0", "Must issue a STARTTLS command first")
}
