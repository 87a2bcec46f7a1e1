import Glibc

/// A final delivery that did not happen, as Postfix reports it: an enhanced status code (RFC 3463) and the
/// free text that goes into the `status=deferred (...)` / `status=bounced (...)` log line and the DSN.
/// Class 4 codes mean "try again later" (defer), class 5 codes mean "give up" (bounce).
public struct DeliveryFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Enhanced status code such as `4.2.0` or `5.2.2`.
    public let dsn: String
    /// Postfix-style reason, e.g. `maildir delivery failed: create maildir file ...: Permission denied`.
    public let text: String

    public init(dsn: String, text: String) {
        self.dsn = dsn
        self.text = text
    }

    /// True when the recipient should be deferred rather than bounced (Postfix looks at the first digit).
    public var isTemporary: Bool { dsn.hasPrefix("4") }

    /// The same failure with `prefix` in front of the text (Postfix's `vstring_sprintf_prepend`).
    public func prefixed(_ prefix: String) -> DeliveryFailure {
        DeliveryFailure(dsn: dsn, text: prefix + text)
    }

    public var description: String { "\(dsn) \(text)" }
}

/// errno values as Postfix turns them into text and status codes.
enum SystemError {
    /// The `%m` text: strerror(3) of `code`.
    static func text(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "Unknown error \(code)" }
        return String(cString: message)
    }

    /// Postfix `mbox_dsn()`: EAGAIN/ESTALE are mailbox problems worth retrying (4.2.0), ENOSPC means the
    /// mail system is full (4.3.0), EDQUOT/EFBIG mean the mailbox is full (5.2.2); the rest get `fallback`.
    static func mailboxDSN(_ code: Int32, fallback: String) -> String {
        switch code {
        case EAGAIN, ESTALE: return "4.2.0"
        case ENOSPC: return "4.3.0"
        case EDQUOT, EFBIG: return "5.2.2"
        default: return fallback
        }
    }

    /// mail_copy()'s report for a failed write: `error writing message: %m`.
    static func writeFailure(_ code: Int32) -> DeliveryFailure {
        DeliveryFailure(dsn: mailboxDSN(code, fallback: "5.3.0"), text: "error writing message: \(text(code))")
    }

    /// mail_copy()'s report for a failed read of the queued message: `error reading message: %m`.
    static func readFailure(_ code: Int32) -> DeliveryFailure {
        let dsn = (code == EAGAIN || code == ESTALE) ? "4.3.0" : "5.3.0"
        return DeliveryFailure(dsn: dsn, text: "error reading message: \(text(code))")
    }
}

/// The owner given to files and directories that a delivery creates, used when the writer runs as root on
/// behalf of another user (Postfix's `chown_uid`/`chown_gid` for a root-owned mail spool).
public struct FileOwnership: Sendable, Equatable, Codable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// Applies the ownership to an open descriptor; failures are ignored as Postfix only warns about them.
    func apply(to fd: Int32) {
        _ = fchown(fd, uid_t(uid), gid_t(gid))
    }

    func apply(toPath path: String) {
        _ = chown(path, uid_t(uid), gid_t(gid))
    }
}
