import Glibc
public import TernCore

/// One `name = value` definition in main.cf, with the line it starts on.
public struct MainCFEntry: Sendable, Equatable {
    public let name: String
    public let value: String
    public let line: Int

    public init(name: String, value: String, line: Int) {
        self.name = name
        self.value = value
        self.line = line
    }
}

/// An immutable snapshot of Postfix's main.cf (postconf(5)): explicit settings (the last definition
/// wins), built-in defaults, host-dependent defaults, and master.cf `-o` overrides on top.
/// Values are stored unexpanded; `value(_:)` expands `$name` references on demand.
public struct MainConfig: Sendable {
    /// Postfix's compiled-in configuration directory.
    public static let defaultDirectory = "/etc/postfix"

    public let configDirectory: String
    /// Path of the main.cf this was read from (`configDirectory + "/main.cf"`).
    public let file: String
    /// Every definition in file order, overridden ones included.
    public let entries: [MainCFEntry]
    /// Warnings found while reading (orphan continuation lines, overriding earlier entries), worded as
    /// Postfix words them.
    public let parseWarnings: [String]

    let explicit: [String: String]
    let overrides: [String: String]
    let hostDefaults: [String: String]

    init(directory: String, entries: [MainCFEntry], parseWarnings: [String], overrides: [String: String] = [:]) {
        configDirectory = directory
        file = directory + "/main.cf"
        self.entries = entries
        self.parseWarnings = parseWarnings
        var explicit: [String: String] = [:]
        if directory != Self.defaultDirectory { explicit["config_directory"] = directory }
        for entry in entries where !ParameterRegistry.readOnlyParameters.contains(entry.name) {
            explicit[entry.name] = entry.value
        }
        self.explicit = explicit
        self.overrides = overrides
        hostDefaults = Self.computeHostDefaults(explicit: explicit.merging(overrides) { $1 })
    }

    /// `-c DIR`, else `MAIL_CONFIG`, else /etc/postfix (postconf(1), postfix(1)).
    public static func directory(cli: String?, environment: [String: String]) -> String {
        if let cli, !cli.isEmpty { return cli }
        if let env = environment["MAIL_CONFIG"], !env.isEmpty { return env }
        return defaultDirectory
    }

    /// Reads `directory/main.cf`. A missing file is an error, worded like Postfix
    /// (`open /etc/postfix/main.cf: No such file or directory`).
    public static func load(directory: String) throws(FileError) -> MainConfig {
        let path = directory + "/main.cf"
        let text = try ConfigFile.read(path)
        return try parse(text: text, file: path, directory: directory)
    }

    /// Parses main.cf text; `file` names it in errors and warnings.
    public static func parse(text: String, file: String? = nil, directory: String = defaultDirectory)
        throws(FileError) -> MainConfig
    {
        let path = file ?? directory + "/main.cf"
        let split = LogicalLineReader.split(text)
        var warnings = split.orphans.map { "\(path): logical line must not start with whitespace: \"\(truncate30($0))\"" }
        var entries: [MainCFEntry] = []
        var seen: [String: String] = [:]
        if directory != defaultDirectory { seen["config_directory"] = directory }
        for logical in split.lines {
            switch NameValue.split(logical.text) {
            case .failure(let error):
                throw FileError(file: path, line: logical.line, message: "\(error.text): \"\(logical.text)\"")
            case .success(let pair):
                if let old = seen[pair.name] {
                    warnings.append("\(path), line \(logical.line): overriding earlier entry: \(pair.name)=\(old)")
                }
                seen[pair.name] = pair.value
                entries.append(MainCFEntry(name: pair.name, value: pair.value, line: logical.line))
            }
        }
        return MainConfig(directory: directory, entries: entries, parseWarnings: warnings)
    }

    static func truncate30(_ text: String) -> String {
        text.count > 30 ? String(text.prefix(30)) + "..." : text
    }

    /// The same configuration with master.cf `-o name=value` settings applied on top (master(5)).
    public func overriding(_ settings: [String: String]) -> MainConfig {
        MainConfig(
            directory: configDirectory, entries: entries, parseWarnings: parseWarnings,
            overrides: overrides.merging(settings) { $1 })
    }

    /// Names set explicitly in main.cf (plus config_directory for a non-default directory), sorted.
    public var explicitNames: [String] { explicit.keys.sorted() }

    public func isExplicit(_ name: String) -> Bool { explicit[name] != nil || overrides[name] != nil }

    /// The explicit (or overridden) value of `name`, unexpanded, or nil when it is not set.
    public func explicitValue(_ name: String) -> String? { overrides[name] ?? explicit[name] }

    /// The default of `name` for this configuration (built-in or host-derived), unexpanded.
    public func defaultValue(_ name: String) -> String? {
        if let value = hostDefaults[name] { return value }
        if let value = ParameterRegistry.defaults[name] { return value }
        for suffix in ParameterRegistry.deliveryAgentSuffixes + ["_time_limit"]
        where name.hasSuffix(suffix) && name.count > suffix.count {
            return ParameterRegistry.serviceParameterDefault(suffix: suffix)
        }
        return nil
    }

    /// The effective value of `name` as written (explicit or default, not expanded), or nil when
    /// neither main.cf nor Postfix defines it.
    public func raw(_ name: String) -> String? {
        explicitValue(name) ?? defaultValue(name)
    }

    /// Expands `$name` references in `text` against this configuration.
    public func expand(_ text: String) throws(MacroError) -> String {
        try MacroExpander(lookup: { self.raw($0) }).expand(text)
    }

    /// The effective value with `$name` expanded; raw parameters (ParameterRegistry.rawParameters)
    /// come back as written. Throws on a reference loop or malformed `${...}`.
    public func expandedValue(_ name: String) throws(MacroError) -> String {
        guard let text = raw(name) else { return "" }
        if ParameterRegistry.rawParameters.contains(name) { return text }
        return try expand(text)
    }

    /// `expandedValue`, with an unexpandable value (a loop, a syntax error) given as written;
    /// `postfix check` reports those (see `PostfixCheck`).
    public func value(_ name: String) -> String {
        (try? expandedValue(name)) ?? raw(name) ?? ""
    }

    static func computeHostDefaults(explicit: [String: String]) -> [String: String] {
        func expanded(_ text: String, _ table: [String: String]) -> String {
            let lookup: (String) -> String? = { explicit[$0] ?? table[$0] ?? ParameterRegistry.defaults[$0] }
            return (try? MacroExpander(lookup: lookup).expand(text)) ?? text
        }
        var host: [String: String] = [:]
        let explicitDomain = explicit["mydomain"].map { expanded($0, [:]) }
        host["myhostname"] = HostDefaults.myhostname(
            system: HostDefaults.systemHostname(), explicitDomain: explicitDomain)
        let hostname = expanded(explicit["myhostname"] ?? host["myhostname"]!, host)
        host["mydomain"] = HostDefaults.mydomain(hostname: hostname)
        let style = expanded(explicit["mynetworks_style"] ?? ParameterRegistry.defaults["mynetworks_style"] ?? "", host)
        let protocols = expanded(explicit["inet_protocols"] ?? "all", host)
        if explicit["mynetworks"] == nil {
            host["mynetworks"] = HostDefaults.mynetworks(style: style, protocols: protocols)
        }
        host["process_id"] = String(getpid())
        host["process_name"] = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
        return host
    }
}
