public import TernCore

/// Where one recipient stands. Stored as one byte in the queue file and updated in place
/// (docs/queue-format.md), so a restart neither loses nor repeats a delivery.
public enum RecipientStatus: UInt8, Sendable, Equatable, CaseIterable {
    /// Not yet delivered (possibly deferred earlier).
    case pending = 0x50  // "P"
    /// Delivered; never attempted again.
    case delivered = 0x44  // "D"
    /// Failed permanently; the bounce notice is the bounce daemon's job, never a retry.
    case bounced = 0x42  // "B"

    public var isDone: Bool { self != .pending }
}

/// One envelope recipient.
public struct QueueRecipient: Sendable, Equatable {
    public var address: MailAddress
    /// The address as the client gave it, before rewriting and alias expansion (Postfix's
    /// original_recipient, logged as `orig_to=`).
    public var originalRecipient: MailAddress?
    /// RFC 3461 NOTIFY; empty when the client gave none.
    public var notify: DSNNotify
    /// RFC 3461 ORCPT as `type;address`, e.g. `rfc822;user@example.com`.
    public var orcpt: String?
    public var status: RecipientStatus

    public init(
        _ address: MailAddress, originalRecipient: MailAddress? = nil, notify: DSNNotify = [], orcpt: String? = nil,
        status: RecipientStatus = .pending
    ) {
        self.address = address
        self.originalRecipient = originalRecipient
        self.notify = notify
        self.orcpt = orcpt
        self.status = status
    }
}

/// The SMTP client a message came from (smtpd's XFORWARD-style attributes).
public struct ClientInfo: Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int?
    public var heloName: String?
    /// ESMTP, SMTP, ESMTPSA, ...
    public var protocolName: String

    public init(name: String, address: String, port: Int? = nil, heloName: String? = nil, protocolName: String) {
        self.name = name
        self.address = address
        self.port = port
        self.heloName = heloName
        self.protocolName = protocolName
    }
}

/// Everything about a message except its content: what Postfix keeps in the envelope segment.
public struct QueueEnvelope: Sendable, Equatable {
    /// Arrival time, microseconds since the epoch (Postfix's `message_arrival_time`).
    public var arrivalMicroseconds: Int64
    public var sender: MailAddress
    /// The submitting user's full name for a generated From: header (sendmail -F, passwd gecos).
    public var senderFullName: String?
    public var recipients: [QueueRecipient]
    public var client: ClientInfo?
    public var saslMethod: String?
    public var saslUsername: String?
    /// RFC 3461 ENVID.
    public var envid: String?
    public var ret: DSNReturn?
    public var body: BodyType?
    /// RFC 6531 SMTPUTF8 was requested.
    public var smtputf8: Bool
    /// Attributes Tern does not model (name, value), kept in order and shown by postcat.
    public var attributes: [(String, String)]
    /// When the sender was sent the delay warning (seconds since the epoch), 0 while none was sent. The
    /// queue manager updates it in place (`QueueFile.markDelayWarningSent`), so it is sent once only.
    public var delayWarningSent: Int

    public init(
        arrivalMicroseconds: Int64, sender: MailAddress, senderFullName: String? = nil, recipients: [QueueRecipient],
        client: ClientInfo? = nil, saslMethod: String? = nil, saslUsername: String? = nil, envid: String? = nil,
        ret: DSNReturn? = nil, body: BodyType? = nil, smtputf8: Bool = false, attributes: [(String, String)] = [],
        delayWarningSent: Int = 0
    ) {
        self.delayWarningSent = delayWarningSent
        self.arrivalMicroseconds = arrivalMicroseconds
        self.sender = sender
        self.senderFullName = senderFullName
        self.recipients = recipients
        self.client = client
        self.saslMethod = saslMethod
        self.saslUsername = saslUsername
        self.envid = envid
        self.ret = ret
        self.body = body
        self.smtputf8 = smtputf8
        self.attributes = attributes
    }

    public var arrivalSeconds: Int { Int(arrivalMicroseconds / 1_000_000) }

    public static func == (lhs: QueueEnvelope, rhs: QueueEnvelope) -> Bool {
        lhs.arrivalMicroseconds == rhs.arrivalMicroseconds && lhs.sender == rhs.sender
            && lhs.senderFullName == rhs.senderFullName && lhs.recipients == rhs.recipients
            && lhs.client == rhs.client && lhs.saslMethod == rhs.saslMethod && lhs.saslUsername == rhs.saslUsername
            && lhs.envid == rhs.envid && lhs.delayWarningSent == rhs.delayWarningSent && lhs.ret == rhs.ret && lhs.body == rhs.body && lhs.smtputf8 == rhs.smtputf8
            && lhs.attributes.elementsEqual(rhs.attributes, by: { $0 == $1 })
    }
}

/// Values known only once the content has been seen (written after it, before the completion mark).
public struct ContentSummary: Sendable, Equatable {
    /// The Message-ID header value as logged (`message-id=<...>`), if the message has one.
    public var messageID: String?
    /// REDIRECT (header_checks, access maps): every recipient is delivered to this address instead.
    public var redirect: String?
    /// FILTER (header_checks, access maps): `transport:destination` for every recipient, like content_filter.
    public var filter: String?
    /// A local submission that cleanup refused (REJECT): every recipient bounces with this reason
    /// (`5.7.1 text`), as Postfix's cleanup bounces mail it cannot refuse to a client.
    public var bounce: String?

    public init(messageID: String? = nil, redirect: String? = nil, filter: String? = nil, bounce: String? = nil) {
        self.messageID = messageID
        self.redirect = redirect
        self.filter = filter
        self.bounce = bounce
    }
}
