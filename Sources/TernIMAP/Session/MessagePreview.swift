/// The text of FETCH PREVIEW (RFC 8970) and SNIPPET (FUZZY), made the way Dovecot 2.3.19 makes it: one text
/// part of the message (the text/plain alternative of a multipart/alternative, else the first text/* part,
/// never one inside an attached message), decoded from its transfer encoding and charset, HTML turned into
/// text, whitespace runs collapsed to one space, at most 200 characters. Lines starting with `>` are left out;
/// when nothing else is left, the quoted text is the preview, with one `>` in front.
enum MessagePreview {
    /// RFC 8970 §3.1: at most 256 characters; Dovecot makes 200.
    static let maxCharacters = 200

    /// The preview of a message with CRLF line ends (UTF-8, possibly empty).
    static func text(_ message: [UInt8]) -> [UInt8] {
        let sections = MessageSections(message)
        var builder = PreviewBuilder()
        guard let part = textPart(sections.root, in: message) else { return [] }
        let header = MessageSections.fieldValues(message, part.header, named: "Content-Type").first ?? []
        let parameters = MIMEHeaderValues.contentType(header)?.2 ?? []
        let charset = parameters.first { $0.name.lowercased() == "charset" }.map {
            String(decoding: $0.value, as: UTF8.self)
        }
        let raw = message[part.body]
        // Dovecot's decoder gives up on base64 with bytes outside the alphabet; the preview is empty then.
        if part.encoding == "base64", raw.contains(where: { !Self.isBase64Text($0) }) { return [] }
        let decoded = (try? TransferDecoding.decode(raw, encoding: part.encoding)) ?? nil
        let text = CharsetConversion.toUTF8(decoded.map { ArraySlice($0) } ?? raw, charset: charset)
        if part.contentType == ("text", "html") || part.contentType == ("application", "xhtml+xml") {
            var html = HTMLToText()
            var start = 0
            // In pieces, so that a long HTML part is converted only as far as the preview needs.
            while start < text.count, !builder.isFull {
                let end = min(start + 4096, text.count)
                builder.add(html.convert(text[start..<end]))
                start = end
            }
        } else {
            builder.add(text[...])
        }
        return builder.result
    }

    private static func isBase64Text(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
            return true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return [UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="), 0x20, 0x09, 0x0D, 0x0A].contains(byte)
        }
    }

    /// The part the preview is made of; nil when there is no text part.
    static func textPart(_ entity: MIMEEntity, in message: [UInt8]) -> MIMEEntity? {
        if !entity.parts.isEmpty {
            if entity.contentType.0 == "multipart", entity.contentType.1 == "alternative",
                let plain = entity.parts.first(where: { $0.parts.isEmpty && $0.contentType == ("text", "plain") })
            {
                return plain
            }
            for part in entity.parts {
                if let found = textPart(part, in: message) { return found }
            }
            return nil
        }
        switch entity.contentType.0 {
        case "text":
            return entity
        case "message":
            // A multipart/digest part without Content-Type is message/rfc822 by default, but Dovecot reads it
            // as text/plain, header lines and all.
            let typed = !MessageSections.fieldValues(message, entity.header, named: "Content-Type").isEmpty
            if typed { return nil }
            var plain = entity
            plain.contentType = ("text", "plain")
            return plain
        default:
            return nil
        }
    }
}

/// Collects preview characters (Dovecot's message-snippet): quoted lines apart from the rest, each with
/// whitespace runs collapsed and never leading or trailing.
struct PreviewBuilder {
    private struct Target {
        var text: [UInt8] = []
        var charactersLeft: Int
        var pendingSpace = false

        mutating func add(_ character: ArraySlice<UInt8>) {
            let first = character.first ?? 0
            if first == 0 || character.elementsEqual([0xEF, 0xBB, 0xBF]) { return }  // NUL, byte order mark
            if first == 0x20 || (0x09...0x0D).contains(first) {
                if !text.isEmpty { pendingSpace = true }
                return
            }
            guard charactersLeft > 0 else { return }
            charactersLeft -= 1
            if pendingSpace {
                // No space at the end: the character after it would not fit.
                guard charactersLeft > 0 else { return }
                text.append(0x20)
                pendingSpace = false
                charactersLeft -= 1
            }
            text += character
        }
    }

    private var main = Target(charactersLeft: MessagePreview.maxCharacters)
    /// One character less: the result gets a `>` in front.
    private var quoted = Target(charactersLeft: MessagePreview.maxCharacters - 1)
    private var atLineStart = true
    private var inQuote = false

    var isFull: Bool { main.charactersLeft == 0 }

    var result: [UInt8] {
        if !main.text.isEmpty { return main.text }
        if !quoted.text.isEmpty { return [UInt8(ascii: ">")] + quoted.text }
        return []
    }

    /// Adds UTF-8 text.
    mutating func add(_ text: ArraySlice<UInt8>) {
        var index = text.startIndex
        while index < text.endIndex, !isFull {
            let count = min(Self.sequenceLength(text[index]), text.endIndex - index)
            let character = text[index..<(index + count)]
            index += count
            if atLineStart {
                atLineStart = false
                inQuote = character.first == UInt8(ascii: ">")
                if inQuote { continue }
            }
            if character.first == 0x0A { atLineStart = true }
            if inQuote { quoted.add(character) } else { main.add(character) }
        }
    }

    private static func sequenceLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: return 4
        case 0xE0...: return 3
        case 0xC0...: return 2
        default: return 1
        }
    }
}
