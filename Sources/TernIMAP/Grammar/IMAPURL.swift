/// A relative IMAP URL naming a message or a part of one (RFC 5092 §6, `imessagepart`; PARTIAL from RFC 5550),
/// as CATENATE (RFC 4469 §5) takes it: `/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]`, or
/// `;UID=n...` relative to the selected mailbox. Like Dovecot, only URLs of the logged-in user's own
/// mailboxes are taken: a scheme or an authority (`imap://`, `//host`) is refused.
public struct IMAPURL: Sendable, Hashable {
    /// The mailbox, percent-decoded (UTF-8); nil for a mailbox-relative URL.
    public var mailbox: String?
    public var uidValidity: UInt32?
    public var uid: UInt32
    public var section: BodySection?
    public var partial: Partial?

    public init(
        mailbox: String?, uidValidity: UInt32? = nil, uid: UInt32, section: BodySection? = nil,
        partial: Partial? = nil
    ) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
        self.section = section
        self.partial = partial
    }

    /// Why a URL was refused: the text after `NO [BADURL url]`, as Dovecot words it.
    public struct Failure: Error, Sendable, Hashable {
        public var text: String

        public init(_ text: String) { self.text = text }
        static func invalid(_ detail: String) -> Failure { Failure("Invalid IMAP URL: " + detail) }
        static let noMailbox = Failure("Mailbox-relative IMAP URL, but no mailbox selected")
    }

    public init(relative text: String) throws(Failure) {
        var rest = Substring(text)
        if rest.hasPrefix("//") || Self.hasScheme(rest) { throw Failure.invalid("Relative URL required") }
        if Self.find(";URLAUTH=", in: rest) != nil {
            throw Failure.invalid("`;URLAUTH=' is not allowed in this context")
        }
        var mailbox: String?
        var uidValidity: UInt32?
        if rest.hasPrefix("/") {
            rest.removeFirst()
            let end = Self.find("/;", in: rest)?.lowerBound ?? rest.endIndex
            var path = rest[..<end]
            rest = rest[end...]
            if let validity = Self.find(";UIDVALIDITY=", in: path) {
                uidValidity = try Self.number(path[validity.upperBound...])
                path = path[..<validity.lowerBound]
            }
            guard let name = Self.percentDecoded(path), !name.isEmpty else {
                throw Failure.invalid("Invalid mailbox name")
            }
            mailbox = name
            guard rest.hasPrefix("/") else { throw Failure.invalid("Message UID required") }
            rest.removeFirst()
        } else if rest.isEmpty || !rest.hasPrefix(";") {
            // Dovecot reads `x` as a path relative to the selected mailbox and finds no message in it.
            throw rest.isEmpty ? Failure.noMailbox : Failure.invalid("Message UID required")
        }
        // `;UID=n` then `/;SECTION=...` and `/;PARTIAL=...` in that order.
        var components: [Substring] = []
        while let separator = Self.find("/;", in: rest) {
            components.append(rest[..<separator.lowerBound])
            rest = rest[separator.upperBound...]
        }
        components.append(rest)
        guard let first = components.first, first.uppercased().hasPrefix(";UID=") else {
            throw Failure.invalid("Message UID required")
        }
        components[0] = first.dropFirst()
        var uid: UInt32 = 0
        var section: BodySection?
        var partial: Partial?
        for (position, component) in components.enumerated() {
            let upper = component.uppercased()
            if let extensionStart = component.firstIndex(of: ";") {
                throw Failure.invalid("Unrecognized IMAP URL extension: " + component[extensionStart...])
            }
            if position == 0 {
                uid = try Self.number(component.dropFirst(4))
                guard uid > 0 else { throw Failure.invalid("UID cannot be zero") }
            } else if upper.hasPrefix("SECTION="), section == nil, partial == nil {
                guard let spec = Self.percentDecoded(component.dropFirst(8)), let parsed = Self.section(spec) else {
                    throw Failure.invalid("Invalid section")
                }
                section = parsed
            } else if upper.hasPrefix("PARTIAL="), partial == nil {
                let value = component.dropFirst(8)
                let pieces = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
                let offset = UInt64(try Self.number(pieces[0]))
                var length: UInt64?
                if pieces.count == 2 {
                    length = UInt64(try Self.number(pieces[1]))
                    guard length != 0 else { throw Failure.invalid("PARTIAL size cannot be zero") }
                }
                partial = Partial(offset: offset, length: length)
            } else {
                throw Failure.invalid("Unrecognized IMAP URL extension: /;" + component)
            }
        }
        self.init(mailbox: mailbox, uidValidity: uidValidity, uid: uid, section: section, partial: partial)
    }

    /// Where `needle` (upper case) first occurs in `text`, ignoring case.
    private static func find(_ needle: String, in text: Substring) -> Range<Substring.Index>? {
        let wanted = Array(needle)
        var start = text.startIndex
        while start < text.endIndex {
            var index = start
            var matched = 0
            while matched < wanted.count, index < text.endIndex,
                text[index].uppercased() == String(wanted[matched])
            {
                index = text.index(after: index)
                matched += 1
            }
            if matched == wanted.count { return start..<index }
            start = text.index(after: start)
        }
        return nil
    }

    /// `scheme ":"` before any `/`, `;` or `?` (RFC 3986 §3.1).
    private static func hasScheme(_ text: Substring) -> Bool {
        guard let colon = text.firstIndex(of: ":"), let first = text.first, first.isLetter else { return false }
        return !text[..<colon].contains { $0 == "/" || $0 == ";" || $0 == "?" }
    }

    /// An IMAP `nz-number` or `number` (RFC 3501 §9): digits, at most 2^32-1.
    private static func number(_ text: Substring) throws(Failure) -> UInt32 {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt32(text) else {
            throw Failure.invalid("Value '\(text)' is not a valid IMAP number")
        }
        return value
    }

    /// `%XX` escapes (RFC 3986 §2.1) undone; nil when an escape is broken or the result is not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The section as FETCH's BODY[...] reads it.
    private static func section(_ spec: String) -> BodySection? {
        let text = Array(("[" + spec + "]").utf8)
        var reader = IMAPArgumentReader(RawCommand(text: text), limits: IMAPParserLimits())
        guard let section = try? IMAPCommandGrammar.bodySection(&reader), reader.atEnd else { return nil }
        return section
    }
}
