public import TernCore

/// `hash:`, `btree:` and `lmdb:` tables: Tern's indexed file `NAME.db` (`NAME.lmdb` for lmdb) built by
/// postmap(1) or postalias(1) (DATABASE_README). The mapped file is swapped when postmap renames a new one in.
public struct IndexedMapTable: SynchronousLookupTable, EnumerableLookupTable {
    public let spec: String
    /// The indexed file, e.g. `/etc/postfix/access.db`.
    public let databasePath: String
    let foldKeys: Bool
    private let cache: FileSnapshotCache<IndexedMapFile>

    /// The file name suffix Postfix uses for each indexed type.
    public static func suffix(forType type: String) -> String { type == "lmdb" ? ".lmdb" : ".db" }

    public init(type: String, name: String, options: MapOpenOptions) throws(LookupError) {
        let spec = "\(type):\(name)"
        self.spec = spec
        self.databasePath = name + Self.suffix(forType: type)
        self.foldKeys = options.foldKeys
        cache = try FileSnapshotCache(path: databasePath, recheckInterval: options.recheckInterval) {
            (path: String) throws(LookupError) -> IndexedMapFile in
            do throws(IndexedMapError) {
                return try IndexedMapFile(path: path)
            } catch {
                throw LookupError(spec: spec, reason: error.reason)
            }
        }
    }

    public func lookupNow(_ key: String) throws(LookupError) -> String? {
        let probe = foldKeys ? key.foldedKey : key
        return try cache.withSnapshot { file in file.value(forKey: probe) }
    }

    public func allEntries() throws(LookupError) -> [(key: String, value: String)] {
        try cache.withSnapshot { file in file.entries().map { Pair(key: $0.key, value: $0.value) } }
            .map { ($0.key, $0.value) }
    }
}

/// A Sendable key/value pair (tuples are not Sendable-checked across the lock).
struct Pair: Sendable {
    let key: String
    let value: String
}

/// `texthash:` — the postmap(1) source format read into memory when the table is opened, no index file.
public struct TextHashTable: SynchronousLookupTable, EnumerableLookupTable {
    public let spec: String
    let foldKeys: Bool
    private let cache: FileSnapshotCache<TextHashSnapshot>

    struct TextHashSnapshot: Sendable {
        let values: [String: String]
        let pairs: [Pair]
    }

    public init(name: String, options: MapOpenOptions) throws(LookupError) {
        let spec = "texthash:\(name)"
        self.spec = spec
        self.foldKeys = options.foldKeys
        let fold = options.foldKeys
        let warn = options.warn
        let load: @Sendable (String) throws(LookupError) -> [Pair] = { (path: String) throws(LookupError) -> [Pair] in
            let bytes = try readTableFile(path, spec: spec)
            do throws(FileError) {
                let entries = try MapSourceParser.parse(bytes, file: path, warnSuffix: " -- ignoring this line", warn: warn)
                var seen = Set<String>()
                var pairs: [Pair] = []
                for entry in entries {
                    let key = fold ? entry.key.foldedKey : entry.key
                    if !seen.insert(key).inserted {
                        warn("\(path), line \(entry.lineNumber): duplicate entry: \"\(key)\"")
                        continue
                    }
                    pairs.append(Pair(key: key, value: entry.value))
                }
                return pairs
            } catch {
                throw LookupError(spec: spec, reason: error.description)
            }
        }
        cache = try FileSnapshotCache(path: name, recheckInterval: options.recheckInterval) {
            (path: String) throws(LookupError) -> TextHashSnapshot in
            let pairs = try load(path)
            return TextHashSnapshot(
                values: Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }),
                pairs: pairs)
        }
    }

    public func lookupNow(_ key: String) throws(LookupError) -> String? {
        let probe = foldKeys ? key.foldedKey : key
        return try cache.withSnapshot { table in table.values[probe] }
    }

    public func allEntries() throws(LookupError) -> [(key: String, value: String)] {
        try cache.withSnapshot { table in table.pairs }.map { ($0.key, $0.value) }
    }
}

/// Reads a whole table source file, failing with Postfix's wording (`open /x: No such file or directory`).
func readTableFile(_ path: String, spec: String) throws(LookupError) -> [UInt8] {
    do throws(SourceFile.Failure) {
        return try SourceFile.read(path)
    } catch {
        throw LookupError(spec: spec, reason: error.reason)
    }
}
