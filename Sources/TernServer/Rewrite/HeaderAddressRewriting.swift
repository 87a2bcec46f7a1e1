import TernMIME

/// Where the addresses are in an address header's value (RFC 5322 §3.4): inside `<...>` of a name-addr,
/// else the one word of an addr-spec; group names (`name:` ... `;`) and comments are skipped. Only the
/// address text is replaced later, so the rest of the header keeps its form.
enum HeaderAddressList {
    /// Character offsets of the addresses in `value`.
    static func spans(in value: [Character]) -> [Range<Int>] {
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

extension AddressRewriter {
    /// Headers whose addresses are senders (header_sender class), as Postfix's header_opts lists them.
    static let senderHeaders: Set<String> = [
        "from", "sender", "reply-to", "errors-to", "return-path", "return-receipt-to", "disposition-notification-to",
        "mail-followup-to", "resent-from", "resent-sender", "resent-reply-to",
    ]
    /// Headers whose addresses are recipients (header_recipient class).
    static let recipientHeaders: Set<String> = [
        "to", "cc", "bcc", "apparently-to", "resent-to", "resent-cc", "resent-bcc",
    ]

    /// Rewrites the addresses of one logical header (folded lines joined by LF, no final line end); other
    /// headers, and headers that are not UTF-8, come back unchanged.
    func rewriteHeader(_ header: [UInt8]) async throws(RewriteError) -> [UInt8] {
        guard let name = HeaderField.name(of: header)?.lowercased() else { return header }
        let addressClass: AddressClass
        if Self.senderHeaders.contains(name) {
            addressClass = .headerSender
        } else if Self.recipientHeaders.contains(name) {
            addressClass = .headerRecipient
        } else {
            return header
        }
        guard let text = String(validating: header, as: UTF8.self), let colon = text.firstIndex(of: ":") else {
            return header
        }
        var value = Array(text[text.index(after: colon)...])
        var changed = false
        // Back to front, so the offsets of the spans still to do stay valid.
        for span in HeaderAddressList.spans(in: value).reversed() {
            let address = String(value[span])
            let rewritten = try await rewrite(address, as: addressClass)
            if rewritten != address {
                value.replaceSubrange(span, with: Array(rewritten))
                changed = true
            }
        }
        return changed ? Array((text[...colon] + String(value)).utf8) : header
    }
}

extension AddressRewriter {
    /// A held header section (Cleanup's `heldHeaders`) rewritten and joined into the bytes for the queue file.
    func rewriteHeaderSection(_ headers: [[UInt8]]) async throws(RewriteError) -> [UInt8] {
        var bytes: [UInt8] = []
        for header in headers {
            bytes += try await rewriteHeader(header)
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }
}
