/// RFC 3461 §4 xtext: `+XX` hex escapes. Decoding follows Postfix's xtext_unquote(): any other
/// character passes through, and a `+` without two hex digits makes the whole value invalid.
public enum XText {
    public static func decode(_ text: String) -> String? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        while let c = bytes.next() {
            if c == UInt8(ascii: "+") {
                guard let h = bytes.next().flatMap(hexValue), let l = bytes.next().flatMap(hexValue) else {
                    return nil
                }
                out.append(h << 4 | l)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes `+`, `=`, and characters outside `!`…`~` as `+XX` (RFC 3461 §4).
    public static func encode(_ text: String) -> String {
        var out = ""
        for c in text.utf8 {
            if c < 0x21 || c > 0x7E || c == UInt8(ascii: "+") || c == UInt8(ascii: "=") {
                out += "+" + String(c, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(c))
            }
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
