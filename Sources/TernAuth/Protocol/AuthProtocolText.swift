/// Dovecot's tab escaping of auth protocol values (lib/strescape.c str_append_tabescaped): \001 → \0011,
/// TAB → \001t, CR → \001r, LF → \001n, NUL → \0010.
public enum AuthProtocolText {
    /// Each escaped character and the letter that follows \001 for it.
    private static let escapes: [(raw: Unicode.Scalar, letter: Unicode.Scalar)] = [
        ("\u{1}", "1"), ("\t", "t"), ("\r", "r"), ("\n", "n"), ("\u{0}", "0"),
    ]

    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 2 || $0 == "\t" || $0 == "\r" || $0 == "\n" }) else {
            return text
        }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let escape = escapes.first(where: { $0.raw == scalar }) {
                out.append(contentsOf: ["\u{1}", escape.letter])
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    public static func unescape(_ text: Substring) -> String {
        guard text.contains("\u{1}") else { return String(text) }
        var out = String.UnicodeScalarView()
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                out.append(escapes.first { $0.letter == scalar }?.raw ?? scalar)
                escaped = false
            } else if scalar == "\u{1}" {
                escaped = true
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// A request ID: decimal digits that fit 32 bits (Dovecot's str_to_uint).
    static func id(_ text: Substring) -> UInt32? {
        guard !text.isEmpty, text.count <= 10, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt32(text)
    }
}
