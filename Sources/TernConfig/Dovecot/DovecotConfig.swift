import TernCore

/// A setting as dovecot.conf sets it: the value checked and written the way doveconf prints it
/// (`120s` is `2 mins`), or for `key = <FILE` the text `<FILE` and the file's path.
public struct DovecotValue: Sendable, Equatable {
    public let value: String
    /// The path of a `key = <FILE` value; the file is read by `DovecotSettings`, not by the parser
    /// (doveconf -n prints the `<FILE` form and does not need the file).
    public let filePath: String?
    public let location: DovecotLocation
}

/// One level of dovecot.conf: the settings written there (last one wins) and its sections in order.
public struct DovecotBlock: Sendable {
    public internal(set) var settings: [String: DovecotValue] = [:]
    public internal(set) var sections: [DovecotSection] = []

    public init() {}

    /// The sections of one kind (`namespace`, `mailbox`, `passdb`, `service`, `inet_listener`, ...).
    public func sections(_ kind: String) -> [DovecotSection] {
        sections.filter { $0.kind == kind }
    }
}

/// `kind [name] { ... }`. Sections of a named kind (namespace, mailbox, service, listeners) with the same
/// name are one section, as in Dovecot; every passdb/userdb is its own.
public struct DovecotSection: Sendable {
    public let kind: String
    public let name: String?
    public internal(set) var block: DovecotBlock
    public let location: DovecotLocation
}

/// `protocol NAME { }`, `local IP[/bits] { }`, `remote IP[/bits] { }`, `local_name NAME { }`, possibly
/// nested: settings that apply only to some connections.
public struct DovecotFilter: Sendable, Equatable {
    public var protocolName: String?
    public var local: String?
    public var remote: String?
    public var localName: String?

    public init(protocolName: String? = nil, local: String? = nil, remote: String? = nil, localName: String? = nil) {
        self.protocolName = protocolName
        self.local = local
        self.remote = remote
        self.localName = localName
    }

    /// Whether this filter applies to a connection of `protocolName` (`!imap` excludes imap).
    public func matches(protocol name: String) -> Bool {
        guard local == nil, remote == nil, localName == nil else { return false }
        guard let protocolName else { return true }
        if protocolName.hasPrefix("!") { return protocolName.dropFirst() != name }
        return protocolName == name
    }
}

/// A parsed dovecot.conf with its includes: the global block and the filter blocks.
public struct DovecotConfig: Sendable {
    public let path: String
    public internal(set) var global = DovecotBlock()
    public internal(set) var filters: [(filter: DovecotFilter, block: DovecotBlock)] = []
    /// Warnings Dovecot prints but does not fail on (`Ambiguous '#' character ...`), with their place.
    public internal(set) var warnings: [String] = []
    /// Every file read: the main file and the `!include`d ones, in reading order.
    public internal(set) var sourceFiles: [String] = []

    /// Default location of the configuration, as in Dovecot.
    public static let defaultPath = "/etc/dovecot/dovecot.conf"

    init(path: String) {
        self.path = path
    }

    /// Reads and parses `path` and everything it includes.
    public static func load(path: String) throws(DovecotConfigError) -> DovecotConfig {
        var builder = DovecotConfigBuilder(path: path)
        let text: String
        do throws(FileError) {
            text = try ConfigFile.read(path)
        } catch {
            throw DovecotConfigError(file: path, line: nil, message: DovecotIncludes.openMessage(error), isOpenFailure: true)
        }
        try builder.parse(text: text, file: path, depth: 0)
        return try builder.finish()
    }

    /// Parses configuration text (includes are resolved relative to `path`'s directory).
    public static func parse(_ text: String, path: String = defaultPath) throws(DovecotConfigError) -> DovecotConfig {
        var builder = DovecotConfigBuilder(path: path)
        try builder.parse(text: text, file: path, depth: 0)
        return try builder.finish()
    }

    /// The effective value of a global setting for connections of `protocolName` (nil: outside any
    /// protocol): the last matching `protocol` filter that sets it, else the global value, else Dovecot's
    /// default. `nil` for a name Dovecot does not know.
    public func value(_ key: String, protocol protocolName: String? = nil) -> String? {
        if let protocolName {
            for (filter, block) in filters.reversed() where filter.matches(protocol: protocolName) {
                if let value = block.settings[key] { return value.value }
            }
        }
        if let value = global.settings[key] { return value.value }
        return DovecotSchema.root.settings[key]?.defaultValue
    }

    /// The `DovecotValue` of a global setting set in the file (with protocol overrides like `value`).
    public func setting(_ key: String, protocol protocolName: String? = nil) -> DovecotValue? {
        if let protocolName {
            for (filter, block) in filters.reversed() where filter.matches(protocol: protocolName) {
                if let value = block.settings[key] { return value }
            }
        }
        return global.settings[key]
    }
}
