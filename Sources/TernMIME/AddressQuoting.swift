/// RFC 5322 §3.4.1 quoting of an address's local part, as Postfix's `quote_822_local()` does it when it
/// writes an internal (unquoted) address into a header or a tool's output: `john doe@x` becomes
/// `"john doe"@x`; a plain dot-atom stays as it is.
public enum AddressQuoting {
    /// RFC 5322 `specials` plus space and controls: characters that force quoting.
    private static func isSpecial(_ byte: UInt8) -> Bool {
        if byte <= 32 || byte == 127 { return true }
        return "()<>@,;:\\\".[]".utf8.contains(byte)
    }

    /// Quotes the local part (before the last `@`) when it is not a valid dot-atom.
    public static func quoteLocalPart(_ address: String) -> String {
        let bytes = Array(address.utf8)
        let at = bytes.lastIndex(of: UInt8(ascii: "@"))
        let local = at.map { Array(bytes[..<$0]) } ?? bytes
        guard needsQuoting(local) else { return address }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in local {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
        if let at { out += bytes[at...] }
        return String(decoding: out, as: UTF8.self)
    }

    static func needsQuoting(_ local: [UInt8]) -> Bool {
        guard !local.isEmpty else { return false }
        if local.first == UInt8(ascii: ".") || local.last == UInt8(ascii: ".") { return true }
        var previousDot = false
        for byte in local {
            if byte == UInt8(ascii: ".") {
                if previousDot { return true }
                previousDot = true
                continue
            }
            previousDot = false
            if isSpecial(byte) { return true }
        }
        return false
    }

    /// Postfix's `printable()`: bytes that are not printable ASCII (or part of valid UTF-8) become `?`.
    public static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            if scalar.value < 32 || scalar.value == 127 { return "?" }
            return Character(scalar)
        })
    }
}
