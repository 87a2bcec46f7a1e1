import Foundation
import TernServer

/// doveadm's options before the command: `-c FILE`, `-o key=value`, `-f FORMATTER`, `-D` and `-v`.
struct DoveadmGlobalOptions {
    var configPath = "/etc/dovecot/dovecot.conf"
    var overrides: [String] = []
    var formatter: DoveadmPrinter.Formatter?
    /// -D and -v: auth and userdb lines go to stderr.
    var verbose = false

    static func parse(_ arguments: [String]) -> (DoveadmGlobalOptions, ArraySlice<String>)? {
        var options = DoveadmGlobalOptions()
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("-"), first.count > 1 {
            rest = rest.dropFirst()
            if first == "--" { break }
            for letter in first.dropFirst() {
                switch letter {
                case "D", "v": options.verbose = true
                case "c", "o", "f":
                    guard let value = rest.first else {
                        _ = DoveadmTool.fail(DoveadmTool.usage, "doveadm: option requires an argument -- '\(letter)'")
                        return nil
                    }
                    rest = rest.dropFirst()
                    guard options.set(letter, value) else { return nil }
                default:
                    _ = DoveadmTool.fail(DoveadmTool.usage, "doveadm: invalid option -- '\(letter)'")
                    return nil
                }
            }
        }
        return (options, rest)
    }

    private mutating func set(_ letter: Character, _ value: String) -> Bool {
        switch letter {
        case "c": configPath = value
        case "o":
            guard value.contains("=") else {
                _ = DoveadmTool.fail(DoveadmTool.usage, "Fatal: -o parameter must be given as key=value: \(value)")
                return false
            }
            overrides.append(value)
        default:
            guard let chosen = DoveadmPrinter.Formatter(rawValue: value) else {
                _ = DoveadmTool.fail(DoveadmTool.usage, "Fatal: Unknown output formatter: \(value)")
                return false
            }
            formatter = chosen
        }
        return true
    }

    /// dovecot.conf with the -o overrides, or the doveconf error printed and nil.
    func settings() -> AccessSettings? {
        do {
            return try AccessSettings.loadForDoveadm(path: configPath, overrides: overrides)
        } catch {
            _ = DoveadmTool.fail(DoveadmTool.configFailure, "\(error)")
            return nil
        }
    }

    /// Auth log lines (auth_verbose, userdb errors) go to stderr with -D/-v, else nowhere.
    func authLog() -> DovecotLog { DovecotLog(path: verbose ? "/dev/stderr" : "/dev/null") }

    func printer(default formatter: DoveadmPrinter.Formatter, output: DoveadmOutput) -> DoveadmPrinter {
        DoveadmPrinter(self.formatter ?? formatter, write: output.write)
    }
}

/// Standard output, written in large pieces; the printer and plain messages share it, so their order holds.
final class DoveadmOutput {
    private var buffer: [UInt8] = []

    func write(_ bytes: [UInt8]) {
        buffer += bytes
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func flush() {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
