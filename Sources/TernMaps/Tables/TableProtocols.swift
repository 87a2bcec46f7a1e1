public import TernCore

/// How a table is opened (postmap(1) flags and server settings).
public struct MapOpenOptions: Sendable {
    /// Fold lookup keys to lower case (Postfix DICT_FLAG_FOLD_FIX; `postmap -f` turns it off).
    public var foldKeys: Bool
    /// How often a file-backed table checks whether its file was rebuilt (Postfix checks per request;
    /// once per second is enough for a server and costs one stat(2)).
    public var recheckInterval: Duration
    /// Receives warnings worded like Postfix's (`regexp map /etc/postfix/x, line 3: ...`), without a
    /// program prefix; tools print them as `postmap: warning: ...`, servers log them.
    public var warn: @Sendable (String) -> Void

    public init(
        foldKeys: Bool = true, recheckInterval: Duration = .seconds(1),
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.foldKeys = foldKeys
        self.recheckInterval = recheckInterval
        self.warn = warn
    }
}

/// A table that Postfix queries only with complete strings (regexp, pcre, cidr: DICT_FLAG_PATTERN), never
/// with the partial keys of access(5) search orders such as parent domains or `user@`.
public protocol PatternLookupTable: LookupTable {}

/// Tables whose lookups need no suspension; `postmap -q` and the search orders call this directly.
public protocol SynchronousLookupTable: LookupTable {
    func lookupNow(_ key: String) throws(LookupError) -> String?
}

extension SynchronousLookupTable {
    public func lookup(_ key: String) async throws -> String? { try lookupNow(key) }
}

/// Tables that can list their contents (`postmap -s`).
public protocol EnumerableLookupTable: LookupTable {
    func allEntries() throws(LookupError) -> [(key: String, value: String)]
}
