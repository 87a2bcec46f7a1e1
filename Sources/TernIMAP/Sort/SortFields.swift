/// What SORT and THREAD need of one message's header, extracted once (and cached, see SortFieldCache): the
/// i;unicode-casemap keys of RFC 5256 §3 and RFC 5957, the sent date and the threading IDs.
final class SortFields: Sendable, Equatable {
    /// SUBJECT: the base subject; empty without a Subject field.
    let subject: BaseSubject
    /// Whether there is a Subject field (THREAD=REFERENCES groups only messages that have one).
    let hasSubject: Bool
    /// FROM, TO, CC: the local part of the first address (RFC 5256: `addr-mailbox`).
    let from: [UInt8]
    let to: [UInt8]
    let cc: [UInt8]
    /// DISPLAYFROM, DISPLAYTO: the first address's decoded display name, else its `mailbox@host`.
    let displayFrom: [UInt8]
    let displayTo: [UInt8]
    /// The Date field in UTC seconds; 0 when it is missing or unreadable (SORT then uses the arrival time).
    let sentDate: Int
    /// The first valid ID of Message-ID, without the angle brackets.
    let messageID: String?
    /// References' IDs, or else In-Reply-To's first one (RFC 5256 §2.2 step 1).
    let references: [String]

    // A class, not a struct: SORT and THREAD pass tens of thousands of these around, and a copy of a
    // struct with nine arrays and strings costs nine reference-count updates.
    init(
        subject: BaseSubject, hasSubject: Bool, from: [UInt8], to: [UInt8], cc: [UInt8], displayFrom: [UInt8],
        displayTo: [UInt8], sentDate: Int, messageID: String?, references: [String]
    ) {
        self.subject = subject
        self.hasSubject = hasSubject
        self.from = from
        self.to = to
        self.cc = cc
        self.displayFrom = displayFrom
        self.displayTo = displayTo
        self.sentDate = sentDate
        self.messageID = messageID
        self.references = references
    }

    static func == (a: SortFields, b: SortFields) -> Bool {
        (a.subject, a.hasSubject, a.sentDate, a.messageID) == (b.subject, b.hasSubject, b.sentDate, b.messageID)
            && (a.from, a.to, a.cc, a.displayFrom, a.displayTo) == (b.from, b.to, b.cc, b.displayFrom, b.displayTo)
            && a.references == b.references
    }
}

extension SortFields {
    convenience init(header bytes: [UInt8]) {
        let sections = MessageSections(bytes)
        func first(_ name: String) -> [UInt8]? {
            MessageSections.fieldValues(sections.bytes, sections.root.header, named: name).first
        }
        let subjectValue = first("Subject")
        let fromAddress = Self.firstAddress(first("From"))
        let toAddress = Self.firstAddress(first("To"))
        let referenced = first("References").map { MessageID.all(in: $0) } ?? []
        let inReplyTo = first("In-Reply-To").map { MessageID.all(in: $0) } ?? []
        self.init(
            subject: BaseSubject(subject: subjectValue ?? []), hasSubject: subjectValue != nil,
            from: UnicodeCasemap.key(fromAddress?.mailbox ?? []), to: UnicodeCasemap.key(toAddress?.mailbox ?? []),
            cc: UnicodeCasemap.key(Self.firstAddress(first("Cc"))?.mailbox ?? []),
            displayFrom: UnicodeCasemap.key(Self.displayName(fromAddress)),
            displayTo: UnicodeCasemap.key(Self.displayName(toAddress)),
            sentDate: first("Date").flatMap { MessageDate.timestamp($0) } ?? 0,
            messageID: first("Message-ID").flatMap { MessageID.all(in: $0).first },
            references: referenced.isEmpty ? Array(inReplyTo.prefix(1)) : referenced)
    }

    /// The first address of an address field, encoded words decoded before parsing (as Dovecot does).
    private static func firstAddress(_ value: [UInt8]?) -> EnvelopeAddress? {
        guard let value else { return nil }
        return MIMEHeaderValues.addresses(EncodedWords.decode(value)).first
    }

    private static func displayName(_ address: EnvelopeAddress?) -> [UInt8] {
        guard let address else { return [] }
        if let name = address.name, !name.isEmpty { return name }
        guard let mailbox = address.mailbox else { return [] }
        guard let host = address.host else { return mailbox }
        return mailbox + [UInt8(ascii: "@")] + host
    }
}

/// Message IDs in Message-ID, References and In-Reply-To (RFC 5322 §3.6.4): the text between `<` and `>`
/// when it holds an `@`; anything else between IDs (comments, phrases, broken IDs) is skipped.
enum MessageID {
    static func all(in value: [UInt8]) -> [String] {
        var ids: [String] = []
        var index = 0
        while let open = value[index...].firstIndex(of: UInt8(ascii: "<")) {
            var position = open + 1
            var hasAt = false
            var valid = true
            while position < value.count, value[position] != UInt8(ascii: ">") {
                switch value[position] {
                case UInt8(ascii: "@"): hasAt = true
                case UInt8(ascii: "<"), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: "["): valid = false
                default: break
                }
                if !valid { break }
                position += 1
            }
            guard valid, position < value.count else {
                index = open + 1
                continue
            }
            if hasAt { ids.append(String(decoding: value[(open + 1)..<position], as: UTF8.self)) }
            index = position + 1
        }
        return ids
    }
}
