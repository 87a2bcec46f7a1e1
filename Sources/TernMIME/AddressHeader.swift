/// Address headers (RFC 5322 §3.6.2, §3.6.3) as Postfix's header_opts classifies them, and where the
/// addresses are in their values: inside `<...>` of a name-addr, else the one word of an addr-spec; group
/// names (`name:` ... `;`) and comments are skipped (RFC 5322 §3.4). Only the address text is replaced, so
/// the rest of a header keeps its form.
public enum AddressHeader {
    /// Headers whose addresses are senders (cleanup's header_sender class).
    public static let senderHeaders: Set<String> = [
        "from", "sender", "reply-to", "errors-to", "return-path", "return-receipt-to", "disposition-notification-to",
        "mail-followup-to", "resent-from", "resent-sender", "resent-reply-to",
    ]
    /// Headers whose addresses are recipients (header_recipient class).
    public static let recipientHeaders: Set<String> = [
        "to", "cc", "bcc", "apparently-to", "resent-to", "resent-cc", "resent-bcc",
    ]

    /// The lower-cased name of a logical header when it is an address header.
    public static func addressHeaderName(_ header: some Collection<UInt8>) -> String? {
        guard let name = HeaderField.name(of: header)?.lowercased(),
            senderHeaders.contains(name) || recipientHeaders.contains(name)
        else { return nil }
        return name
    }

    /// The addresses of one logical header (any header: its value is what follows the colon).
    public static func addresses(in header: [UInt8]) -> [String] {
        let text = String(decoding: header, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return [] }
        let value = Array(text[text.index(after: colon)...])
        return spans(in: value).map { String(value[$0]) }
    }

    /// Replaces the addresses of one logical header (folded lines joined by LF) with `transform`'s result,
    /// keeping everything around them; nil when nothing changed or the header is not UTF-8.
    public static func mapAddresses(
        _ header: [UInt8], _ transform: (String) throws -> String
    ) rethrows -> [UInt8]? {
        guard let text = String(validating: header, as: UTF8.self), let colon = text.firstIndex(of: ":") else {
            return nil
        }
        var value = Array(text[text.index(after: colon)...])
        var changed = false
        // Back to front, so the offsets of the spans still to do stay valid.
        for span in spans(in: value).reversed() {
            let address = String(value[span])
            let replacement = try transform(address)
            if replacement != address {
                value.replaceSubrange(span, with: Array(replacement))
                changed = true
            }
        }
        return changed ? Array((text[...colon] + String(value)).utf8) : nil
    }

    /// trivial-rewrite's append_at_myorigin for the bare names in an address header.
    public static func qualify(_ header: [UInt8], domain: String) -> [UInt8] {
        guard addressHeaderName(header) != nil else { return header }
        return mapAddresses(header) { $0.contains("@") ? $0 : "\($0)@\(domain)" } ?? header
    }

    /// Character offsets of the addresses in `value`.
    public static func spans(in value: [Character]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        var commentDepth = 0
        var quoted = false
        // A domain literal (`[IPv6:...]`) may hold a colon that does not start a group.
        var literal = false
        var angleStart: Int?
        var angle: Range<Int>?
        var words: [Range<Int>] = []
        var wordStart: Int?

        func endWord(at index: Int) {
            if let start = wordStart { words.append(start..<index) }
            wordStart = nil
        }
        func endItem(at index: Int, isGroupName: Bool = false) {
            endWord(at: index)
            if !isGroupName {
                if let angle {
                    spans.append(trimmedRoute(angle, in: value))
                } else if words.count == 1 {
                    spans.append(words[0])
                }
            }
            angle = nil
            words = []
        }

        var index = 0
        while index < value.count {
            let character = value[index]
            defer { index += 1 }
            if quoted {
                if character == "\\" { index += 1 } else if character == "\"" { quoted = false }
                continue
            }
            if literal {
                literal = character != "]"
                continue
            }
            if commentDepth > 0 {
                if character == "\\" {
                    index += 1
                } else if character == "(" {
                    commentDepth += 1
                } else if character == ")" {
                    commentDepth -= 1
                }
                continue
            }
            switch character {
            case "\"":
                quoted = true
                if wordStart == nil && angleStart == nil { wordStart = index }
            case "[":
                literal = true
                if wordStart == nil && angleStart == nil { wordStart = index }
            case "(":
                endWord(at: index)
                commentDepth = 1
            case "<" where angleStart == nil:
                endWord(at: index)
                angleStart = index + 1
            case ">" where angleStart != nil:
                angle = angleStart!..<index
                angleStart = nil
            case "," where angleStart == nil, ";" where angleStart == nil:
                endItem(at: index)
            case ":" where angleStart == nil:
                endItem(at: index, isGroupName: true)
            case _ where character.isWhitespace:
                if angleStart == nil { endWord(at: index) }
            default:
                if wordStart == nil && angleStart == nil { wordStart = index }
            }
        }
        endItem(at: value.count)
        return spans.filter { !$0.isEmpty }
    }

    /// The address inside angle brackets without surrounding blanks or an obsolete source route (`@a,@b:`).
    private static func trimmedRoute(_ range: Range<Int>, in value: [Character]) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, value[lower].isWhitespace { lower += 1 }
        while upper > lower, value[upper - 1].isWhitespace { upper -= 1 }
        if lower < upper, value[lower] == "@", let colon = value[lower..<upper].firstIndex(of: ":") {
            lower = colon + 1
        }
        return lower..<upper
    }
}

