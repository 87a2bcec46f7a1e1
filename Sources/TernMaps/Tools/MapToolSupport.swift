import Glibc
import Synchronization

/// Settings postmap/postalias take from main.cf; the CLI reads the config directory and fills them in.
public struct MapToolSettings: Sendable {
    /// `default_database_type`, used when a table is named without `type:`.
    public var defaultDatabaseType: String
    /// `myhostname`, recorded by postalias as `YP_MASTER_NAME`.
    public var myhostname: String

    public init(defaultDatabaseType: String = "hash", myhostname: String? = nil) {
        self.defaultDatabaseType = defaultDatabaseType
        self.myhostname = myhostname ?? MapToolSettings.systemHostname()
    }

    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// What a tool run printed and its exit status.
public struct MapToolResult: Sendable, Equatable {
    public var stdout: String
    public var stderr: String
    public var exitCode: Int32
}

/// Collects output; warnings may arrive from table loaders, hence the lock.
final class ToolOutput: Sendable {
    let program: String
    private let streams = Mutex<(out: String, err: String)>(("", ""))

    init(program: String) { self.program = program }

    func print(_ line: String) { streams.withLock { $0.out += line + "\n" } }
    func warning(_ message: String) { streams.withLock { $0.err += "\(program): warning: \(message)\n" } }
    func raw(_ message: String) { streams.withLock { $0.err += "\(program): \(message)\n" } }

    func finish(_ code: Int32) -> MapToolResult {
        streams.withLock { MapToolResult(stdout: $0.out, stderr: $0.err, exitCode: code) }
    }

    func fatal(_ message: String) -> MapToolResult {
        streams.withLock { $0.err += "\(program): fatal: \(message)\n" }
        return finish(1)
    }
}

/// getopt(3) with Postfix's "+" (no permutation): options end at the first operand or `--`.
struct ToolOptions {
    var flags: [Character] = []
    var values: [Character: String] = [:]
    var operands: [String] = []

    enum Failure: Error {
        case invalid(Character)
        case missingArgument(Character)
    }

    init(_ arguments: [String], spec: String) throws(Failure) {
        var index = 0
        let takesValue = Set(spec.enumerated().compactMap { offset, character in
            let next = spec.index(spec.startIndex, offsetBy: offset + 1, limitedBy: spec.endIndex)
            return next.map { $0 < spec.endIndex && spec[$0] == ":" } == true ? character : nil
        })
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                index += 1
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else { break }
            var characters = Substring(argument.dropFirst())
            while let option = characters.first {
                characters = characters.dropFirst()
                guard option != ":", spec.contains(option) else { throw .invalid(option) }
                if takesValue.contains(option) {
                    if !characters.isEmpty {
                        values[option] = String(characters)
                    } else if index + 1 < arguments.count {
                        index += 1
                        values[option] = arguments[index]
                    } else {
                        throw .missingArgument(option)
                    }
                    flags.append(option)
                    break
                }
                flags.append(option)
            }
            index += 1
        }
        operands = Array(arguments[index...])
    }

    func has(_ option: Character) -> Bool { flags.contains(option) }
}

/// How duplicate keys are handled while building (postmap/postalias -r, -w).
enum DuplicatePolicy {
    case warn, replace, ignore
}

/// Splits `type:name`, using the default type for a bare name.
func splitMapName(_ argument: String, defaultType: String) -> (type: String, name: String) {
    if let colon = argument.firstIndex(of: ":") {
        return (String(argument[..<colon]), String(argument[argument.index(after: colon)...]))
    }
    return (defaultType, argument)
}

/// Reads standard input lines without their newlines (vstring_get_nonl), for `-q -` and `-d -`.
func inputLines(_ bytes: [UInt8]) -> [String] {
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    if lines.last == "" { lines.removeLast() }
    return lines
}
