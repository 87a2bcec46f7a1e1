import Foundation
import TernCore
import TernServer

/// `tern <tool> ...` and Tern's own commands (link, demo, master, libexec).
enum TernCommand {
    static func dispatch(_ arguments: [String]) async -> Int32 {
        guard let first = arguments.first else {
            FileHandle.standardError.write(Data(usage.utf8))
            return 64
        }
        let rest = Array(arguments.dropFirst())
        if let tool = Tool(rawValue: first) { return await tool.run(rest) }
        switch first {
        case "link": return LinkCommand.run(rest)
        case "master": return await MasterCommand.run(rest)
        case "demo": return await DemoCommand.run(rest)
        case "libexec": return await LibexecCommand.run(rest)
        case "-h", "--help", "help":
            print(usage, terminator: "")
            return 0
        case "--version", "version":
            print("tern \(TernVersion.string)")
            return 0
        default:
            FileHandle.standardError.write(Data("tern: unknown command '\(first)'\n\(usage)".utf8))
            return 64
        }
    }

    static let usage = """
        usage: tern <command> [arguments]
          link DIR            make the tool links (postfix, postconf, postmap, ...) in DIR
          demo [DIR]          create an embedded demo configuration (default ./tern-demo) and run it
          master [-c DIR]     run the MTA daemon in the foreground (what `postfix start` starts)
          <tool> ...          run a Postfix tool: \(Tool.allCases.map(\.rawValue).joined(separator: ", "))

        """
}

/// `tern link DIR`: one symlink per tool name, pointing at this executable.
enum LinkCommand {
    static func run(_ arguments: [String]) -> Int32 {
        guard arguments.count == 1, let directory = arguments.first else {
            FileHandle.standardError.write(Data("usage: tern link DIR\n".utf8))
            return 64
        }
        let target = DaemonStarter.executablePath()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for tool in Tool.allCases {
                let link = directory + "/" + tool.rawValue
                unlink(link)
                try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
            }
        } catch {
            FileHandle.standardError.write(Data("tern: link: \(error)\n".utf8))
            return 1
        }
        return 0
    }
}
