import Foundation
import TernCore

/// The mail-access daemon's log in Dovecot's format: with `log_path` a file of lines like
/// `Nov 30 18:20:06 imap-login: Info: Login: user=<carla>, ...` (log_timestamp `%b %d %H:%M:%S `), otherwise
/// syslog(3) with facility mail and ident `dovecot`, or stderr (`dovecot -F` with log_path = /dev/stderr).
/// Each line is one write(2) on an O_APPEND descriptor, so the master and its children share the file.
public final class DovecotLog: Sendable {
    public enum Level: String, Sendable {
        case info = "Info", warning = "Warning", error = "Error", fatal = "Fatal"

        var syslogPriority: Int32 {
            switch self {
            case .info: LOG_INFO
            case .warning: LOG_WARNING
            case .error: LOG_ERR
            case .fatal: LOG_CRIT
            }
        }
    }

    private let fd: Int32
    private let ownsDescriptor: Bool

    /// `path` is log_path: "syslog", a file, or /dev/stderr.
    public init(path: String) {
        if path == "syslog" || path.isEmpty {
            fd = -1
            ownsDescriptor = false
            openlog("dovecot", LOG_NDELAY, LOG_MAIL)
        } else if path == "/dev/stderr" {
            fd = 2
            ownsDescriptor = false
        } else {
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            ownsDescriptor = fd >= 0
        }
    }

    /// A log on a descriptor the parent opened (children of the root master cannot open its file).
    public init(descriptor: Int32) {
        fd = descriptor
        ownsDescriptor = false
    }

    public var descriptor: Int32 { fd }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// `prefix` is the process part (`imap-login`, `imap(carla)<4711><session>`).
    public func log(_ prefix: String, _ level: Level, _ message: String) {
        let text = "\(prefix): \(level.rawValue): \(message)"
        guard fd >= 0 else {
            withVaList([text]) { vsyslog(level.syslogPriority, "%s", $0) }
            return
        }
        var bytes = Array("\(Self.timestamp()) \(text)\n".utf8)
        _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
    }

    public func info(_ prefix: String, _ message: String) { log(prefix, .info, message) }

    static func timestamp() -> String {
        LocalTime.format(Int64(time(nil)), "%b %d %H:%M:%S")
    }
}
