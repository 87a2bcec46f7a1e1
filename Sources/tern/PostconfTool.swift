import Foundation
import TernConfig

/// postconf(1): all of it lives in TernConfig.Postconf; this prints the result.
enum PostconfTool {
    static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        let output = Postconf.run(arguments: arguments, environment: environment)
        return ToolOutput(stdout: output.stdout, stderr: output.stderr, status: output.exitCode).emit()
    }
}

/// `postfix check`: configuration problems (fatal ones fail the check), then the queue directory.
/// Silent when all is well, as Postfix.
enum CheckCommand {
    static func run(config: MainConfig) -> Int32 {
        let problems = PostfixCheck.check(directory: config.configDirectory)
        for problem in problems {
            FileHandle.standardError.write(Data((problem.description + "\n").utf8))
        }
        return problems.contains { $0.severity == .fatal } ? 1 : 0
    }
}
