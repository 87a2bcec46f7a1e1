import Glibc

/// The environment local(8) gives a delivery command (`deliver_command()`, `pipe_command()`): only the
/// variables named in `export_environment` survive from the daemon's environment, PATH is reset to
/// `_PATH_DEFPATH`, and the message attributes (HOME, LOGNAME, USER, SENDER, RECIPIENT, LOCAL, SHELL, DOMAIN,
/// EXTENSION, ORIGINAL_RECIPIENT, CLIENT_*, SASL_*) are added with every byte outside
/// `command_expansion_filter` replaced by `_`, because they come from the network.
public enum CommandEnvironment {
    /// postconf(5) default of `command_expansion_filter`.
    public static let defaultExpansionFilter =
        "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    /// postconf(5) default of `export_environment`.
    public static let defaultExport = ["TZ", "MAIL_CONFIG", "LANG"]

    /// `NAME=value` entries: exported variables (from `inherited`), PATH, then `attributes` censored.
    public static func build(
        attributes: [(name: String, value: String)], export: [String] = defaultExport,
        filter: String = defaultExpansionFilter, inherited: [String: String] = currentEnvironment()
    ) -> [String] {
        var entries: [(String, String)] = []
        func set(_ name: String, _ value: String) {
            if let index = entries.firstIndex(where: { $0.0 == name }) {
                entries[index].1 = value
            } else {
                entries.append((name, value))
            }
        }
        for name in export {
            if let value = inherited[name] { set(name, value) }
        }
        set("PATH", CommandDelivery.defaultPath)
        let allowed = Set(filter.utf8)
        for (name, value) in attributes {
            let clean = value.utf8.map { allowed.contains($0) ? $0 : UInt8(ascii: "_") }
            set(name, String(decoding: clean, as: UTF8.self))
        }
        return entries.map { "\($0.0)=\($0.1)" }
    }

    /// The attributes of one local delivery, in the order Postfix adds them. Empty optional values are left
    /// out, as Postfix does for a missing home, shell, domain, extension or original recipient.
    public static func attributes(
        home: String?, user: String, sender: String, recipient: String, local: String, shell: String?,
        domain: String?, extension extensionPart: String?, originalRecipient: String?, client: [(String, String)] = []
    ) -> [(name: String, value: String)] {
        var list: [(name: String, value: String)] = []
        if let home, !home.isEmpty { list.append(("HOME", home)) }
        list.append(("LOGNAME", user))
        list.append(("USER", user))
        list.append(("SENDER", sender))
        list.append(("RECIPIENT", recipient))
        list.append(("LOCAL", local))
        if let shell, !shell.isEmpty { list.append(("SHELL", shell)) }
        if let domain, !domain.isEmpty { list.append(("DOMAIN", domain)) }
        if let extensionPart, !extensionPart.isEmpty { list.append(("EXTENSION", extensionPart)) }
        if let originalRecipient, !originalRecipient.isEmpty {
            list.append(("ORIGINAL_RECIPIENT", originalRecipient))
        }
        for (name, value) in client where !value.isEmpty { list.append((name, value)) }
        return list
    }

    /// This process's environment as a dictionary.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}
