public import TernConfig
public import TernMailbox

extension DovecotSettings {
    /// The quota plugin's settings for `user` (`quota` in mail_plugins and `plugin { quota = ... }`), with %u,
    /// %n, %d, %h and %% expanded as Dovecot expands plugin settings; nil when the plugin is off or its settings
    /// are not valid (Tern then enforces nothing).
    public func quota(user: String, home: String) -> QuotaSettings? {
        guard mailPlugins.contains("quota") else { return nil }
        let values = plugin.mapValues { AccessSettings.expand($0, user: user, home: home) }
        return try? QuotaSettings.parse(values)
    }

    /// quota_warning's services that run a script (`service quota-warning { executable = script PATH }`): the
    /// program and its own arguments by service name.
    public var quotaWarningPrograms: [String: [String]] {
        var programs: [String: [String]] = [:]
        for service in services {
            let words = (service.settings["executable"] ?? "").split(separator: " ").map(String.init)
            guard words.first == "script" else { continue }
            let program = words.dropFirst().drop { $0.hasPrefix("-") }
            if !program.isEmpty { programs[service.name] = Array(program) }
        }
        return programs
    }
}
