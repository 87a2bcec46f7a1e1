import TernCore

/// Command handlers, one per smtpd.c *_cmd() function, with its checks in Postfix's order.
extension SMTPServerStateMachine {
    mutating func dispatch(_ verb: SMTPVerb, _ tokens: [SMTPToken], _ transaction: MailTransaction?)
        -> [SMTPServerAction]
    {
        switch verb {
        case .helo, .ehlo: return hello(verb, tokens, transaction)
        case .mail: return mail(tokens, transaction)
        case .rcpt: return rcpt(tokens, transaction)
        case .data: return data(tokens, transaction)
        case .rset:
            guard tokens.count == 1 else { return finish(.rset, succeeded: false, reply: .rsetSyntax) }
            resetTransaction()
            return finish(.rset, succeeded: true, reply: .ok)
        case .noop:
            return finish(.noop, succeeded: true, reply: .ok)
        case .vrfy: return vrfy(tokens)
        case .etrn: return etrn(tokens, transaction)
        case .quit:
            return finish(.quit, succeeded: true, reply: .bye, closing: true)
        case .starttls: return startTLS(tokens)
        case .auth: return auth(tokens, transaction)
        case .bdat:
            // CHUNKING is not offered: Postfix answers 521 and hangs up.
            return finish(.bdat, succeeded: false, reply: .bdatNotImplemented, closing: true)
        case .xclient, .xforward:
            if transaction != nil { return finish(verb, succeeded: false, reply: .mailTransactionInProgress) }
            if tokens.count < 2 {
                return finish(verb, succeeded: false, reply: .attributeSyntax(verb.rawValue.uppercased()))
            }
            return finish(verb, succeeded: false, reply: .insufficientAuthorization)
        }
    }

    private mutating func hello(_ verb: SMTPVerb, _ tokens: [SMTPToken], _ transaction: MailTransaction?)
        -> [SMTPServerAction]
    {
        guard tokens.count >= 2 else {
            return finish(verb, succeeded: false, reply: verb == .helo ? .heloSyntax : .ehloSyntax)
        }
        let name = Self.neuterHeloName(tokens[1...].map(\.text).joined(separator: " "))
        if configuration.checksHelo {
            state = .checkingHelo(verb: verb, name: name, transaction)
            return [.checkHelo(name)]
        }
        return helloAccepted(verb, name)
    }

    /// HELO/EHLO passed its restrictions: the name is kept and the 250 reply sent.
    mutating func helloAccepted(_ verb: SMTPVerb, _ name: String) -> [SMTPServerAction] {
        heloName = name
        resetTransaction()
        if verb == .helo {
            protocolName = "SMTP"
            return finish(.helo, succeeded: true, reply: SMTPReply(code: 250, configuration.hostname))
        }
        protocolName = "ESMTP"
        let lines = configuration.ehloLines(authMechanisms: offeredMechanisms, startTLS: offersStartTLS)
        let reply = SMTPReply(code: 250, lines: [configuration.hostname] + lines)
        return finish(.ehlo, succeeded: true, reply: reply)
    }

    /// The AUTH mechanisms EHLO announces (none when AUTH is unavailable or hidden from this client).
    private var offeredMechanisms: [String] { isAuthAvailable && !authHiddenFromEHLO ? activeMechanisms : [] }

    /// Postfix stores the HELO name with non-printables and `<>()\";@` and space replaced by `?`.
    static func neuterHeloName(_ name: String) -> String {
        String(
            String.UnicodeScalarView(
                name.unicodeScalars.map { s in
                    s.value < 0x20 || s.value == 0x7F || " <>()\\\";@".unicodeScalars.contains(s) ? "?" : s
                }))
    }

    private mutating func mail(_ tokens: [SMTPToken], _ transaction: MailTransaction?) -> [SMTPServerAction] {
        if configuration.heloRequired && heloName == nil {
            return finish(.mail, succeeded: false, reply: .sendHeloFirst)
        }
        if transaction != nil { return finish(.mail, succeeded: false, reply: .nestedMail) }
        guard tokens.count >= 3, tokens[1].text.lowercased() == "from:" else {
            return finish(.mail, succeeded: false, reply: .mailSyntax)
        }
        // mail_cmd(): smtpd_client_message_rate_limit before the address is looked at.
        if limitedEvents.contains(.mail) { return checkEventRate(.mail, tokens, transaction) }
        return mailArguments(tokens)
    }

    private mutating func mailArguments(_ tokens: [SMTPToken]) -> [SMTPServerAction] {
        switch EnvelopeCommandParser.parseMail(tokens, options: configuration.envelopeOptions) {
        case .failure(let reply):
            return finish(.mail, succeeded: false, reply: reply)
        case .success(let parsed):
            let check = SenderCheck(sender: parsed.sender, parameters: parsed.parameters, heloName: heloName)
            state = .checkingSender(check)
            return [.checkSender(check)]
        }
    }

    private mutating func rcpt(_ tokens: [SMTPToken], _ transaction: MailTransaction?) -> [SMTPServerAction] {
        guard let transaction else { return finish(.rcpt, succeeded: false, reply: .needMail) }
        guard tokens.count >= 3, tokens[1].text.lowercased() == "to:" else {
            return finish(.rcpt, succeeded: false, reply: .rcptSyntax)
        }
        // rcpt_cmd(): smtpd_client_recipient_rate_limit before the address is looked at.
        if limitedEvents.contains(.recipient) { return checkEventRate(.recipient, tokens, transaction) }
        return rcptArguments(tokens, transaction)
    }

    private mutating func rcptArguments(_ tokens: [SMTPToken], _ transaction: MailTransaction) -> [SMTPServerAction] {
        let parsed = EnvelopeCommandParser.parseRcpt(
            tokens, smtpUTF8: transaction.parameters.smtpUTF8, options: configuration.envelopeOptions)
        switch parsed {
        case .failure(let reply):
            return finish(.rcpt, succeeded: false, reply: reply)
        case .success(let recipient):
            if configuration.recipientLimit > 0 && transaction.recipients.count >= configuration.recipientLimit {
                // Within the overshoot allowance this counts as success and is not an error (rcpt_cmd()).
                let tolerated = recipientOvershoot < configuration.recipientOvershootLimit
                recipientOvershoot += 1
                return finish(.rcpt, succeeded: tolerated, reply: .tooManyRecipients)
            }
            state = .checkingRecipient(transaction, recipient)
            return [.checkRecipient(RecipientCheck(recipient: recipient, transaction: transaction, heloName: heloName))]
        }
    }

    private mutating func data(_ tokens: [SMTPToken], _ transaction: MailTransaction?) -> [SMTPServerAction] {
        guard let transaction, !transaction.recipients.isEmpty else {
            // With pipelining all recipients may have been rejected: 554, not a sequence error.
            return finish(.data, succeeded: false, reply: transaction == nil ? .needRcpt : .noValidRecipients)
        }
        guard tokens.count == 1 else { return finish(.data, succeeded: false, reply: .dataSyntax) }
        if configuration.checksData {
            state = .checkingData(transaction)
            return [.checkData(transaction)]
        }
        return dataAccepted(transaction)
    }

    /// DATA passed smtpd_data_restrictions: 354, then the content.
    mutating func dataAccepted(_ transaction: MailTransaction) -> [SMTPServerAction] {
        state = .receivingData(transaction)
        // The DATA counter is settled at end of data (a too-big message counts as a failed DATA).
        return replyActions(.startData) + [.receiveData(transaction)]
    }

    private mutating func vrfy(_ tokens: [SMTPToken]) -> [SMTPServerAction] {
        if configuration.disableVRFY { return finish(.vrfy, succeeded: false, reply: .vrfyDisabled) }
        guard tokens.count >= 2 else { return finish(.vrfy, succeeded: false, reply: .vrfySyntax) }
        var arguments = tokens[1...].map(\.text)
        var utf8 = false
        if arguments.count > 1, arguments.last!.uppercased() == "SMTPUTF8" {
            arguments.removeLast()
            utf8 = true
        }
        let text = arguments.joined(separator: " ")
        guard case .success(let address) = EnvelopeAddressParser.extract(text, allowEmpty: false, allowUTF8: utf8)
        else { return finish(.vrfy, succeeded: false, reply: .badRecipientSyntax) }
        let request = VerifyRequest(address: MailAddress(address), text: text)
        state = .verifying(transaction, request)
        return [.verifyAddress(request)]
    }

    private mutating func etrn(_ tokens: [SMTPToken], _ transaction: MailTransaction?) -> [SMTPServerAction] {
        if configuration.heloRequired && heloName == nil {
            return finish(.etrn, succeeded: false, reply: .etrnSendHeloFirst)
        }
        if transaction != nil { return finish(.etrn, succeeded: false, reply: .etrnInTransaction) }
        guard tokens.count == 2 else { return finish(.etrn, succeeded: false, reply: .etrnSyntax) }
        var domain = Substring(tokens[1].text)
        if domain.first == "@" || domain.first == "#" { domain = domain.dropFirst() }
        guard HostnameSyntax.isValidHostname(String(domain)) || HostnameSyntax.isValidAddressLiteral(String(domain))
        else { return finish(.etrn, succeeded: false, reply: .etrnBadParameter) }
        state = .runningETRN
        return [.runETRN(domain: String(domain))]
    }

    // MARK: - Client rate limits

    private mutating func checkEventRate(
        _ event: SMTPClientEvent, _ tokens: [SMTPToken], _ transaction: MailTransaction?
    ) -> [SMTPServerAction] {
        state = .checkingEventRate(event, tokens, transaction)
        return [.checkEventRate(event)]
    }

    /// The driver's answer to `checkEventRate`: the limit's refusal (`450 4.7.1 Error: too much mail from
    /// ADDR`, ...), or go on with the command.
    public mutating func eventRateChecked(_ result: SMTPCheckResult) -> [SMTPServerAction] {
        guard case .checkingEventRate(let event, let tokens, let transaction) = state else { return unexpected() }
        state = .ready(transaction)
        if case .rejected(let reply) = result { return finish(event.verb, succeeded: false, reply: reply) }
        switch event {
        case .mail: return mailArguments(tokens)
        case .recipient:
            guard let transaction else { return unexpected() }
            return rcptArguments(tokens, transaction)
        case .auth: return authAllowed(tokens, transaction)
        case .startTLS: return startTLSAllowed()
        }
    }

    // MARK: - Bookkeeping

    mutating func resetTransaction() {
        state = .ready(nil)
        recipientOvershoot = 0
    }

    /// A reply, delayed once the client has made smtpd_soft_error_limit errors (smtpd_chat_reply()).
    func replyActions(_ reply: SMTPReply) -> [SMTPServerAction] {
        if errorCount >= configuration.softErrorLimit && configuration.errorSleepSeconds > 0 {
            return [.pause(seconds: configuration.errorSleepSeconds), .send(reply)]
        }
        return [.send(reply)]
    }

    /// Sends the command's reply and does smtpd_proto()'s accounting: command counters, the error
    /// count (failed commands, junk commands over smtpd_junk_command_limit) and, at
    /// smtpd_hard_error_limit, `421 4.7.0 host Error: too many errors` and hang-up.
    mutating func finish(
        _ verb: SMTPVerb?, succeeded: Bool, reply: SMTPReply, closing: Bool = false, counted: Bool = true,
        after command: String? = nil
    ) -> [SMTPServerAction] {
        var actions = replyActions(reply)
        if counted { counters.record(verb, succeeded: succeeded) }
        if !succeeded { errorCount += 1 }
        if let verb, verb.isJunkLimited {
            if junkCommands > configuration.junkCommandLimit { errorCount += 1 }
            junkCommands += 1
        }
        if closing {
            state = .closed
            return actions + [.close]
        }
        if configuration.hardErrorLimit > 0 && errorCount >= configuration.hardErrorLimit {
            actions += replyActions(.tooManyErrors(hostname: configuration.hostname))
            actions.append(.log(.tooManyErrors(after: command ?? verb.map { $0.rawValue.uppercased() } ?? "UNKNOWN")))
            actions.append(.close)
            state = .closed
        }
        return actions
    }
}
