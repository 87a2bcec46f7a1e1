/// The client side of one SMTP mail transaction (RFC 5321, with RFC 2920 pipelining), as Postfix's smtp(8)
/// runs it: greeting, EHLO (HELO when EHLO is refused), MAIL FROM, RCPT TO for each recipient, DATA, the
/// content, QUIT. With `lmtp` it is an LMTP transaction (RFC 2033): LHLO, and after the content one reply
/// per accepted recipient. STARTTLS (RFC 3207) and AUTH (RFC 4954) come between EHLO and MAIL when
/// `security` asks for them. No I/O: replies go in, commands and a per-recipient outcome come out.
public struct SMTPClientStateMachine: Sendable {
    /// smtp_tls_security_level and the SASL account for this next hop.
    public struct Security: Sendable, Equatable {
        public enum TLS: Sendable, Equatable {
            /// `none`: never STARTTLS.
            case off
            /// `may`: STARTTLS when offered, plaintext otherwise.
            case opportunistic
            /// `encrypt`, `verify`, `secure`: no mail without TLS.
            case required
        }
        public var tls: TLS
        /// smtp_sasl_auth_enable with an entry in smtp_sasl_password_maps.
        public var credentials: SASLClientCredentials?

        public init(tls: TLS = .off, credentials: SASLClientCredentials? = nil) {
            self.tls = tls
            self.credentials = credentials
        }
    }

    /// Why the client itself gave up on the server before the transaction.
    public enum Refusal: Sendable, Equatable {
        case tlsNotOffered
        case tlsRefused(SMTPReply)
        case noSASLMechanism
        case authenticationFailed(SMTPReply)
    }

    public struct Envelope: Sendable {
        public var sender: String
        public var recipients: [String]
        /// Content size for `SIZE=` (RFC 1870) when the server offers SIZE.
        public var size: Int?
        /// `BODY=8BITMIME` when the server offers 8BITMIME.
        public var eightBitMIME: Bool
        /// `RET=`/`ENVID=` (sent when the server offers DSN), e.g. " RET=HDRS ENVID=x".
        public var dsnMailParameters: String
        /// `NOTIFY=`/`ORCPT=` per recipient (sent when the server offers DSN).
        public var dsnRecipientParameters: [String]

        public init(
            sender: String, recipients: [String], size: Int? = nil, eightBitMIME: Bool = false,
            dsnMailParameters: String = "", dsnRecipientParameters: [String] = []
        ) {
            self.sender = sender
            self.recipients = recipients
            self.size = size
            self.eightBitMIME = eightBitMIME
            self.dsnMailParameters = dsnMailParameters
            self.dsnRecipientParameters = dsnRecipientParameters
        }
    }

    public enum Action: Sendable, Equatable {
        /// Write these command lines (CRLF included); several when pipelining.
        case send(String)
        /// Write the message content, dot-stuffed with CRLF line ends, then `.`.
        case sendContent
        /// The server said 220 to STARTTLS: do the TLS handshake, then call `tlsEstablished()`.
        case startTLS
        /// The conversation is over: close the connection.
        case close
        /// With `keepSession`: the transaction is over and the session usable; it may carry another
        /// (`resume(extensions:tlsActive:)` on a new machine) or end (`endSession()`).
        case idle
    }

    /// What happened to one recipient.
    public enum Outcome: Sendable, Equatable {
        /// The server took the message for this recipient (the end-of-data reply).
        case delivered(SMTPReply)
        /// A 4xx or 5xx reply, and the command it answered (`RCPT TO`, `end of DATA`, ...; nil for the
        /// greeting).
        case failed(SMTPReply, inReplyTo: String?)
        /// The client's TLS or SASL requirements could not be met with this server.
        case refused(Refusal)
    }

    /// Where the conversation is, for `lost connection with host while ...` texts.
    public enum Stage: String, Sendable {
        case greeting = "receiving the initial server greeting"
        case helo = "performing the EHLO handshake"
        case tls = "sending STARTTLS"
        case auth = "performing the AUTH handshake"
        case mail = "sending MAIL FROM"
        case recipients = "sending RCPT TO"
        case data = "sending DATA command"
        case content = "sending message body"
        case endOfData = "sending end of data -- message may be sent more than once"
        case rset = "sending RSET"
        case quit = "sending QUIT"
        case done = "finished"
    }

    private enum Expected: Sendable, Equatable {
        case greeting, ehlo, helo, starttls, tlsHandshake, auth(mechanism: String, step: Int)
        case mail, rcpt(Int), data, endOfData, recipientData(Int), rset, quit
    }

    public let heloName: String
    public let lmtp: Bool
    public let envelope: Envelope
    public let security: Security
    /// Postfix's connection cache: a transaction that ends with the session still usable is not followed by
    /// QUIT; the machine reports `.idle`.
    public var keepSession = false
    public private(set) var outcomes: [Outcome?]
    /// Set once the TLS handshake after STARTTLS succeeded.
    public private(set) var tlsActive = false
    /// The mechanism the server accepted (for `sasl_method=` style logging).
    public private(set) var authenticatedWith: String?
    private var tlsDeclined = false
    /// Extensions from the EHLO reply (upper-cased keywords, with parameters), e.g. ["PIPELINING": "", "SIZE": "10240000"].
    public private(set) var extensions: [String: String] = [:]
    private var expected: [Expected] = [.greeting]
    private var accepted: [Int] = []
    private var transactionFailed = false

    public init(heloName: String, envelope: Envelope, lmtp: Bool = false, security: Security = Security()) {
        self.heloName = heloName
        self.lmtp = lmtp
        self.envelope = envelope
        self.security = security
        outcomes = Array(repeating: nil, count: envelope.recipients.count)
    }

    public var stage: Stage {
        switch expected.first {
        case .greeting: return .greeting
        case .ehlo, .helo: return .helo
        case .starttls, .tlsHandshake: return .tls
        case .auth: return .auth
        case .mail: return .mail
        case .rcpt: return .recipients
        case .data: return .data
        case .endOfData, .recipientData: return .endOfData
        case .rset: return .rset
        case .quit: return .quit
        case nil: return .done
        }
    }

    /// The content is being written (between 354 and the end-of-data reply).
    public var isSendingContent: Bool {
        switch expected.first {
        case .endOfData, .recipientData: return true
        default: return false
        }
    }

    public mutating func received(_ reply: SMTPReply) -> [Action] {
        guard !expected.isEmpty else { return [] }
        let answered = expected.removeFirst()
        switch answered {
        case .greeting:
            guard reply.code / 100 == 2 else { return fail(reply, inReplyTo: nil) }
            expected = [.ehlo]
            return [.send("\(lmtp ? "LHLO" : "EHLO") \(heloName)\r\n")]
        case .ehlo:
            if reply.code / 100 == 5 && !lmtp {
                expected = [.helo]
                return [.send("HELO \(heloName)\r\n")]
            }
            guard reply.code / 100 == 2 else { return fail(reply, inReplyTo: lmtp ? "LHLO" : "EHLO") }
            extensions = Self.extensions(in: reply)
            return afterHello()
        case .helo:
            guard reply.code / 100 == 2 else { return fail(reply, inReplyTo: "HELO") }
            return afterHello()
        case .starttls:
            if reply.code == 220 {
                expected = [.tlsHandshake]
                return [.startTLS]
            }
            if security.tls == .required { return refuse(.tlsRefused(reply)) }
            tlsDeclined = true
            return afterHello()
        case .tlsHandshake:
            return []  // nothing may arrive before the handshake; tlsEstablished() continues
        case .auth(let mechanism, let step):
            if reply.code == 235 {
                authenticatedWith = mechanism
                return startTransaction()
            }
            guard reply.code == 334, let credentials = security.credentials else {
                return refuse(.authenticationFailed(reply))
            }
            expected = [.auth(mechanism: mechanism, step: step + 1)]
            guard let answer = credentials.response(mechanism: mechanism, challenge: reply.lines[0], step: step) else {
                return [.send("*\r\n")]  // cancel (RFC 4954 §4); the server answers 501
            }
            return [.send("\(answer)\r\n")]
        case .mail:
            if reply.code / 100 != 2 {
                transactionFailed = true
                for index in outcomes.indices { outcomes[index] = .failed(reply, inReplyTo: "MAIL FROM") }
            }
            return nextCommand(after: reply)
        case .rcpt(let index):
            if !transactionFailed {
                if reply.code / 100 == 2 {
                    accepted.append(index)
                } else {
                    outcomes[index] = .failed(reply, inReplyTo: "RCPT TO")
                }
            }
            return nextCommand(after: reply)
        case .data:
            guard !transactionFailed, !accepted.isEmpty else {
                if reply.code == 354 {  // a server that ignored the failures: end the empty message
                    expected = [.endOfData]
                    return [.send(".\r\n")]
                }
                return endTransaction(after: reply)
            }
            guard reply.code == 354 else {
                for index in accepted { outcomes[index] = .failed(reply, inReplyTo: "DATA") }
                return endTransaction(after: reply)
            }
            expected = lmtp ? accepted.map { .recipientData($0) } : [.endOfData]
            return [.sendContent]
        case .recipientData(let index):
            if !transactionFailed {
                outcomes[index] = reply.code / 100 == 2 ? .delivered(reply) : .failed(reply, inReplyTo: "end of DATA")
            }
            return expected.isEmpty ? endTransaction(after: reply) : []
        case .endOfData:
            if !transactionFailed {
                for index in accepted {
                    outcomes[index] = reply.code / 100 == 2 ? .delivered(reply) : .failed(reply, inReplyTo: "end of DATA")
                }
            }
            return endTransaction(after: reply)
        case .rset:
            guard reply.code / 100 == 2 else { return fail(reply, inReplyTo: "RSET") }
            return startTransaction()
        case .quit:
            return [.close]
        }
    }

    /// The TLS handshake after STARTTLS succeeded: the session starts over with EHLO (RFC 3207 §4.2).
    public mutating func tlsEstablished() -> [Action] {
        guard expected == [.tlsHandshake] else { return [] }
        tlsActive = true
        extensions = [:]
        expected = [.ehlo]
        return [.send("\(lmtp ? "LHLO" : "EHLO") \(heloName)\r\n")]
    }

    /// After EHLO/HELO: STARTTLS when wanted and not done yet, then AUTH when the server offers it and
    /// there is an account for it, then the mail transaction.
    private mutating func afterHello() -> [Action] {
        if !tlsActive && !tlsDeclined && security.tls != .off {
            if extensions["STARTTLS"] != nil {
                expected = [.starttls]
                return [.send("STARTTLS\r\n")]
            }
            if security.tls == .required { return refuse(.tlsNotOffered) }
        }
        if let credentials = security.credentials, let offered = extensions["AUTH"] {
            guard let mechanism = credentials.choose(offered: offered, tls: tlsActive) else { return refuse(.noSASLMechanism) }
            expected = [.auth(mechanism: mechanism, step: 0)]
            return [.send(credentials.command(for: mechanism))]
        }
        return startTransaction()
    }

    /// MAIL, RCPT... and DATA: in one write when the server offers PIPELINING, otherwise one at a time.
    private mutating func startTransaction() -> [Action] {
        expected = [.mail] + envelope.recipients.indices.map { .rcpt($0) } + [.data]
        if extensions["PIPELINING"] != nil {
            return [.send(expected.map(command).joined())]
        }
        return [.send(command(.mail))]
    }

    /// After a reply in a transaction: without pipelining, the next command goes out now.
    private mutating func nextCommand(after reply: SMTPReply) -> [Action] {
        guard extensions["PIPELINING"] == nil, let next = expected.first else { return [] }
        if case .rcpt = next, transactionFailed {
            expected = []
            return endTransaction(after: reply)
        }
        if next == .data && (transactionFailed || accepted.isEmpty) {
            expected = []
            return endTransaction(after: reply)
        }
        return [.send(command(next))]
    }

    private func command(_ step: Expected) -> String {
        let dsn = extensions["DSN"] != nil
        switch step {
        case .mail:
            var line = "MAIL FROM:<\(envelope.sender)>"
            if extensions["SIZE"] != nil, let size = envelope.size { line += " SIZE=\(size)" }
            if envelope.eightBitMIME && extensions["8BITMIME"] != nil { line += " BODY=8BITMIME" }
            if dsn { line += envelope.dsnMailParameters }
            return line + "\r\n"
        case .rcpt(let index):
            let parameters = dsn && index < envelope.dsnRecipientParameters.count
                ? envelope.dsnRecipientParameters[index] : ""
            return "RCPT TO:<\(envelope.recipients[index])>\(parameters)\r\n"
        case .data:
            return "DATA\r\n"
        default:
            return ""
        }
    }

    private mutating func quit() -> [Action] {
        expected = [.quit]
        return [.send("QUIT\r\n")]
    }

    /// Ends a session kept open after `.idle` (or instead of keeping it).
    public mutating func endSession() -> [Action] {
        quit()
    }

    /// A reused session (after `.idle` on an earlier machine), with what it negotiated before: RSET first,
    /// as smtp(8) checks that a cached session is still alive, then the transaction.
    public mutating func resume(extensions: [String: String], tlsActive: Bool) -> [Action] {
        guard expected == [.greeting] else { return [] }
        self.extensions = extensions
        self.tlsActive = tlsActive
        expected = [.rset]
        return [.send("RSET\r\n")]
    }

    /// The transaction is over: QUIT, or with `keepSession` nothing (not after 421, which ends the session).
    private mutating func endTransaction(after reply: SMTPReply) -> [Action] {
        guard keepSession && reply.code != 421 else { return quit() }
        expected = []
        return [.idle]
    }

    /// The client's own requirements failed: every recipient gets the reason, and the session ends.
    private mutating func refuse(_ refusal: Refusal) -> [Action] {
        for index in outcomes.indices where outcomes[index] == nil { outcomes[index] = .refused(refusal) }
        return quit()
    }

    /// A failure before the transaction: every recipient gets it, and the session ends.
    private mutating func fail(_ reply: SMTPReply, inReplyTo command: String?) -> [Action] {
        for index in outcomes.indices where outcomes[index] == nil {
            outcomes[index] = .failed(reply, inReplyTo: command)
        }
        return quit()
    }

    /// `250-PIPELINING`, `250-SIZE 10240000`, ... (the first line is the server's name).
    static func extensions(in reply: SMTPReply) -> [String: String] {
        var result: [String: String] = [:]
        for line in reply.lines.dropFirst() {
            let keyword = line.prefix { $0 != " " && $0 != "=" }.uppercased()
            guard !keyword.isEmpty else { continue }
            result[keyword] = String(line.dropFirst(keyword.count).drop { $0 == " " || $0 == "=" })
        }
        return result
    }
}
