public import TernCore

/// The server side of an SMTP session as Postfix 3.7 smtpd(8) runs it (RFC 5321, 1869, 1870, 2920,
/// 3461, 6152, 6531), without I/O: the driver feeds framed command lines and lookup answers, and
/// carries out the returned actions in order. Pipelined commands (RFC 2920) are handled by feeding
/// lines one at a time, each after the previous one's lookups were answered (`isAwaitingInput`).
public struct SMTPServerStateMachine: Sendable {
    enum State: Sendable {
        case notGreeted
        /// Waiting for a command; the MAIL transaction, if one is open.
        case ready(MailTransaction?)
        case checkingSender(SenderCheck)
        /// smtpd_helo_restrictions run at HELO/EHLO (smtpd_delay_reject = no); the transaction is kept.
        case checkingHelo(verb: SMTPVerb, name: String, MailTransaction?)
        /// smtpd_data_restrictions run before 354.
        case checkingData(MailTransaction)
        case checkingRecipient(MailTransaction, RecipientCommand)
        case verifying(MailTransaction?, VerifyRequest)
        case runningETRN
        case receivingData(MailTransaction)
        case queueing(MailTransaction)
        case startingTLS
        /// The auth server has the exchange (`method` as the client named it).
        case authenticating(method: String)
        /// The driver counts a MAIL, RCPT, AUTH or STARTTLS against the client's rate limit (anvil); the
        /// command's words wait for the answer.
        case checkingEventRate(SMTPClientEvent, [SMTPToken], MailTransaction?)
        /// `334` was sent: the next line is the client's SASL response.
        case awaitingSASLResponse(method: String)
        case closed
    }

    public let configuration: SMTPServerConfiguration
    var state: State = .notGreeted
    /// The HELO/EHLO argument (printable, Postfix-neutered), nil before HELO/EHLO.
    public internal(set) var heloName: String?
    /// `SMTP` after HELO, `ESMTP` after EHLO (Received: header "with" value).
    public internal(set) var protocolName = "SMTP"
    public internal(set) var errorCount = 0
    public internal(set) var counters = SMTPCommandCounters()
    public internal(set) var isTLSActive = false
    public internal(set) var authenticatedUser: String?
    /// The mechanism of the successful AUTH as the client named it (`sasl_method=` in the log).
    public internal(set) var saslMethod: String?
    /// The mechanisms AUTH offers in this session before TLS (announced by the auth server, filtered by
    /// smtpd_sasl_security_options); set by the driver before `connected()`. Empty: no AUTH.
    public var saslMechanisms: [String] = []
    /// The same, filtered by smtpd_sasl_tls_security_options, offered once TLS is active.
    public var saslMechanismsWithTLS: [String] = []
    /// The client is in smtpd_sasl_exceptions_networks: EHLO does not announce AUTH (the command still works).
    public var authHiddenFromEHLO = false
    /// The last user name an auth server reported, for the failure log line (Postfix keeps it too).
    var lastSASLUsername: String?
    var junkCommands = 0
    var recipientOvershoot = 0
    /// Set when the client was refused at connect (`refuseCommands(with:)`).
    var accessDenial: SMTPReply?
    /// The commands the driver counts against smtpd_client_*_rate_limit for this client (none for a client
    /// in smtpd_client_event_limit_exceptions); set by the driver before the first command.
    public var limitedEvents: Set<SMTPClientEvent> = []

    public init(configuration: SMTPServerConfiguration) {
        self.configuration = configuration
    }

    // MARK: - Inputs

    /// The connection was accepted: `220 <banner>`.
    public mutating func connected() -> [SMTPServerAction] {
        guard case .notGreeted = state else { return [] }
        state = .ready(nil)
        return [.send(SMTPReply(code: 220, configuration.banner))]
    }

    /// smtpd_delay_reject = no and the client restrictions refused the client at connect (Postfix's
    /// access_denied): that refusal was the session's first error, and every later command but QUIT gets
    /// `reply` (`503 5.7.0 Error: access denied for host[addr]`) as a failed command and one more error, up
    /// to smtpd_hard_error_limit (`too many errors after CONNECT`).
    public mutating func refuseCommands(with reply: SMTPReply) {
        accessDenial = reply
        errorCount += 1
    }

    /// True when the next command line may be fed (no lookup, DATA or TLS outstanding, not closed).
    public var isAwaitingInput: Bool {
        switch state {
        case .ready, .awaitingSASLResponse: return true
        default: return false
        }
    }

    /// The longest input line the next read may bring: smtpd_sasl_response_limit for a SASL response,
    /// line_length_limit for a command.
    public var inputLineLimit: Int {
        if case .awaitingSASLResponse = state { return configuration.saslResponseLimit }
        return configuration.lineLengthLimit
    }

    /// The next line is a SASL response, not a command (smtpd's `where` stays AUTH).
    public var isAwaitingSASLResponse: Bool {
        if case .awaitingSASLResponse = state { return true }
        return false
    }

    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The open MAIL transaction, if any.
    public var transaction: MailTransaction? {
        switch state {
        case .ready(let t), .verifying(let t, _): return t
        case .checkingRecipient(let t, _), .receivingData(let t), .queueing(let t), .checkingData(let t): return t
        case .checkingHelo(_, _, let t), .checkingEventRate(_, _, let t): return t
        default: return nil
        }
    }

    /// One framed command line.
    public mutating func receive(_ line: FramedLine) -> [SMTPServerAction] {
        if case .awaitingSASLResponse(let method) = state { return saslResponse(line, method: method) }
        guard case .ready(let transaction) = state else {
            assert(isClosed, "command line fed while the state machine waits for an answer")
            return []
        }
        var actions: [SMTPServerAction] = []
        if case .truncated(let bytes) = line {
            let start = String(decoding: bytes.prefix(30), as: UTF8.self)
            actions.append(.log(.requestTooLong(limit: configuration.lineLengthLimit, start: start)))
        }
        let tokens = SMTPCommandTokenizer.tokenize(line.bytes)
        guard let word = tokens.first?.text else {
            return actions + finish(nil, succeeded: false, reply: .badSyntax, counted: false)
        }
        guard let verb = SMTPVerb(word: word) else {
            if isForbidden(word) {
                let text = String(decoding: line.bytes, as: UTF8.self)
                actions.append(.log(.nonSMTPCommand(text)))
                return actions + finish(nil, succeeded: false, reply: .breakRules, closing: true)
            }
            return actions + finish(nil, succeeded: false, reply: .commandNotRecognized)
        }
        if let denial = accessDenial, verb != .quit {
            return actions + finish(verb, succeeded: false, reply: denial, after: "CONNECT")
        }
        if requiresTLSFirst(verb) {
            return actions + finish(verb, succeeded: false, reply: .mustIssueStartTLS, counted: false)
        }
        return actions + dispatch(verb, tokens, transaction)
    }

    /// Convenience: frame and feed a command given as text (tests, tools).
    public mutating func receive(command: String) -> [SMTPServerAction] {
        receive(.line(Array(command.utf8)))
    }

    public mutating func senderChecked(_ result: SMTPCheckResult) -> [SMTPServerAction] {
        guard case .checkingSender(let check) = state else { return unexpected() }
        switch result {
        case .accepted:
            state = .ready(MailTransaction(sender: check.sender, parameters: check.parameters))
            return finish(.mail, succeeded: true, reply: .senderOk)
        case .rejected(let reply):
            state = .ready(nil)
            return finish(.mail, succeeded: false, reply: reply)
        }
    }

    public mutating func recipientChecked(_ result: SMTPCheckResult) -> [SMTPServerAction] {
        guard case .checkingRecipient(var transaction, let recipient) = state else { return unexpected() }
        switch result {
        case .accepted:
            transaction.recipients.append(
                EnvelopeRecipient(address: recipient.address, parameters: recipient.parameters))
            state = .ready(transaction)
            return finish(.rcpt, succeeded: true, reply: .recipientOk)
        case .rejected(let reply):
            state = .ready(transaction)
            return finish(.rcpt, succeeded: false, reply: reply)
        }
    }

    public mutating func verifyChecked(_ result: SMTPCheckResult) -> [SMTPServerAction] {
        guard case .verifying(let transaction, let request) = state else { return unexpected() }
        state = .ready(transaction)
        switch result {
        case .accepted:
            return finish(.vrfy, succeeded: true, reply: SMTPReply(code: 252, enhancedStatus: "2.0.0", request.text))
        case .rejected(let reply):
            return finish(.vrfy, succeeded: false, reply: reply)
        }
    }

    /// The ETRN outcome (`250 Queuing started`, `459 <domain>: service unavailable`, `458 Unable to queue messages`).
    public mutating func etrnFinished(_ reply: SMTPReply) -> [SMTPServerAction] {
        guard case .runningETRN = state else { return unexpected() }
        state = .ready(nil)
        return finish(.etrn, succeeded: reply.code == 250, reply: reply)
    }

    /// A `DataReceiver` set up with this session's limits.
    public func makeDataReceiver() -> DataReceiver {
        DataReceiver(lineLengthLimit: configuration.lineLengthLimit, messageSizeLimit: configuration.messageSizeLimit)
    }

    /// The DataReceiver saw the final `.`.
    public mutating func dataEnded(sizeExceeded: Bool) -> [SMTPServerAction] {
        guard case .receivingData(let transaction) = state else { return unexpected() }
        if sizeExceeded {
            resetTransaction()
            return [.abortMessage] + finish(.data, succeeded: false, reply: .messageFileTooBig)
        }
        state = .queueing(transaction)
        return [.queueMessage(transaction)]
    }

    /// The queue file was committed: `250 2.0.0 Ok: queued as ID`; the error counters are forgiven.
    public mutating func messageQueued(_ id: QueueID) -> [SMTPServerAction] {
        guard case .queueing = state else { return unexpected() }
        errorCount = 0
        junkCommands = 0
        resetTransaction()
        return finish(.data, succeeded: true, reply: .queued(as: id.value))
    }

    /// Cleanup refused the message (content checks, write error): send its reply.
    public mutating func messageRejected(_ reply: SMTPReply) -> [SMTPServerAction] {
        guard case .queueing = state else { return unexpected() }
        resetTransaction()
        return finish(.data, succeeded: false, reply: reply)
    }

    /// The text after `disconnect from host[addr] `: `ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5/6`.
    public var disconnectLogText: String { counters.logText }

    func unexpected() -> [SMTPServerAction] {
        assertionFailure("answer does not match the state machine's state")
        return []
    }

    func isForbidden(_ word: String) -> Bool {
        guard let first = word.utf8.first,
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
        else { return true }
        if configuration.forbiddenCommands.contains(word.uppercased()) { return true }
        // is_header(): a header name (printable, no space) followed by ':'.
        if let colon = word.utf8.firstIndex(of: UInt8(ascii: ":")), colon != word.utf8.startIndex {
            return word.utf8[..<colon].allSatisfy { $0 > 0x20 && $0 < 0x7F }
        }
        return false
    }
}
