import TernCore
import TernMIME

/// The value of a generated From: header, Postfix's hfrom_format = standard (3.3 and later):
/// `Full Name <user@example.com>` when a full name is known (quoted as an RFC 5322 §3.2.5 quoted-string
/// when it contains specials), else the bare address; a null sender becomes `MAILER-DAEMON`.
enum FromHeader {
    static func value(sender: MailAddress, fullName: String?, emptyAddress: String) -> String {
        if sender.isNull { return emptyAddress }
        let address = AddressQuoting.quoteLocalPart(sender.text)
        guard let fullName, !fullName.isEmpty else { return address }
        return "\(phrase(fullName)) <\(address)>"
    }

    /// A display name as an atom sequence, or quoted when it holds RFC 5322 specials or controls.
    static func phrase(_ name: String) -> String {
        let specials = Set("()<>@,;:\\\".[]")
        let needsQuote = name.contains { specials.contains($0) || $0.asciiValue.map { $0 < 32 || $0 == 127 } == true }
        guard needsQuote else { return name }
        var out = "\""
        for ch in name {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            if ch == "\n" || ch == "\r" { continue }
            out.append(ch)
        }
        return out + "\""
    }
}
