public import TernCore

/// The smtpd protocol stage whose restrictions run (smtpd_check.c: client, helo, mail, rcpt, data, eod).
public enum RestrictionStage: String, Sendable, CaseIterable {
    case client, helo, sender, recipient, data, endOfData

    /// The `reply_class` of the reply text: `<name>: Sender address rejected: ...`.
    public var replyClass: String {
        switch self {
        case .client: "Client host"
        case .helo: "Helo command"
        case .sender: "Sender address"
        case .recipient: "Recipient address"
        case .data: "Data command"
        case .endOfData: "End-of-data"
        }
    }

    /// The check_*_access a bare `type:table` stands for in this stage's list.
    public var defaultAccess: AccessTarget? {
        switch self {
        case .client: .client
        case .helo: .helo
        case .sender: .sender
        case .recipient: .recipient
        case .data, .endOfData: nil
        }
    }
}

/// What smtpd knows when a restriction list runs: the facts the restrictions, the access maps and the
/// policy service (its attributes) look at.
public struct RestrictionRequest: Sendable {
    /// The command the check runs for (`CONNECT`, `EHLO`, `MAIL`, `RCPT`, `DATA`, `END-OF-MESSAGE`): the
    /// `protocol_state` attribute and the `... from` part of the log line.
    public var command: String
    public var clientAddress: String
    public var clientName: String
    /// The name from the PTR record alone (`unknown` when there is none).
    public var reverseClientName: String
    public var clientPort: Int
    public var serverAddress: String = ""
    public var serverPort: Int = 0
    public var heloName: String?
    public var sender: MailAddress?
    public var recipient: MailAddress?
    /// Recipients accepted so far (DATA and END-OF-MESSAGE).
    public var recipientCount: Int = 0
    public var protocolName: String
    public var queueID: String?
    public var saslMethod: String?
    public var saslUsername: String?
    public var saslSender: String?
    public var tlsProtocol: String?
    public var tlsCipher: String?
    public var tlsKeySize: Int = 0
    /// The SIZE= parameter, or the message size at END-OF-MESSAGE.
    public var size: Int = 0
    public var etrnDomain: String?
    /// The client sent a command before it saw the reply to one that forbids pipelining.
    public var improperPipelining: Bool = false
    /// One value for all policy requests of one message (the policy protocol's `instance`).
    public var instance: String = ""
    public var smtputf8: Bool = false

    public init(
        command: String, clientAddress: String, clientName: String, reverseClientName: String, clientPort: Int,
        protocolName: String
    ) {
        self.command = command
        self.clientAddress = clientAddress
        self.clientName = clientName
        self.reverseClientName = reverseClientName
        self.clientPort = clientPort
        self.protocolName = protocolName
    }

    /// `host[addr]`, Postfix's namaddr.
    public var namaddr: String { "\(clientName)[\(clientAddress)]" }
}

/// A reply the restrictions decided on (code, enhanced status, text after them).
public struct PolicyReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var status: String
    public var text: String

    public init(code: Int, status: String, text: String) {
        self.code = code
        self.status = status
        self.text = text
    }

    public var description: String { "\(code) \(status) \(text)" }
}

/// A line for the mail log: `NOQUEUE: <event>: RCPT from host[addr]: <text>; from=<> to=<> ...`
/// (`reject`, `reject_warning`, `hold`, `discard`, `redirect`, `filter`, `warn`, `info`), or a plain
/// `warning:` (`event` nil).
public struct PolicyLogLine: Sendable, Equatable {
    public var event: String?
    public var text: String

    public init(event: String?, text: String) {
        self.event = event
        self.text = text
    }
}

/// Access map actions that change the message rather than the reply (access(5) HOLD, DISCARD, PREPEND,
/// REDIRECT, FILTER, BCC); they apply to the message the transaction queues.
public struct MessageActions: Sendable, Equatable {
    public var hold = false
    public var discard = false
    /// Header lines to put before the Received: header.
    public var prepend: [String] = []
    public var redirect: String?
    public var filter: String?
    public var bcc: [String] = []

    public init() {}
}

/// The outcome of one stage.
public struct RestrictionOutcome: Sendable {
    /// The rejection (or deferral) to send; nil to go on.
    public var reply: PolicyReply?
    public var log: [PolicyLogLine] = []
    /// The reply is one smtpd counts as a software error (configuration) rather than policy.
    public var isServerError = false

    public init(reply: PolicyReply? = nil) { self.reply = reply }
}
