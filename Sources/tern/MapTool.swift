import Foundation
import TernConfig
import TernMaps

/// postmap, postalias and newaliases: thin wrappers over TernMaps's tools with main.cf settings.
enum MapTool {
    static func postmap(_ arguments: [String], environment: [String: String]) async -> Int32 {
        let input = needsStdin(arguments) ? readStandardInput() : []
        return emit(Postmap.run(arguments: arguments, stdin: input, environment: environment, settings: settings))
    }

    static func postalias(_ arguments: [String], environment: [String: String]) async -> Int32 {
        let input = needsStdin(arguments) ? readStandardInput() : []
        return emit(Postalias.run(arguments: arguments, stdin: input, environment: environment, settings: settings))
    }

    /// newaliases: rebuild every table in alias_database (`newaliases -oA/path` names one directly).
    static func newaliases(_ arguments: [String], environment: [String: String]) async -> Int32 {
        let directory = MainConfig.directory(cli: nil, environment: environment)
        do {
            let config = try MainConfig.load(directory: directory)
            var databases = try config.list("alias_database")
            for argument in arguments where argument.hasPrefix("-oA") {
                databases = [String(argument.dropFirst(3))]
            }
            return emit(Postalias.newaliases(aliasDatabases: databases, settings: try settings(directory)))
        } catch {
            return Diagnostics.fatal("newaliases", "\(error)")
        }
    }

    static func settings(_ directory: String) throws -> MapToolSettings {
        let config = try MainConfig.load(directory: directory)
        return MapToolSettings(
            defaultDatabaseType: config.value("default_database_type"), myhostname: config.value("myhostname"))
    }

    /// `-q -` and `-i` read standard input; nothing else does (a terminal must not block).
    private static func needsStdin(_ arguments: [String]) -> Bool {
        for (index, argument) in arguments.enumerated() {
            if argument == "-i" || (argument.hasPrefix("-") && !argument.hasPrefix("-c") && argument.contains("i")
                && !argument.contains("q") && !argument.contains("d")) { return true }
            if argument.hasSuffix("q"), index + 1 < arguments.count, arguments[index + 1] == "-" { return true }
        }
        return false
    }

    private static func readStandardInput() -> [UInt8] {
        [UInt8](FileHandle.standardInput.readDataToEndOfFile())
    }

    private static func emit(_ result: MapToolResult) -> Int32 {
        if !result.stdout.isEmpty { FileHandle.standardOutput.write(Data(result.stdout.utf8)) }
        if !result.stderr.isEmpty { FileHandle.standardError.write(Data(result.stderr.utf8)) }
        return result.exitCode
    }
}
