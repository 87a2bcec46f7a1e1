public import TernConfig
public import TernMailbox

extension DovecotSettings {
    /// The quota roots for `user` (`quota` in mail_plugins and `plugin { quota = ...  quota2 = ... }`), the
    /// userdb's settings (`quota_rule=*:storage=1G`) over dovecot.conf's as in Dovecot, with %u, %n, %d, %h and
    /// %% expanded as Dovecot expands plugin settings; none when the plugin is off. Throws Dovecot's complaint
    /// about settings it would refuse (the session then enforces nothing and logs it).
    public func quota(user: String, home: String, userdb: [String: String] = [:]) throws(QuotaSettings.ParseError)
        -> [QuotaSettings]
    {
        guard mailPlugins.contains("quota") else { return [] }
        let values = plugin.merging(userdb) { $1 }.mapValues { AccessSettings.expand($0, user: user, home: home) }
        return try QuotaSettings.roots(values)
    }

    /// The quota plugin's settings among a userdb's fields (`quota_rule`, `quota2`, `quota_warning`, ...).
    public static func quotaSettings(userdb fields: [(String, String)]) -> [String: String] {
        var settings: [String: String] = [:]
        for (key, value) in fields where key.hasPrefix("quota") { settings[key] = value }
        return settings
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
