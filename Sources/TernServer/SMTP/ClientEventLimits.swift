import TernConfig
import TernCore
import TernPolicy
import TernSMTP

/// smtpd's per-client limits kept with anvil (postconf(5) smtpd_client_*_limit): connections at once and,
/// per anvil_rate_time_unit, connections, MAIL commands, recipients, AUTH commands and new TLS sessions
/// (0 turns a rate limit off). Clients in smtpd_client_event_limit_exceptions are not limited.
struct ClientEventLimits: Sendable {
    var connectionCount = 50
    var connectionRate = 0
    var messageRate = 0
    var recipientRate = 0
    var authRate = 0
    var newTLSSessionRate = 0
    var exceptions = HostAddressList()

    static func make(_ config: MainConfig, open: (String) throws -> any LookupTable) throws -> ClientEventLimits {
        var limits = ClientEventLimits()
        limits.connectionCount = config.int("smtpd_client_connection_count_limit") ?? 50
        limits.connectionRate = config.int("smtpd_client_connection_rate_limit") ?? 0
        limits.messageRate = config.int("smtpd_client_message_rate_limit") ?? 0
        limits.recipientRate = config.int("smtpd_client_recipient_rate_limit") ?? 0
        limits.authRate = config.int("smtpd_client_auth_rate_limit") ?? 0
        limits.newTLSSessionRate = config.int("smtpd_client_new_tls_session_rate_limit") ?? 0
        limits.exceptions = try HostAddressList(items: config.list("smtpd_client_event_limit_exceptions"), open: open)
        return limits
    }

    /// The commands the state machine must have counted (`SMTPServerStateMachine.limitedEvents`).
    var limitedEvents: Set<SMTPClientEvent> {
        var events: Set<SMTPClientEvent> = []
        if messageRate > 0 { events.insert(.mail) }
        if recipientRate > 0 { events.insert(.recipient) }
        if authRate > 0 { events.insert(.auth) }
        if newTLSSessionRate > 0 { events.insert(.startTLS) }
        return events
    }
}

/// One session's side of anvil: registers the connection (and its end), counts the client's commands and
/// says, with Postfix's reply and warning, when a limit is exceeded. Anvil keys by the master.cf service
/// name (`smtp`, `127.0.0.1:2525`) and the client address, as Postfix does.
struct ClientEventControl {
    /// A limit's reply to the client and the warning for the mail log.
    struct Refusal {
        var reply: SMTPReply
        var warning: String
    }

    let anvil: Anvil
    let service: String
    let client: ClientIdentity
    let limits: ClientEventLimits
    let hostname: String
    /// Not in smtpd_client_event_limit_exceptions.
    let isLimited: Bool
    private var isConnected = false

    init(
        anvil: Anvil, service: String, client: ClientIdentity, limits: ClientEventLimits, hostname: String,
        exempt: Bool
    ) {
        self.anvil = anvil
        self.service = service
        self.client = client
        self.limits = limits
        self.hostname = hostname
        isLimited = !exempt
    }

    /// Registers the connection (not for an exempt client); a refusal ends the session with 421.
    mutating func connect() -> Refusal? {
        guard isLimited else { return nil }
        isConnected = true
        let (count, rate) = anvil.connect(service: service, client: client.address)
        let tooMany = SMTPReply(
            code: 421, enhancedStatus: "4.7.0", "\(hostname) Error: too many connections from \(client.address)")
        if limits.connectionCount > 0 && count > limits.connectionCount {
            return Refusal(reply: tooMany, warning: warning("Connection concurrency limit exceeded", count))
        }
        if limits.connectionRate > 0 && rate > limits.connectionRate {
            return Refusal(reply: tooMany, warning: warning("Connection rate limit exceeded", rate))
        }
        return nil
    }

    /// The session ended: anvil hears of it once for each registered connection.
    mutating func disconnect() {
        guard isConnected else { return }
        isConnected = false
        anvil.disconnect(service: service, client: client.address)
    }

    /// The commands to count, none for an exempt client.
    var limitedEvents: Set<SMTPClientEvent> { isLimited ? limits.limitedEvents : [] }

    /// Counts a MAIL, RCPT or AUTH (STARTTLS only reads the new TLS session rate) against its limit.
    func check(_ event: SMTPClientEvent) -> Refusal? {
        let address = client.address
        let (counted, limit, reply, exceeded): (Anvil.Event, Int, String, String)
        switch event {
        case .mail:
            (counted, limit) = (.message, limits.messageRate)
            (reply, exceeded) = ("too much mail", "Message delivery request rate limit exceeded")
        case .recipient:
            (counted, limit) = (.recipient, limits.recipientRate)
            (reply, exceeded) = ("too many recipients", "Recipient address rate limit exceeded")
        case .auth:
            (counted, limit) = (.auth, limits.authRate)
            (reply, exceeded) = ("too many AUTH commands", "AUTH command rate limit exceeded")
        case .startTLS:
            guard anvil.rate(.newTLSSession, service: service, client: address) > limits.newTLSSessionRate else {
                return nil
            }
            return Refusal(
                reply: SMTPReply(
                    code: 454, enhancedStatus: "4.7.0", "Error: too many new TLS sessions from \(client.logName)"),
                warning: "Refusing STARTTLS request from \(client.logName) for service \(service)")
        }
        let rate = anvil.count(counted, service: service, client: address)
        guard rate > limit else { return nil }
        return Refusal(
            reply: SMTPReply(code: 450, enhancedStatus: "4.7.1", "Error: \(reply) from \(address)"),
            warning: warning(exceeded, rate))
    }

    /// A TLS handshake completed (STARTTLS or wrapper mode): one more new TLS session. Tern keeps no TLS
    /// session cache, so every session is new.
    func newTLSSession() -> Refusal? {
        guard isLimited, limits.newTLSSessionRate > 0 else { return nil }
        let rate = anvil.count(.newTLSSession, service: service, client: client.address)
        guard rate > limits.newTLSSessionRate else { return nil }
        return Refusal(
            reply: SMTPReply(
                code: 421, enhancedStatus: "4.7.0",
                "\(hostname) Error: too many new TLS sessions from \(client.logName)"),
            warning: warning("New TLS session rate limit exceeded", rate))
    }

    private func warning(_ what: String, _ value: Int) -> String {
        "\(what): \(value) from \(client.logName) for service \(service)"
    }
}
