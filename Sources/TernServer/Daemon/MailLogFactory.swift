public import TernConfig
public import TernCore

/// The mail log of a configuration: `maillog_file` when set, otherwise syslog (facility mail), as Postfix.
/// `postfix start-fg` logs to stderr when no maillog_file is set.
public enum MailLogFactory {
    public static func make(config: MainConfig, foreground: Bool = false) -> MailLog {
        let file = config.value("maillog_file")
        let destination: MailLog.Destination =
            !file.isEmpty ? .file(file) : (foreground ? .stderr : .syslog)
        return MailLog(syslogName: config.value("syslog_name"), hostname: config.value("myhostname"), destination: destination)
    }
}
