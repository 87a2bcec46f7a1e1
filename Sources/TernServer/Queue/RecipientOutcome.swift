import TernCore

/// What happened to one envelope recipient in one delivery attempt, with the fields of Postfix's
/// `to=<..>, orig_to=<..>, relay=.., dsn=.., status=.. (..)` log line.
struct RecipientOutcome: Sendable {
    enum Status: String, Sendable {
        case sent, deferred, bounced
    }

    var status: Status
    var dsn: String
    var text: String
    var relay: String
    /// The address logged as `to=` (the final address, after aliasing) when it differs from the envelope.
    var loggedRecipient: String?
    var originalRecipient: String?
    /// The delivery agent that logs the outcome (`smtp`); nil: decided by the relay (local, virtual, qmgr).
    var agent: String?
    /// The removal of the queue file after this result needs no directory fsync: a repeat after a crash
    /// changes nothing (a Maildir copy has a name fixed by queue ID and recipient, and a repeat finds it),
    /// or it is a relay to a next hop, which is at-least-once anyway (docs/queue-format.md).
    var repeatable = false
    /// The next hop offered DSN and was given NOTIFY/ORCPT: success notices are its business.
    var nextHopHandlesDSN = false
    /// The delivery's turn on its connection (`conn_use=`, logged from 2: a cached connection was reused).
    var connectionUse = 1
    /// Time from the delivery request to the start of the transaction (DNS, connect, greeting, EHLO, TLS):
    /// the third `delays=` field.
    var setupSeconds: Double?

    init(
        status: Status, dsn: String, text: String, relay: String, loggedRecipient: String? = nil,
        originalRecipient: String? = nil, agent: String? = nil
    ) {
        self.status = status
        self.dsn = dsn
        self.text = text
        self.relay = relay
        self.loggedRecipient = loggedRecipient
        self.originalRecipient = originalRecipient
        self.agent = agent
    }

    static func deferred(_ dsn: String, _ text: String, relay: String = "none", agent: String? = nil) -> RecipientOutcome {
        RecipientOutcome(status: .deferred, dsn: dsn, text: text, relay: relay, agent: agent)
    }
}

/// New recipients a local delivery asks for (aliases to other domains, .forward entries): Postfix's
/// local(8) submits a new message with the same content and sender, `forwarded as ID`.
struct ForwardRequest: Sendable {
    var sender: MailAddress
    var recipients: [MailAddress]
    var originalRecipient: String
}
