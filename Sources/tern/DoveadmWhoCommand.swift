import Foundation
import TernServer

extension DoveadmTool {
    /// `doveadm who [-a <anvil socket path>] [-1] [<user mask>] [<ip/bits>]`: who is logged in, from the
    /// running daemon's anvil socket (`base_dir/anvil`).
    static func who(_ global: DoveadmGlobalOptions, _ arguments: [String]) -> Int32 {
        guard let (values, operands) = options(arguments, withValue: ["a"], flags: ["1"], command: "who") else {
            return usage
        }
        let filter: DoveadmWho.Filter
        do {
            filter = try DoveadmWho.Filter(operands)
        } catch {
            return fail(usage, "Error: \(error)")
        }
        let anvilPath: String
        if let path = values.last(where: { $0.0 == "a" })?.1 {
            anvilPath = path
        } else {
            guard let settings = global.settings() else { return configFailure }
            anvilPath = settings.baseDirectory + "/anvil"
        }
        let lines: [DoveadmWho.Line]
        do {
            lines = try DoveadmWho.query(anvilPath: anvilPath)
        } catch {
            return fail(tempFail, "Fatal: \(error)")
        }
        let output = DoveadmOutput()
        defer { output.flush() }
        DoveadmWho.print(
            lines, filter: filter, oneLine: values.contains { $0.0 == "1" },
            printer: global.printer(default: .table, output: output))
        return 0
    }
}
