/// An address in an ENVELOPE (RFC 3501 §7.4.2). A group is written as a start marker (mailbox = group
/// name, host NIL) and an end marker (all NIL).
public struct EnvelopeAddress: Sendable, Hashable {
    public var name: [UInt8]?
    public var adl: [UInt8]?
    public var mailbox: [UInt8]?
    public var host: [UInt8]?

    public init(name: [UInt8]?, adl: [UInt8]? = nil, mailbox: [UInt8]?, host: [UInt8]?) {
        self.name = name
        self.adl = adl
        self.mailbox = mailbox
        self.host = host
    }

    public init(name: String?, mailbox: String?, host: String?) {
        self.init(
            name: name.map { Array($0.utf8) }, mailbox: mailbox.map { Array($0.utf8) },
            host: host.map { Array($0.utf8) })
    }

    func encode(into w: inout IMAPWriter) {
        w.raw("(")
        w.nstring(name)
        w.space()
        w.nstring(adl)
        w.space()
        w.nstring(mailbox)
        w.space()
        w.nstring(host)
        w.raw(")")
    }
}

/// ENVELOPE (RFC 3501 §7.4.2). Header values are kept as bytes, undecoded (encoded words stay as sent, as
/// Dovecot does). Empty address lists are NIL.
public struct Envelope: Sendable, Hashable {
    public var date: [UInt8]?
    public var subject: [UInt8]?
    public var from: [EnvelopeAddress]
    public var sender: [EnvelopeAddress]
    public var replyTo: [EnvelopeAddress]
    public var to: [EnvelopeAddress]
    public var cc: [EnvelopeAddress]
    public var bcc: [EnvelopeAddress]
    public var inReplyTo: [UInt8]?
    public var messageID: [UInt8]?

    public init(
        date: [UInt8]? = nil, subject: [UInt8]? = nil, from: [EnvelopeAddress] = [],
        sender: [EnvelopeAddress] = [],
        replyTo: [EnvelopeAddress] = [], to: [EnvelopeAddress] = [], cc: [EnvelopeAddress] = [],
        bcc: [EnvelopeAddress] = [], inReplyTo: [UInt8]? = nil, messageID: [UInt8]? = nil
    ) {
        self.date = date
        self.subject = subject
        self.from = from
        self.sender = sender
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.inReplyTo = inReplyTo
        self.messageID = messageID
    }

    public func encode(into w: inout IMAPWriter) {
        w.raw("(")
        w.nstring(date)
        w.space()
        w.nstring(subject)
        for addresses in [from, sender, replyTo, to, cc, bcc] {
            w.space()
            if addresses.isEmpty {
                w.nilValue()
            } else {
                w.list(addresses, separator: "") { $1.encode(into: &$0) }
            }
        }
        w.space()
        w.nstring(inReplyTo)
        w.space()
        w.nstring(messageID)
        w.raw(")")
    }
}
