import TernConfig

/// doveconf(1): all of it lives in TernConfig.Doveconf; this prints the result.
enum DoveconfTool {
    static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        let output = Doveconf.run(arguments: arguments, environment: environment)
        return ToolOutput(stdout: output.stdout, stderr: output.stderr, status: output.exitCode).emit()
    }
}
