/// Parsers for the header values ENVELOPE and BODYSTRUCTURE need: `type/subtype; name=value` (RFC 2045 §5.1),
/// dispositions (RFC 2183), and address lists (RFC 5322 §3.4) with groups.
enum MIMEHeaderValues {
    /// The type, subtype and parameters of a Content-Type (or the disposition and parameters of a
    /// Content-Disposition, `hasSubtype` false). nil when the value has no usable type.
    static func contentType(_ value: [UInt8], hasSubtype: Bool = true) -> (
        String, String, [BodyParameter]
    )? {
        var scanner = Scanner(value)
        scanner.skipSpaceAndComments()
        let type = scanner.token()
        guard !type.isEmpty else { return nil }
        var subtype = ""
        if hasSubtype {
            scanner.skipSpaceAndComments()
            guard scanner.skip(UInt8(ascii: "/")) else { return nil }
            scanner.skipSpaceAndComments()
            subtype = scanner.token()
            guard !subtype.isEmpty else { return nil }
        }
        var parameters: [BodyParameter] = []
        while true {
            scanner.skipSpaceAndComments()
            guard scanner.skip(UInt8(ascii: ";")) else { break }
            scanner.skipSpaceAndComments()
            let name = scanner.token()
            scanner.skipSpaceAndComments()
            guard !name.isEmpty, scanner.skip(UInt8(ascii: "=")) else { continue }
            scanner.skipSpaceAndComments()
            let value =
                scanner.peek == UInt8(ascii: "\"") ? scanner.quoted() : Array(scanner.token().utf8)
            parameters.append(BodyParameter(name, value))
        }
        return (type, subtype, parameters)
    }

    /// The addresses of From/To/Cc/... with groups as start and end markers.
    static func addresses(_ value: [UInt8]) -> [EnvelopeAddress] {
        var scanner = Scanner(value)
        var out: [EnvelopeAddress] = []
        var inGroup = false
        while !scanner.atEnd {
            // One mailbox, or a group's display name ending in ':'.
            var phrase: [UInt8] = []
            var addrSpec: [UInt8]?
            var item: [UInt8] = []
            loop: while let b = scanner.peek {
                switch b {
                case UInt8(ascii: "\""):
                    let q = scanner.quoted()
                    phrase += q
                    item += q
                case UInt8(ascii: "("):
                    scanner.skipSpaceAndComments()
                    phrase.append(UInt8(ascii: " "))
                case UInt8(ascii: "<"):
                    scanner.index += 1
                    var spec: [UInt8] = []
                    while let c = scanner.peek, c != UInt8(ascii: ">") {
                        spec.append(c)
                        scanner.index += 1
                    }
                    _ = scanner.skip(UInt8(ascii: ">"))
                    // A route (@a,@b:) before the address is dropped.
                    if let colon = spec.lastIndex(of: UInt8(ascii: ":")), spec.first == UInt8(ascii: "@") {
                        spec = Array(spec[(colon + 1)...])
                    }
                    addrSpec = spec.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
                case UInt8(ascii: ":") where !inGroup && addrSpec == nil:
                    scanner.index += 1
                    out.append(EnvelopeAddress(name: nil, mailbox: trimmed(phrase), host: nil))
                    inGroup = true
                    phrase = []
                    item = []
                case UInt8(ascii: ","):
                    scanner.index += 1
                    break loop
                case UInt8(ascii: ";") where inGroup:
                    scanner.index += 1
                    if let entry = mailbox(phrase: phrase, item: item, spec: addrSpec) { out.append(entry) }
                    out.append(EnvelopeAddress(name: nil, mailbox: nil, host: nil))
                    inGroup = false
                    phrase = []
                    item = []
                    addrSpec = nil
                default:
                    scanner.index += 1
                    phrase.append(b)
                    item.append(b)
                }
            }
            if let entry = mailbox(phrase: phrase, item: item, spec: addrSpec) { out.append(entry) }
        }
        if inGroup { out.append(EnvelopeAddress(name: nil, mailbox: nil, host: nil)) }
        return out
    }

    /// `phrase <spec>` or a bare `local@domain`; Dovecot's MISSING_DOMAIN / MISSING_MAILBOX fill gaps.
    private static func mailbox(phrase: [UInt8], item: [UInt8], spec: [UInt8]?) -> EnvelopeAddress? {
        let name = trimmed(phrase)
        let address: [UInt8]
        if let spec {
            address = spec
        } else {
            address = item.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard !address.isEmpty else { return nil }
        }
        let displayName = spec == nil ? nil : (name.isEmpty ? nil : name)
        guard let at = address.lastIndex(of: UInt8(ascii: "@")) else {
            return EnvelopeAddress(
                name: displayName, mailbox: address.isEmpty ? Array("MISSING_MAILBOX".utf8) : address,
                host: Array("MISSING_DOMAIN".utf8))
        }
        let local = Array(address[..<at])
        let host = Array(address[(at + 1)...])
        return EnvelopeAddress(
            name: displayName, mailbox: local.isEmpty ? Array("MISSING_MAILBOX".utf8) : local,
            host: host.isEmpty ? Array("MISSING_DOMAIN".utf8) : host)
    }

    /// Leading and trailing whitespace removed, the rest as sent (ENVELOPE's subject, date, message-id).
    static func trimmedEnds(_ bytes: [UInt8]) -> [UInt8] {
        var slice = bytes[...]
        while let f = slice.first, f == 0x20 || f == 0x09 { slice = slice.dropFirst() }
        while let l = slice.last, l == 0x20 || l == 0x09 { slice = slice.dropLast() }
        return Array(slice)
    }

    static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        var slice = bytes[...]
        while let f = slice.first, f == 0x20 || f == 0x09 { slice = slice.dropFirst() }
        while let l = slice.last, l == 0x20 || l == 0x09 { slice = slice.dropLast() }
        // Runs of whitespace left by comments collapse to one space.
        var out: [UInt8] = []
        for b in slice {
            if b == 0x20 || b == 0x09, out.last == 0x20 { continue }
            out.append(b == 0x09 ? 0x20 : b)
        }
        return out
    }

    struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }

        mutating func skip(_ b: UInt8) -> Bool {
            guard peek == b else { return false }
            index += 1
            return true
        }

        /// Whitespace and (nested) comments.
        mutating func skipSpaceAndComments() {
            while let b = peek {
                if b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A {
                    index += 1
                } else if b == UInt8(ascii: "(") {
                    var depth = 0
                    while let c = peek {
                        index += 1
                        if c == UInt8(ascii: "\\") {
                            index += 1
                        } else if c == UInt8(ascii: "(") {
                            depth += 1
                        } else if c == UInt8(ascii: ")") {
                            depth -= 1
                            if depth == 0 { break }
                        }
                    }
                } else {
                    return
                }
            }
        }

        /// RFC 2045 `token`.
        mutating func token() -> String {
            let start = index
            while let b = peek, b > 0x20, b != 0x7F, !"()<>@,;:\\\"/[]?=".utf8.contains(b) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// A quoted string, unescaped, the opening quote at `index`.
        mutating func quoted() -> [UInt8] {
            index += 1
            var out: [UInt8] = []
            while let b = peek {
                index += 1
                if b == UInt8(ascii: "\"") { break }
                if b == UInt8(ascii: "\\"), let next = peek {
                    index += 1
                    out.append(next)
                } else {
                    out.append(b)
                }
            }
            return out
        }
    }
}
