import Foundation

/// Writes the mail log in Postfix's line format:
/// `Nov 30 11:12:35 mail postfix/smtpd[4711]: 0C261A1F0F: client=host[1.2.3.4]`.
/// Destination is `maillog_file` when set, otherwise syslog(3) with facility mail, or stderr
/// (`postfix start-fg`). Each line is one write(2) on an O_APPEND descriptor, so processes share a file safely.
public final class MailLog: Sendable {
    public enum Destination: Sendable, Equatable {
        case file(String)
        case syslog
        case stderr
    }

    public enum Severity: String, Sendable {
        case info, warning, error, fatal, panic
        var syslogPriority: Int32 {
            switch self {
            case .info: return LOG_INFO
            case .warning: return LOG_WARNING
            case .error: return LOG_ERR
            case .fatal: return LOG_CRIT
            case .panic: return LOG_EMERG
            }
        }
    }

    public let syslogName: String
    public let hostname: String
    public let destination: Destination
    private let fd: Int32

    public init(syslogName: String, hostname: String, destination: Destination) {
        self.syslogName = syslogName
        self.hostname = hostname.split(separator: ".").first.map(String.init) ?? hostname
        self.destination = destination
        switch destination {
        case .file(let path):
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        case .stderr:
            fd = 2
        case .syslog:
            fd = -1
            openlog(nil, LOG_PID | LOG_NDELAY, LOG_MAIL)
        }
    }

    /// A log writing to a descriptor opened by someone else (the root master opens `maillog_file` and
    /// hands it to the unprivileged daemon, which could not open a root-owned file itself).
    public init(syslogName: String, hostname: String, descriptor: Int32, path: String) {
        self.syslogName = syslogName
        self.hostname = hostname.split(separator: ".").first.map(String.init) ?? hostname
        self.destination = .file(path)
        fd = descriptor
    }

    /// The descriptor behind a file or stderr destination (-1 for syslog).
    public var descriptor: Int32 { fd }

    deinit {
        if case .file = destination, fd >= 0 { close(fd) }
    }

    /// Logs one line for `program` (e.g. "smtpd" becomes "postfix/smtpd[pid]"; an empty program logs as
    /// the bare syslog name, `postgrey[pid]`).
    public func log(_ program: String, _ message: String, severity: Severity = .info) {
        let text = severity == .info ? message : "\(severity.rawValue): \(message)"
        let tag = program.isEmpty ? syslogName : "\(syslogName)/\(program)"
        switch destination {
        case .syslog:
            let line = "\(tag)[\(getpid())]: \(text)"
            withVaList([line]) { vsyslog(severity.syslogPriority, "%s", $0) }
        case .file, .stderr:
            guard fd >= 0 else { return }
            let line = "\(Self.timestamp()) \(hostname) \(tag)[\(getpid())]: \(text)\n"
            var bytes = Array(line.utf8)
            _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }

    public func info(_ program: String, _ message: String) { log(program, message) }
    public func warning(_ program: String, _ message: String) { log(program, message, severity: .warning) }
    public func error(_ program: String, _ message: String) { log(program, message, severity: .error) }

    /// syslog(3)-style timestamp, `Nov 30 11:12:35` (day padded with a space).
    static func timestamp() -> String {
        LocalTime.format(Int64(time(nil)), "%b %e %H:%M:%S")
    }
}
