import Foundation

/// Host name and address literal checks as Postfix's valid_hostname() / valid_mailhost_literal(),
/// used on envelope domains (trivial-rewrite flags a bad domain, smtpd answers "Bad … address syntax")
/// and on the ETRN argument.
public enum HostnameSyntax {
    /// RFC 1035 labels of letters, digits, `-` and `_` (Postfix allows `_`), 1-63 bytes, no leading or
    /// trailing `-`, at most 255 bytes, and not all-numeric. With `allowUTF8`, labels with non-ASCII
    /// bytes are accepted (Postfix checks them as IDNA; this accepts any UTF-8 label).
    public static func isValidHostname(_ name: String, allowUTF8: Bool = false) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 255 else { return false }
        var sawNonNumeric = false
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63 else { return false }
            guard label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            for c in label {
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): continue
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"):
                    sawNonNumeric = true
                case 0x80...0xFF where allowUTF8:
                    sawNonNumeric = true
                default:
                    return false
                }
            }
        }
        return sawNonNumeric
    }

    /// `[1.2.3.4]` or `[IPv6:…]`.
    public static func isValidAddressLiteral(_ text: String) -> Bool {
        guard text.hasPrefix("["), text.hasSuffix("]"), text.count >= 3 else { return false }
        let inner = String(text.dropFirst().dropLast())
        if inner.lowercased().hasPrefix("ipv6:") { return isValidIPv6(String(inner.dropFirst(5))) }
        return isValidIPv4(inner)
    }

    public static func isValidIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy { $0.isASCII && $0.isNumber } && Int(p)! <= 255
        }
    }

    public static func isValidIPv6(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 45 else { return false }
        var groups = text.components(separatedBy: ":")
        var allowed = 8
        if let last = groups.last, last.contains(".") {
            guard isValidIPv4(last) else { return false }
            groups.removeLast()
            allowed = 6
        }
        let compressed = text.contains("::")
        if text.contains(":::") || text.components(separatedBy: "::").count > 2 { return false }
        var count = 0
        for g in groups {
            if g.isEmpty {
                guard compressed else { return false }
                continue
            }
            guard g.count <= 4, g.allSatisfy(\.isHexDigit) else { return false }
            count += 1
        }
        return compressed ? count < allowed : count == allowed
    }
}
