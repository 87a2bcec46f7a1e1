public import TernCore

/// `inline:{ key=value, { key = text with spaces } }` (DATABASE_README): a small table in main.cf itself.
/// Keys fold to lower case like hash tables.
public struct InlineTable: SynchronousLookupTable, EnumerableLookupTable {
    public let spec: String
    let entries: [Pair]
    let foldKeys: Bool

    public init(name: String, options: MapOpenOptions) throws(LookupError) {
        let spec = "inline:\(name)"
        self.spec = spec
        self.foldKeys = options.foldKeys
        let need = "need \"inline:{name=value...}\""
        guard let items = BracedList.items(name), !items.isEmpty else {
            throw LookupError(spec: spec, reason: "bad syntax: \"\(spec)\"; \(need)")
        }
        var entries: [Pair] = []
        for item in items {
            var text = item
            if text.hasPrefix("{") { text = String(text.dropFirst().dropLast()).trimmingASCIIWhitespace }
            guard let equals = text.firstIndex(of: "="),
                case let key = String(text[..<equals]).trimmingASCIIWhitespace, !key.isEmpty
            else { throw LookupError(spec: spec, reason: "missing '=' after attribute name: \"\(spec)\"; \(need)") }
            let value = String(text[text.index(after: equals)...]).trimmingASCIIWhitespace
            entries.append(Pair(key: options.foldKeys ? key.foldedKey : key, value: value))
        }
        self.entries = entries
    }

    public func lookupNow(_ key: String) throws(LookupError) -> String? {
        let probe = foldKeys ? key.foldedKey : key
        return entries.first { $0.key == probe }?.value
    }

    public func allEntries() throws(LookupError) -> [(key: String, value: String)] {
        entries.map { ($0.key, $0.value) }
    }
}

/// `static:value` / `static:{value with spaces}`: every key finds the same value.
public struct StaticTable: SynchronousLookupTable {
    public let spec: String
    public let value: String

    public init(name: String) throws(LookupError) {
        spec = "static:\(name)"
        if name.hasPrefix("{") {
            guard name.hasSuffix("}") else {
                throw LookupError(spec: spec, reason: "bad static:name syntax: missing '}' in \"\(name)\"")
            }
            value = String(name.dropFirst().dropLast()).trimmingASCIIWhitespace
        } else {
            value = name
        }
    }

    public func lookupNow(_ key: String) throws(LookupError) -> String? { value }
}

/// `fail:name`: every lookup fails, so mail using it is deferred (DATABASE_README, testing aid).
public struct FailTable: SynchronousLookupTable {
    public let spec: String
    public init(name: String) { spec = "fail:\(name)" }
    public func lookupNow(_ key: String) throws(LookupError) -> String? {
        throw LookupError(spec: spec, reason: "table \(spec): query error: Application error")
    }
}

/// `unionmap:{table, table, ...}`: the results of all tables that have the key, joined with commas.
public struct UnionTable: SynchronousLookupTable {
    public let spec: String
    public let tables: [any SynchronousLookupTable]

    public init(name: String, options: MapOpenOptions) throws(LookupError) {
        let spec = "unionmap:\(name)"
        self.spec = spec
        guard name.hasPrefix("{"), let items = BracedList.items(name), !items.isEmpty else {
            throw LookupError(spec: spec, reason: "bad syntax: \"\(spec)\"; need \"unionmap:{type:name...}\"")
        }
        var tables: [any SynchronousLookupTable] = []
        for item in items {
            guard let table = try MapOpener.open(item, options: options) as? any SynchronousLookupTable else {
                throw LookupError(spec: spec, reason: "unsupported table in unionmap: \(item)")
            }
            tables.append(table)
        }
        self.tables = tables
    }

    public func lookupNow(_ key: String) throws(LookupError) -> String? {
        var found: [String] = []
        for table in tables {
            if let value = try table.lookupNow(key) { found.append(value) }
        }
        return found.isEmpty ? nil : found.joined(separator: ",")
    }
}

/// Splits `{a, b {c d}, e}` into top-level items separated by commas or whitespace; braces group.
enum BracedList {
    static let maximumDepth = 20

    static func items(_ text: String) -> [String]? {
        let trimmed = text.trimmingASCIIWhitespace
        guard trimmed.hasPrefix("{"), trimmed.hasSuffix("}"), trimmed.count >= 2 else { return nil }
        let inner = Array(trimmed.utf8.dropFirst().dropLast())
        var items: [String] = []
        var current: [UInt8] = []
        var depth = 0
        for byte in inner {
            if depth == 0 && (byte == UInt8(ascii: ",") || LogicalLineReader.isSpace(byte)) {
                if !current.isEmpty { items.append(String(decoding: current, as: UTF8.self)) }
                current = []
                continue
            }
            if byte == UInt8(ascii: "{") { depth += 1 }
            if byte == UInt8(ascii: "}") { depth -= 1 }
            guard depth >= 0, depth <= maximumDepth else { return nil }
            current.append(byte)
        }
        guard depth == 0 else { return nil }
        if !current.isEmpty { items.append(String(decoding: current, as: UTF8.self)) }
        return items
    }
}
