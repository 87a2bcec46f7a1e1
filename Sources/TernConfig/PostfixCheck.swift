import TernCore

/// One problem `postfix check` reports, already worded the way Postfix prints it.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case warning, fatal }

    /// The program Postfix would name: `postfix`, `/usr/sbin/postconf`, `postfix/postfix-script`.
    public let program: String
    public let severity: Severity
    /// The file and line the problem is in, when there is one.
    public let file: String?
    public let line: Int?
    public let message: String

    public var description: String { "\(program): \(severity.rawValue): \(message)" }
}

/// The configuration part of `postfix check` (postfix(1), postfix-script): main.cf must parse and
/// expand, master.cf must parse, and unused parameters are warned about. Checks of directories,
/// ownership and permissions are the caller's.
public enum PostfixCheck {
    /// Problems in `directory`'s main.cf and master.cf; a fatal one means `postfix check` fails.
    public static func check(directory: String) -> [ConfigProblem] {
        let mainPath = directory + "/main.cf"
        let main: MainConfig
        do throws(FileError) {
            main = try MainConfig.load(directory: directory)
        } catch {
            let message = error.line == nil ? error.message : error.description
            return [ConfigProblem(program: "postfix", severity: .fatal, file: mainPath, line: error.line, message: message)]
        }
        var problems: [ConfigProblem] = []
        for name in main.explicitNames where !ParameterRegistry.rawParameters.contains(name) {
            do throws(MacroError) {
                _ = try main.expandedValue(name)
            } catch {
                let line = main.entries.last(where: { $0.name == name })?.line
                problems.append(ConfigProblem(program: "postfix", severity: .warning, file: mainPath, line: line,
                                              message: error.postfixWarning))
                problems.append(ConfigProblem(program: "postfix", severity: .fatal, file: mainPath, line: line,
                                              message: "macro processing error"))
                return problems
            }
        }
        let postconf = main.value("command_directory") + "/postconf"
        let master: MasterConfig
        do throws(FileError) {
            master = try MasterConfig.load(directory: directory)
        } catch {
            let message = error.line == nil && error.message.hasPrefix("open ") ? error.message
                : MasterConfig.postconfText(error)
            problems.append(ConfigProblem(program: postconf, severity: .fatal, file: error.file, line: error.line,
                                          message: message))
            problems.append(ConfigProblem(program: "postfix/postfix-script", severity: .fatal, file: nil, line: nil,
                                          message: "cannot execute \(postconf)!"))
            return problems
        }
        let usage = ParameterUsage(main: main, master: master)
        for warning in main.parseWarnings + master.parseWarnings + usage.warnings {
            problems.append(ConfigProblem(program: postconf, severity: .warning, file: nil, line: nil, message: warning))
        }
        return problems
    }
}
