/// Dovecot's tab escaping of auth protocol values (lib/strescape.c str_append_tabescaped): \001 → \0011,
/// TAB → \001t, CR → \001r, LF → \001n, NUL → \0010.
public enum AuthProtocolText {
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 2 || $0 == "\t" || $0 == "\r" || $0 == "\n" }) else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{1}": out += "\u{1}1"
            case "\t": out += "\u{1}t"
            case "\r": out += "\u{1}r"
            case "\n": out += "\u{1}n"
            case "\u{0}": out += "\u{1}0"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    public static func unescape(_ text: Substring) -> String {
        guard text.contains("\u{1}") else { return String(text) }
        var out = ""
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                switch scalar {
                case "1": out += "\u{1}"
                case "t": out += "\t"
                case "r": out += "\r"
                case "n": out += "\n"
                case "0": out += "\u{0}"
                default: out.unicodeScalars.append(scalar)
                }
                escaped = false
            } else if scalar == "\u{1}" {
                escaped = true
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A request ID: decimal digits that fit 32 bits (Dovecot's str_to_uint).
    static func id(_ text: Substring) -> UInt32? {
        guard !text.isEmpty, text.count <= 10, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt32(text)
    }
}
