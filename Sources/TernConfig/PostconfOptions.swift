/// What `postconf` printed and how it ended. Diagnostics are lines without the `postconf: ` prefix
/// being assumed: each line is complete (`postconf: warning: ...`), as it goes to stderr.
public struct PostconfOutput: Sendable, Equatable {
    public var stdout: String
    public var stderr: [String]
    public var exitCode: Int32

    public init(stdout: String = "", stderr: [String] = [], exitCode: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }
}

/// postconf(1) command-line options, parsed getopt(3)-style (`-nx`, `-c DIR`, `-cDIR`, `--` ends options).
struct PostconfOptions: Equatable {
    enum Mode: Equatable {
        case parameters, edit, commentOut, remove, masterEntries, masterParameters
    }

    var configDirectory: String?
    var mode: Mode = .parameters
    var defaults = false
    var nonDefault = false
    var hideNames = false
    var hideValues = false
    var expand = false
    var fold = false
    var overrides: [(name: String, value: String)] = []
    var operands: [String] = []

    static func == (a: PostconfOptions, b: PostconfOptions) -> Bool {
        a.configDirectory == b.configDirectory && a.mode == b.mode && a.defaults == b.defaults
            && a.nonDefault == b.nonDefault && a.hideNames == b.hideNames && a.hideValues == b.hideValues
            && a.expand == b.expand && a.fold == b.fold && a.operands == b.operands
            && a.overrides.map { "\($0.name)=\($0.value)" } == b.overrides.map { "\($0.name)=\($0.value)" }
    }

    /// postconf's usage text, printed after an invalid option.
    static let usage =
        "postconf: fatal: usage: postconf [-a (server SASL types)] [-A (client SASL types)] [-b (bounce templates)] [-c config_dir] [-c param_class] [-d (parameter defaults)] [-e (edit configuration)] [-f (fold lines)] [-F (master.cf fields)] [-h (no names)] [-H (no values)] [-l (lock types)] [-m (map types)] [-M (master.cf)] [-n (non-default parameters)] [-o name=value (override parameter value)] [-p (main.cf, default)] [-P (master.cf parameters)] [-t (bounce templates)] [-T compile-version|run-version|public-key-algorithms] [-v (verbose)] [-x (expand parameter values)] [-X (exclude)] [-# (comment-out)] [name...]"

    /// Options Postfix has that Tern does not implement; they fail with a clear message.
    static let unsupported: Set<Character> = ["a", "A", "b", "C", "F", "l", "m", "t", "T"]

    /// Parses `arguments` (without the program name). Failure carries the stderr lines.
    static func parse(_ arguments: [String]) -> Result<PostconfOptions, PostconfFailure> {
        var options = PostconfOptions()
        var index = 0
        while index < arguments.count {
            let arg = arguments[index]
            if arg == "--" {
                index += 1
                break
            }
            guard arg.hasPrefix("-"), arg.count > 1 else {
                // glibc getopt(3) permutes: operands may come before options.
                options.operands.append(arg)
                index += 1
                continue
            }
            var flags = Substring(arg.dropFirst())
            while let flag = flags.first {
                flags = flags.dropFirst()
                switch flag {
                case "c", "o":
                    var value = String(flags)
                    flags = ""
                    if value.isEmpty {
                        index += 1
                        guard index < arguments.count else {
                            return .failure(PostconfFailure(["postconf: option requires an argument -- '\(flag)'", usage]))
                        }
                        value = arguments[index]
                    }
                    if flag == "c" {
                        options.configDirectory = value
                    } else {
                        switch NameValue.split(value) {
                        case .success(let pair): options.overrides.append(pair)
                        case .failure(let error):
                            return .failure(PostconfFailure(["postconf: fatal: \(error.text): \"\(value)\""]))
                        }
                    }
                case "d": options.defaults = true
                case "n": options.nonDefault = true
                case "h": options.hideNames = true
                case "H": options.hideValues = true
                case "x": options.expand = true
                case "f": options.fold = true
                case "p": options.mode = .parameters
                case "e": options.mode = .edit
                case "#": options.mode = .commentOut
                case "X": options.mode = .remove
                case "M": options.mode = .masterEntries
                case "P": options.mode = .masterParameters
                case "v": break
                default:
                    if unsupported.contains(flag) {
                        return .failure(PostconfFailure(["postconf: fatal: option -\(flag) is not supported by Tern"]))
                    }
                    return .failure(PostconfFailure(["postconf: invalid option -- '\(flag)'", usage]))
                }
            }
            index += 1
        }
        options.operands += arguments[index...]
        return .success(options)
    }
}

struct PostconfFailure: Error {
    let lines: [String]
    init(_ lines: [String]) { self.lines = lines }
}
