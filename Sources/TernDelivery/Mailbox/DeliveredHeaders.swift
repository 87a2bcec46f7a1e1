import Glibc

/// The lines local(8) and virtual(8) put in front of a delivered message (Postfix `mail_copy()`), in this order:
///
///     From sender  Mon Jan  1 00:00:00 2024      (mbox, files and commands only; see `fromLine`)
///     Return-Path: <sender>
///     X-Original-To: original-recipient          (when the original recipient is known)
///     Delivered-To: recipient                    (prepend_delivered_header = command, file, forward)
///
/// Addresses are written with the local part quoted as RFC 5322 §3.4.1 requires (Postfix `quote_822_local`).
public enum DeliveredHeaders {
    /// `Return-Path`, `X-Original-To` and `Delivered-To` lines, each ending in LF.
    /// - Parameters:
    ///   - sender: envelope sender, empty for the null sender (`Return-Path: <>`).
    ///   - originalRecipient: the recipient before any rewriting; empty or nil leaves the header out,
    ///     as Postfix does when original recipient recording is off.
    ///   - deliveredTo: final recipient for `Delivered-To`, or nil to leave the header out.
    public static func render(sender: String, originalRecipient: String?, deliveredTo: String?) -> String {
        var text = "Return-Path: <\(sender.isEmpty ? "" : quoteLocalPart(sender))>\n"
        if let originalRecipient, !originalRecipient.isEmpty {
            text += "X-Original-To: \(quoteLocalPart(originalRecipient))\n"
        }
        if let deliveredTo {
            text += "Delivered-To: \(quoteLocalPart(deliveredTo))\n"
        }
        return text
    }

    /// The UNIX `From ` envelope line: `From sender  Thu Nov 30 11:12:35 2023` plus LF. Postfix writes two
    /// spaces and the 24-character asctime(3) date in local time; the null sender becomes MAILER-DAEMON.
    /// - Parameter date: seconds since the epoch (nil: now).
    public static func fromLine(sender: String, date: Int? = nil) -> String {
        let who = sender.isEmpty ? "MAILER-DAEMON" : quoteLocalPart(sender)
        return "From \(who)  \(asctimeDate(time_t(date ?? Int(time(nil)))))\n"
    }

    /// asctime(3) layout without the newline: `Thu Nov  2 11:12:35 2023` (day padded with a space).
    static func asctimeDate(_ date: time_t) -> String {
        var seconds = date
        var parts = tm()
        localtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let day = days[Int(parts.tm_wday) % 7]
        let month = months[Int(parts.tm_mon) % 12]
        let mday = parts.tm_mday < 10 ? " \(parts.tm_mday)" : "\(parts.tm_mday)"
        return "\(day) \(month) \(mday) \(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):"
            + "\(twoDigits(parts.tm_sec)) \(Int(parts.tm_year) + 1900)"
    }

    private static func twoDigits(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Postfix `quote_822_local()`: leaves `user@domain` alone when the local part is a dot-string and
    /// otherwise wraps the local part in double quotes, escaping `"`, `\` and CR. 8-bit bytes pass as they are.
    /// A source route prefix (`@a,@b:user@domain`) is kept unquoted in front.
    public static func quoteLocalPart(_ address: String) -> String {
        let bytes = Array(address.utf8)
        var start = 0
        if bytes.first == UInt8(ascii: "@"), let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            start = colon + 1
        }
        let end = bytes[start...].lastIndex(of: UInt8(ascii: "@")) ?? bytes.count
        let local = bytes[start..<end]
        if isDotString(local) { return address }
        var out = Array(bytes[..<start])
        out.append(UInt8(ascii: "\""))
        for byte in local {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 13 {
                out.append(UInt8(ascii: "\\"))
            }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: bytes[end...])
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 822 dot-string test of Postfix `is_822_dot_string()` (8-bit clean).
    private static func isDotString(_ local: ArraySlice<UInt8>) -> Bool {
        guard let first = local.first, first != UInt8(ascii: "."), local.last != UInt8(ascii: ".") else {
            return false
        }
        let specials = Set("()<>@,;:\\\"[]".utf8)
        var previous: UInt8 = 0
        for byte in local {
            if byte == UInt8(ascii: ".") && previous == UInt8(ascii: ".") { return false }
            if byte == UInt8(ascii: " ") || byte < 32 || byte == 127 { return false }
            if specials.contains(byte) { return false }
            previous = byte
        }
        return true
    }
}
