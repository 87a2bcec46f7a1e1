import Foundation

// Multi-call entry point (DESIGN.md §1): run as `postconf`, `mailq`, ... through the links `tern link DIR`
// makes, or as `tern <tool> ...`.
let invokedAs = (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent }) ?? "tern"
let exitCode: Int32
if let tool = Tool(rawValue: invokedAs) {
    exitCode = await tool.run(Array(CommandLine.arguments.dropFirst()))
} else {
    exitCode = await TernCommand.dispatch(Array(CommandLine.arguments.dropFirst()))
}
exit(exitCode)
