/// A Postfix lookup table (`type:name`): access maps, aliases, canonical/generic, transport and virtual maps
/// all look keys up through this one interface (postconf(5), DATABASE_README).
/// Implementations live in TernMaps; this protocol sits here so that every layer can take a table.
public protocol LookupTable: Sendable {
    /// The `type:name` the table was opened as, for log lines and errors.
    var spec: String { get }
    /// The value for `key`, or nil when the table has no entry. Keys are matched as the table type
    /// defines (hash tables fold case unless built with `postmap -f`).
    func lookup(_ key: String) async throws -> String?
}

/// A table that could not be read (missing, corrupt, or a pattern that does not compile).
/// Postfix defers mail in that case rather than pretending the key is absent.
public struct LookupError: Error, CustomStringConvertible, Sendable {
    public let spec: String
    public let reason: String
    public init(spec: String, reason: String) {
        self.spec = spec
        self.reason = reason
    }
    public var description: String { "\(spec): table lookup problem: \(reason)" }
}
