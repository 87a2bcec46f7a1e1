/// The commands smtpd(8) knows, in the order of its command table — the order of the
/// `disconnect from … helo=1 ehlo=1 … commands=n/m` log line.
public enum SMTPVerb: String, Sendable, CaseIterable, Hashable {
    case helo, ehlo, xclient, xforward, starttls, auth, mail, rcpt, data, bdat, rset, noop, vrfy, etrn, quit

    public init?(word: String) {
        guard word.utf8.count <= 8 else { return nil }
        self.init(rawValue: word.lowercased())
    }

    /// Commands that count toward smtpd_junk_command_limit (SMTPD_CMD_FLAG_LIMIT).
    var isJunkLimited: Bool {
        switch self {
        case .noop, .vrfy, .etrn, .rset: return true
        default: return false
        }
    }
}
