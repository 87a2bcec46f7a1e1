public import TernCore

/// Opens Postfix lookup tables from their `type:name` form (DATABASE_README, postconf(5)).
public enum MapOpener {
    /// The types `open` understands.
    public static let supportedTypes: Set<String> = [
        "hash", "btree", "lmdb", "texthash", "regexp", "pcre", "cidr", "inline", "static", "unionmap", "fail",
    ]

    /// Opens `type:name`. Indexed tables (`hash`, `btree`, `lmdb`) read `name.db` / `name.lmdb` built by
    /// postmap; file tables are read now and re-read when the file changes.
    /// - Throws: `LookupError` whose `reason` is worded like Postfix's fatal error
    ///   (`open database /x.db: No such file or directory`, `unsupported dictionary type: bogus`).
    public static func open(_ spec: String, options: MapOpenOptions = MapOpenOptions()) throws(LookupError)
        -> any LookupTable
    {
        guard let colon = spec.firstIndex(of: ":") else {
            throw LookupError(spec: spec, reason: "open dictionary: expecting \"type:name\" form instead of \"\(spec)\"")
        }
        let type = String(spec[..<colon])
        let name = String(spec[spec.index(after: colon)...])
        guard !name.isEmpty else {
            throw LookupError(spec: spec, reason: "open dictionary: expecting \"type:name\" form instead of \"\(spec)\"")
        }
        switch type {
        case "hash", "btree", "lmdb": return try IndexedMapTable(type: type, name: name, options: options)
        case "texthash": return try TextHashTable(name: name, options: options)
        case "regexp": return try RegexpTable(name: name, options: options)
        case "pcre": return try RegexpTable.pcre(name: name, options: options)
        case "cidr": return try CIDRTable(name: name, options: options)
        case "inline": return try InlineTable(name: name, options: options)
        case "static": return try StaticTable(name: name)
        case "unionmap": return try UnionTable(name: name, options: options)
        case "fail": return FailTable(name: name)
        default: throw LookupError(spec: spec, reason: "unsupported dictionary type: \(type)")
        }
    }

    /// Whether Postfix queries this table only with full keys (regexp, pcre, cidr), never with the
    /// partial keys of access(5) search orders.
    public static func isPatternTable(_ table: any LookupTable) -> Bool {
        if table is any PatternLookupTable { return true }
        let type = table.spec.prefix { $0 != ":" }
        return type == "pcre" || type == "regexp" || type == "cidr"
    }
}
