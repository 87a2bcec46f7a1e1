import Foundation

/// The i;unicode-casemap comparator (RFC 5051, required by I18NLEVEL=1, RFC 5255 §4): every character is
/// replaced by its titlecase form and then decomposed (NFKD), and the resulting UTF-8 bytes are compared
/// octet by octet. SORT orders by these keys and SEARCH matches substrings of them, as Dovecot's
/// `uni_utf8_to_decomposed_titlecase` does for both.
enum UnicodeCasemap {
    /// U+FFFD, which stands for bytes that are not UTF-8 (one for a run of them, as Dovecot writes it).
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// The comparison key of `text` (UTF-8, possibly invalid).
    static func key(_ text: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var ascii = true
        for byte in text {
            guard byte < 0x80 else {
                ascii = false
                break
            }
            out.append(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte)
        }
        return ascii ? out : unicodeKey(Array(text))
    }

    static func key(_ text: String) -> [UInt8] { key(Array(text.utf8)) }

    /// Whether `needle` occurs in `haystack` under this comparator (RFC 5051 §2.2 substring operation).
    static func contains(_ haystack: some Collection<UInt8>, _ needle: String) -> Bool {
        let pattern = key(needle)
        guard !pattern.isEmpty else { return true }
        return containsBytes(key(haystack), pattern)
    }

    static func containsBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        let first = needle[0]
        var start = 0
        while start + needle.count <= haystack.count {
            if haystack[start] == first {
                var offset = 1
                while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            start += 1
        }
        return false
    }

    /// The slow path: scalar by scalar. Titlecase is the simple (one-character) mapping, as in Unicode's
    /// UnicodeData.txt that Dovecot uses: a character whose titlecase is several characters (`ß`, `ﬁ`) stays
    /// and is then decomposed (`ﬁ` becomes `fi`, not `FI`).
    private static func unicodeKey(_ bytes: [UInt8]) -> [UInt8] {
        var titled = String.UnicodeScalarView()
        var lastWasInvalid = false
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                lastWasInvalid = false
                let mapped = scalar.properties.titlecaseMapping.unicodeScalars
                if mapped.count == 1, let single = mapped.first {
                    titled.append(single)
                } else {
                    titled.append(scalar)
                }
            case .error:
                if !lastWasInvalid { titled.append(Unicode.Scalar(0xFFFD)!) }
                lastWasInvalid = true
            case .emptyInput:
                break decoding
            }
        }
        return Array(String(titled).decomposedStringWithCompatibilityMapping.utf8)
    }
}
