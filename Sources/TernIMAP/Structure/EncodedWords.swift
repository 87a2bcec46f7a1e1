/// RFC 2047 encoded words (`=?charset?Q?text?=`, `=?charset?B?text?=`) in a header value, decoded to UTF-8 as
/// Dovecot's `message_header_decode_utf8` does for SORT, THREAD and SEARCH: words are found anywhere (also
/// inside quotes), whitespace between two adjacent encoded words is dropped, folding becomes a space, and text
/// that is not encoded is kept as it is. Charsets: UTF-8, US-ASCII, ISO-8859-1, ISO-8859-15 and Windows-1252
/// (the ones nearly all mail uses); the bytes of a word in any other charset are kept undecoded.
enum EncodedWords {
    /// Whether `value` has `=?` somewhere, without which there is nothing to decode.
    static func mayHold(_ value: [UInt8]) -> Bool {
        var previous: UInt8 = 0
        for byte in value {
            if previous == UInt8(ascii: "="), byte == UInt8(ascii: "?") { return true }
            previous = byte
        }
        return false
    }

    static func decode(_ value: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(value)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        /// Where the text after the last decoded word starts in `out`: dropped again when only whitespace
        /// separates that word from the next one.
        var afterWord: Int?
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "?"),
                let found = word(bytes, at: index)
            {
                if let afterWord, out[afterWord...].allSatisfy(isWhitespace) { out.removeSubrange(afterWord...) }
                out += found.text
                afterWord = out.count
                index = found.end
                continue
            }
            let byte = bytes[index]
            if byte == 0x0D || byte == 0x0A {
                index += 1
                continue
            }
            out.append(byte == 0x09 ? 0x20 : byte)
            if !isWhitespace(byte) && afterWord != nil { afterWord = nil }
            index += 1
        }
        return out
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// The decoded text of the encoded word starting at `start` and the index after it, or nil when there
    /// is no well-formed word there.
    private static func word(_ bytes: [UInt8], at start: Int) -> (text: [UInt8], end: Int)? {
        var index = start + 2
        func field() -> ArraySlice<UInt8>? {
            let begin = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
                if bytes[index] <= 0x20 { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[begin..<index]
        }
        guard let charsetField = field(), !charsetField.isEmpty, let encoding = field(), encoding.count == 1,
            let letter = encoding.first.map(IMAPArgumentReader.upper)
        else { return nil }
        let textStart = index
        while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "?") && bytes[index + 1] == UInt8(ascii: "=")) {
            if bytes[index] <= 0x20 { return nil }
            index += 1
        }
        guard index + 1 < bytes.count else { return nil }
        let text = bytes[textStart..<index]
        let raw: [UInt8]
        switch letter {
        case UInt8(ascii: "Q"): raw = quotedPrintable(text)
        case UInt8(ascii: "B"):
            guard let decoded = base64(text) else { return nil }
            raw = decoded
        default: return nil
        }
        // RFC 2231 §5: a language may follow the charset (`UTF-8*en`).
        let charset = String(decoding: charsetField.prefix { $0 != UInt8(ascii: "*") }, as: UTF8.self).uppercased()
        return (toUTF8(raw, charset: charset), index + 2)
    }

    private static func quotedPrintable(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "_") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "="), index + 2 < text.endIndex,
                let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
                continue
            } else {
                out.append(byte)
            }
            index += 1
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    private static func base64(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    private static func toUTF8(_ raw: [UInt8], charset: String) -> [UInt8] {
        switch charset {
        case "ISO-8859-1", "ISO8859-1", "LATIN1", "L1":
            return Array(String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) })).utf8)
        case "ISO-8859-15", "ISO8859-15", "LATIN-9":
            return Array(String(String.UnicodeScalarView(raw.map(latin9))).utf8)
        case "WINDOWS-1252", "CP1252":
            return Array(String(String.UnicodeScalarView(raw.map(windows1252))).utf8)
        default:
            // UTF-8, US-ASCII, and charsets Tern does not convert: the bytes as they are.
            return raw
        }
    }

    private static func latin9(_ byte: UInt8) -> Unicode.Scalar {
        let changed: [UInt8: UInt32] = [
            0xA4: 0x20AC, 0xA6: 0x0160, 0xA8: 0x0161, 0xB4: 0x017D, 0xB8: 0x017E, 0xBC: 0x0152, 0xBD: 0x0153,
            0xBE: 0x0178,
        ]
        return changed[byte].flatMap { Unicode.Scalar($0) } ?? Unicode.Scalar(byte)
    }

    /// Windows-1252 differs from ISO-8859-1 in 0x80-0x9F (the undefined five stay C1 controls).
    private static func windows1252(_ byte: UInt8) -> Unicode.Scalar {
        guard byte >= 0x80 && byte <= 0x9F else { return Unicode.Scalar(byte) }
        let table: [UInt32] = [
            0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,
            0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
            0x0153, 0x9D, 0x017E, 0x0178,
        ]
        return Unicode.Scalar(table[Int(byte - 0x80)]) ?? Unicode.Scalar(byte)
    }
}
