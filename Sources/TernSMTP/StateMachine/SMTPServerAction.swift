public import TernCore

/// The answer to a lookup the state machine asked for.
public enum SMTPCheckResult: Sendable, Hashable {
    case accepted
    case rejected(SMTPReply)
}

/// A MAIL FROM that passed syntax checks, waiting for the sender decision.
public struct SenderCheck: Sendable, Hashable {
    public var sender: MailAddress
    public var parameters: MailParameters
    public var heloName: String?
}

/// A RCPT TO that passed syntax and limit checks, waiting for relay control / recipient validation.
public struct RecipientCheck: Sendable, Hashable {
    public var recipient: RecipientCommand
    /// The transaction so far (sender, its parameters, recipients accepted before this one).
    public var transaction: MailTransaction
    public var heloName: String?
}

/// A VRFY argument: the internal address and the text as the client gave it (echoed in `252 2.0.0 text`).
public struct VerifyRequest: Sendable, Hashable {
    public var address: MailAddress
    public var text: String
}

/// Log lines smtpd writes about the client; `logText(client:)` renders Postfix's wording, with
/// `client` being `host[addr]`.
public enum SMTPServerWarning: Sendable, Hashable {
    /// A command line over line_length_limit (truncated and executed anyway).
    case requestTooLong(limit: Int, start: String)
    /// A forbidden or header-like command; the session ends.
    case nonSMTPCommand(String)
    /// AUTH failed; `username` is the last one the auth server named (fail2ban's postfix-sasl filter).
    case saslAuthenticationFailed(method: String, reason: String, username: String?)
    /// The client answered a challenge with `*`.
    case saslAuthenticationAborted(method: String)
    /// smtpd_hard_error_limit was reached with this command (`UNKNOWN` for an unrecognized one).
    case tooManyErrors(after: String)

    public func logText(client: String) -> String {
        switch self {
        case .requestTooLong(let limit, let start):
            return "warning: \(client): request longer than \(limit): \(start)..."
        case .nonSMTPCommand(let line):
            return "warning: non-SMTP command from \(client): \(line)"
        case .saslAuthenticationFailed(let method, let reason, let username):
            return "warning: \(client): SASL \(method.prefix(100)) authentication failed: \(reason), "
                + "sasl_username=\(username.map { String($0.prefix(100)) } ?? "(unavailable)")"
        case .saslAuthenticationAborted(let method):
            return "warning: \(client): SASL \(method) authentication aborted"
        case .tooManyErrors(let command):
            return "too many errors after \(command) from \(client)"
        }
    }
}

/// What the driver must do, in order.
public enum SMTPServerAction: Sendable, Hashable {
    /// Write the reply.
    case send(SMTPReply)
    /// Tarpit: wait before writing the next reply (smtpd_error_sleep_time after smtpd_soft_error_limit).
    case pause(seconds: Int)
    /// Flush what was sent, then close the connection.
    case close
    case log(SMTPServerWarning)
    /// Decide on the sender (sender restrictions when not delayed, queue space, opening the queue file);
    /// answer with `senderChecked(_:)`.
    case checkSender(SenderCheck)
    /// smtpd_helo_restrictions for the (neutered) HELO/EHLO name; answer with `heloChecked(_:)`.
    case checkHelo(String)
    /// smtpd_data_restrictions before 354; answer with `dataChecked(_:)`.
    case checkData(MailTransaction)
    /// Decide on the recipient (smtpd_relay_restrictions, smtpd_recipient_restrictions, unknown users);
    /// answer with `recipientChecked(_:)`.
    case checkRecipient(RecipientCheck)
    /// Look the VRFY address up; answer with `verifyChecked(_:)`.
    case verifyAddress(VerifyRequest)
    /// Run ETRN for the domain; answer with `etrnFinished(_:)`.
    case runETRN(domain: String)
    /// 354 was sent: read the message with a `DataReceiver` (`makeDataReceiver()`), starting with the
    /// framer's buffered bytes, then answer with `dataEnded(sizeExceeded:)`.
    case receiveData(MailTransaction)
    /// The content was complete and within limits: commit the queue file, then answer with
    /// `messageQueued(_:)` or `messageRejected(_:)`.
    case queueMessage(MailTransaction)
    /// Drop the queue file being written (size exceeded).
    case abortMessage
    /// `220 2.0.0 Ready to start TLS` was sent: discard buffered input (CVE-2011-0411), do the handshake,
    /// then call `tlsEstablished()`.
    case startTLS
    /// Start the exchange with the auth server: `mechanism` (as offered) and the initial response (base64,
    /// empty for `=`); answer with `saslChallenge`, `saslSucceeded` or `saslFailed`.
    case startSASL(mechanism: String, initialResponse: String?)
    /// Pass the client's response (base64) to the auth server; answer as for `startSASL`.
    case continueSASL(response: String)
    /// Count the command against the client's rate limit (STARTTLS only asks for the new TLS session
    /// rate); answer with `eventRateChecked(_:)`.
    case checkEventRate(SMTPClientEvent)
}

/// The commands smtpd counts per client with anvil (smtpd_client_message_rate_limit,
/// smtpd_client_recipient_rate_limit, smtpd_client_auth_rate_limit, smtpd_client_new_tls_session_rate_limit).
public enum SMTPClientEvent: Sendable, Hashable, CaseIterable {
    case mail, recipient, auth, startTLS

    var verb: SMTPVerb {
        switch self {
        case .mail: .mail
        case .recipient: .rcpt
        case .auth: .auth
        case .startTLS: .starttls
        }
    }
}
