import Foundation
import TernCore

/// postmap(1): build indexed tables from `key value` text, query (`-q`), list (`-s`) and delete (`-d`).
/// `postmap [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] [type:]file...`
public enum Postmap {
    static let optionSpec = "Nbc:d:fFhimnopq:rsuUvw"
    static let usage = "usage: postmap [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file..."

    /// Runs postmap. `arguments` exclude the program name. `settings` receives the config directory
    /// (`-c`, else `MAIL_CONFIG`, else /etc/postfix) and returns main.cf values; its error is printed as fatal.
    public static func run(
        arguments: [String], stdin: [UInt8] = [], environment: [String: String] = [:],
        settings: (String) throws -> MapToolSettings = { _ in MapToolSettings() }
    ) -> MapToolResult {
        MapTool(program: "postmap", aliases: false).run(arguments, stdin: stdin, environment: environment, settings)
    }
}

/// postalias(1) and newaliases: aliases(5) text into an indexed file, with the same query modes.
public enum Postalias {
    static let optionSpec = "Nc:d:finopq:rsvw"
    static let usage = "usage: postalias [-Nfinoprsvw] [-c config_dir] [-d key] [-q key] [map_type:]file..."

    public static func run(
        arguments: [String], stdin: [UInt8] = [], environment: [String: String] = [:],
        settings: (String) throws -> MapToolSettings = { _ in MapToolSettings() }
    ) -> MapToolResult {
        MapTool(program: "postalias", aliases: true).run(arguments, stdin: stdin, environment: environment, settings)
    }

    /// newaliases: postalias on each entry of `alias_database` (the CLI passes the list).
    public static func newaliases(
        aliasDatabases: [String], settings: MapToolSettings = MapToolSettings()
    ) -> MapToolResult {
        guard !aliasDatabases.isEmpty else { return MapToolResult(stdout: "", stderr: "", exitCode: 0) }
        return run(arguments: aliasDatabases, settings: { _ in settings })
    }
}

/// The shared engine of postmap and postalias.
struct MapTool {
    let program: String
    let aliases: Bool

    func run(
        _ arguments: [String], stdin: [UInt8], environment: [String: String],
        _ settingsFor: (String) throws -> MapToolSettings
    ) -> MapToolResult {
        let output = ToolOutput(program: program)
        let usage = aliases ? Postalias.usage : Postmap.usage
        let options: ToolOptions
        do throws(ToolOptions.Failure) {
            options = try ToolOptions(arguments, spec: aliases ? Postalias.optionSpec : Postmap.optionSpec)
        } catch {
            switch error {
            case .invalid(let option): output.raw("invalid option -- '\(option)'")
            case .missingArgument(let option): output.raw("option requires an argument -- '\(option)'")
            }
            return output.fatal(usage)
        }
        let modes = options.flags.filter { "sqd".contains($0) }
        if modes.count > 1 { return output.fatal("specify only one of -s or -q or -d") }
        if options.has("F") || options.has("b") || options.has("h") || options.has("m") {
            return output.fatal("options -b, -F, -h and -m are not supported by this postmap")
        }
        let configDirectory = options.values["c"] ?? environment["MAIL_CONFIG"] ?? "/etc/postfix"
        let settings: MapToolSettings
        do {
            settings = try settingsFor(configDirectory)
        } catch {
            return output.fatal("\(error)")
        }
        let fold = !options.has("f")
        let openOptions = MapOpenOptions(foldKeys: fold, warn: { output.warning($0) })
        let maps = options.operands
        guard !maps.isEmpty else { return output.fatal(usage) }
        let defaultType = settings.defaultDatabaseType
        do throws(LookupError) {
            if let key = options.values["q"] {
                return try query(key, maps: maps, stdin: stdin, defaultType: defaultType, options: openOptions, output)
            }
            if options.has("s") {
                return try sequence(maps[0], defaultType: defaultType, options: openOptions, output)
            }
            if let key = options.values["d"] {
                let keys = key == "-" ? inputLines(stdin) : [key]
                var found = false
                for map in maps {
                    let (type, name) = splitMapName(map, defaultType: defaultType)
                    found = try delete(keys, type: type, name: name, fold: fold, output) || found
                }
                return output.finish(found ? 0 : 1)
            }
        } catch {
            return output.fatal(error.reason)
        }
        let duplicates: DuplicatePolicy = options.has("r") ? .replace : options.has("w") ? .ignore : .warn
        for map in maps {
            let (type, name) = splitMapName(map, defaultType: defaultType)
            let builder = IndexedMapBuilder(type: type, name: name, foldKeys: fold, duplicates: duplicates, output: output)
            if let failure = build(builder, incremental: options.has("i"), stdin: stdin, settings: settings) {
                return output.fatal(failure)
            }
        }
        return output.finish(0)
    }

    private func query(
        _ key: String, maps: [String], stdin: [UInt8], defaultType: String, options: MapOpenOptions,
        _ output: ToolOutput
    ) throws(LookupError) -> MapToolResult {
        var tables: [any SynchronousLookupTable] = []
        func table(_ index: Int) throws(LookupError) -> any SynchronousLookupTable {
            while tables.count <= index {  // opened lazily, like Postfix, so unused maps need not exist
                let (type, name) = splitMapName(maps[tables.count], defaultType: defaultType)
                guard let opened = try MapOpener.open("\(type):\(name)", options: options) as? any SynchronousLookupTable
                else { throw LookupError(spec: maps[tables.count], reason: "unsupported table \(maps[tables.count])") }
                tables.append(opened)
            }
            return tables[index]
        }
        if key != "-" {
            for index in maps.indices {
                if let value = try table(index).lookupNow(key) {
                    output.print(value)
                    return output.finish(0)
                }
            }
            return output.finish(1)
        }
        var found = false
        for line in inputLines(stdin) {
            for index in maps.indices {
                if let value = try table(index).lookupNow(line) {
                    output.print(aliases ? "\(line):\t\(value)" : "\(line)\t\(value)")
                    found = true
                    break
                }
            }
        }
        return output.finish(found ? 0 : 1)
    }

    private func sequence(
        _ map: String, defaultType: String, options: MapOpenOptions, _ output: ToolOutput
    ) throws(LookupError) -> MapToolResult {
        let (type, name) = splitMapName(map, defaultType: defaultType)
        let spec = "\(type):\(name)"
        guard let table = try MapOpener.open(spec, options: options) as? any EnumerableLookupTable else {
            throw LookupError(spec: spec, reason: "table \(spec): sequence operation is not supported")
        }
        for entry in try table.allEntries() {
            output.print(aliases ? "\(entry.key):\t\(entry.value)" : "\(entry.key)\t\(entry.value)")
        }
        return output.finish(0)
    }

    private func delete(
        _ keys: [String], type: String, name: String, fold: Bool, _ output: ToolOutput
    ) throws(LookupError) -> Bool {
        let builder = IndexedMapBuilder(type: type, name: name, foldKeys: fold, duplicates: .warn, output: output)
        guard IndexedMapBuilder.supportsBulkCreation(type) else {
            throw LookupError(spec: "\(type):\(name)", reason: "unsupported dictionary type: \(type)")
        }
        do throws(IndexedMapError) {
            var records = try IndexedMapFile(path: builder.databasePath).entries()
            let remove = Set(keys.map { fold ? $0.foldedKey : $0 })
            let before = records.count
            records.removeAll { remove.contains($0.key) }
            guard records.count != before else { return false }
            try builder.write(records, sourcePath: builder.databasePath)
            return true
        } catch {
            throw LookupError(spec: "\(type):\(name)", reason: error.reason)
        }
    }

    /// Returns a fatal message, or nil on success.
    private func build(
        _ builder: IndexedMapBuilder, incremental: Bool, stdin: [UInt8], settings: MapToolSettings
    ) -> String? {
        guard IndexedMapBuilder.supportsBulkCreation(builder.type) else {
            if MapOpener.supportedTypes.contains(builder.type) {
                return "unsupported dictionary type: \(builder.type) does not support bulk-mode creation."
            }
            return "unsupported dictionary type: \(builder.type)"
        }
        let sourceName = incremental ? "stdin" : builder.name
        let bytes: [UInt8]
        if incremental {
            bytes = stdin
        } else {
            do throws(SourceFile.Failure) {
                bytes = try SourceFile.read(builder.name)
            } catch {
                return error.reason
            }
        }
        do {
            var records: [(key: String, value: String)]
            let warn = { (message: String) in builder.output.warning(message) }
            if aliases {
                records = try AliasFile.parse(bytes, file: sourceName, warn: warn).map { ($0.name, $0.value) }
            } else {
                records = try MapSourceParser.parse(bytes, file: sourceName, warn: warn).map { ($0.key, $0.value) }
            }
            var merged = builder.merge(records, into: try builder.initialRecords(incremental: incremental))
            if aliases {
                // Sendmail's "@: @" completeness signature and the NIS stamps, stored unfolded as Postfix does.
                merged = builder.merge([("@", "@")], into: merged, replaceAlways: true)
                merged.removeAll { $0.key == "YP_LAST_MODIFIED" || $0.key == "YP_MASTER_NAME" }
                let now = Int(Date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate)
                merged.append(("YP_LAST_MODIFIED", String(format: "%010ld", now)))
                merged.append(("YP_MASTER_NAME", settings.myhostname))
            }
            try builder.write(merged, sourcePath: incremental ? nil : builder.name)
        } catch let error as FileError {
            return error.description
        } catch let error as IndexedMapError {
            return error.reason
        } catch {
            return "\(error)"
        }
        return nil
    }
}
