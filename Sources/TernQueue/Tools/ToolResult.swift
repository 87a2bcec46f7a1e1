/// What a queue tool prints and returns, for the `tern` CLI to write out. stdout is bytes because
/// postcat copies message content, which need not be UTF-8. `logMessages` are the lines Postfix also
/// sends to syslog (e.g. `0C261A1F0F: removed`), for the caller's MailLog.
public struct ToolResult: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: String
    public var exitCode: Int32
    public var logMessages: [String]

    public init(stdout: [UInt8] = [], stderr: String = "", exitCode: Int32 = 0, logMessages: [String] = []) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
        self.logMessages = logMessages
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    mutating func out(_ text: String) { stdout += Array(text.utf8) }

    /// `program: fatal: text` on stderr, exit status 1 (msg_fatal).
    static func fatal(_ program: String, _ text: String, partial: ToolResult = ToolResult()) -> ToolResult {
        var result = partial
        result.stderr += "\(program): fatal: \(text)\n"
        result.exitCode = 1
        return result
    }
}

/// A minimal getopt(3) for the Postfix tools' option strings (`"bc:deh"`): clustered flags, attached or
/// separate option arguments, `--` ends options. Returns the options in order and the operands.
enum GetOpt {
    enum Failure: Error { case invalid(Character), missingArgument(Character) }

    static func parse(_ arguments: [String], spec: String) throws(Failure) -> ([(Character, String?)], [String]) {
        var takesArgument: [Character: Bool] = [:]
        var chars = Array(spec)
        var i = 0
        while i < chars.count {
            let hasArg = i + 1 < chars.count && chars[i + 1] == ":"
            takesArgument[chars[i]] = hasArg
            i += hasArg ? 2 : 1
        }
        chars = []
        var options: [(Character, String?)] = []
        var index = 0
        while index < arguments.count {
            let arg = arguments[index]
            if arg == "--" { index += 1; break }
            guard arg.hasPrefix("-"), arg.count > 1 else { break }
            var letters = Array(arg.dropFirst())
            while !letters.isEmpty {
                let letter = letters.removeFirst()
                guard let hasArg = takesArgument[letter] else { throw .invalid(letter) }
                if hasArg {
                    if !letters.isEmpty {
                        options.append((letter, String(letters)))
                    } else if index + 1 < arguments.count {
                        index += 1
                        options.append((letter, arguments[index]))
                    } else {
                        throw .missingArgument(letter)
                    }
                    letters = []
                } else {
                    options.append((letter, nil))
                }
            }
            index += 1
        }
        return (options, Array(arguments[index...]))
    }

    /// glibc's diagnostic for a bad option, which the Postfix tools let through before their usage line.
    static func message(_ program: String, _ failure: Failure) -> String {
        switch failure {
        case .invalid(let c): return "\(program): invalid option -- '\(c)'\n"
        case .missingArgument(let c): return "\(program): option requires an argument -- '\(c)'\n"
        }
    }
}
