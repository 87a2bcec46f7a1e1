import TernCore

/// Builds or updates an indexed map file from parsed records, applying postmap/postalias duplicate rules.
struct IndexedMapBuilder {
    let type: String
    let name: String
    let foldKeys: Bool
    let duplicates: DuplicatePolicy
    let output: ToolOutput

    var databasePath: String { name + IndexedMapTable.suffix(forType: type) }

    /// Starts from the existing file for incremental updates (`-i`), or from nothing.
    func initialRecords(incremental: Bool) throws(IndexedMapError) -> [(key: String, value: String)] {
        guard incremental, FileIdentity.of(databasePath) != nil else { return [] }
        return try IndexedMapFile(path: databasePath).entries()
    }

    /// Adds `records` to `existing`; the first value of a key wins unless the policy is replace.
    func merge(
        _ records: [(key: String, value: String)], into existing: [(key: String, value: String)],
        replaceAlways: Bool = false
    ) -> [(key: String, value: String)] {
        var values: [String: String] = [:]
        var order: [String] = []
        for record in existing where values[record.key] == nil {
            values[record.key] = record.value
            order.append(record.key)
        }
        for record in records {
            let key = foldKeys ? record.key.foldedKey : record.key
            if values[key] == nil {
                order.append(key)
                values[key] = record.value
                continue
            }
            switch replaceAlways ? .replace : duplicates {
            case .warn: output.warning("\(databasePath): duplicate entry: \"\(key)\"")
            case .replace: values[key] = record.value
            case .ignore: break
            }
        }
        return order.map { ($0, values[$0]!) }
    }

    /// Writes the file; its mode follows the source file's group/other read bits (postmap's SAVE_PERM).
    func write(_ records: [(key: String, value: String)], sourcePath: String?) throws(IndexedMapError) {
        var mode: UInt32 = 0o644
        if let sourcePath, let sourceMode = SourceFile.mode(sourcePath) { mode &= sourceMode | 0o700 }
        try IndexedMapWriter.write(records, flags: foldKeys ? [] : .caseSensitiveKeys, to: databasePath, mode: mode)
    }

    static func supportsBulkCreation(_ type: String) -> Bool { ["hash", "btree", "lmdb"].contains(type) }
}
