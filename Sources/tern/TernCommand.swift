import ArgumentParser
import Foundation
import TernCore
import TernServer

/// `tern <tool> ...` and Tern's own commands (link, demo, master, libexec), parsed by swift-argument-parser.
/// The Postfix tools keep Postfix's own getopt-style parsing (their options bundle and repeat like the
/// originals'), so they are dispatched before the parser sees them.
enum TernCommand {
    static func dispatch(_ arguments: [String]) async -> Int32 {
        if let first = arguments.first, let tool = Tool(rawValue: first) {
            return await tool.run(Array(arguments.dropFirst()))
        }
        do {
            var command = try Tern.parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            return 0
        } catch let exit as TernExit {
            return exit.status
        } catch {
            Tern.exit(withError: error)
        }
    }
}

/// A subcommand's exit status (the daemons and tools report theirs this way).
struct TernExit: Error {
    let status: Int32
}

struct Tern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "A mail server that runs on Postfix's configuration files.",
        discussion: "Postfix tools: tern \(Tool.allCases.map(\.rawValue).joined(separator: "|")) ... (or through the links of `tern link`).",
        version: TernVersion.string,
        subcommands: [Link.self, Demo.self, Master.self, Libexec.self])

    struct Link: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the tool links (postfix, postconf, postmap, ...) in a directory.")
        @Argument(help: "The directory for the links.") var directory: String

        func run() throws {
            let status = LinkCommand.run([directory])
            if status != 0 { throw TernExit(status: status) }
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the embedded demo configuration (if missing) and run it on 127.0.0.1:2525.")
        @Argument(help: "The demo folder.") var directory = "tern-demo"

        func run() async throws {
            let status = await DemoCommand.run([directory])
            if status != 0 { throw TernExit(status: status) }
        }
    }

    struct Master: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the MTA daemon (what `postfix start` starts in the background).")
        @Option(name: .customShort("c"), help: "The Postfix configuration directory.") var configDirectory: String?
        @Flag(name: .customShort("f"), help: "Stay in the foreground.") var foreground = false

        func run() async throws {
            var arguments = foreground ? ["-f"] : []
            if let configDirectory { arguments += ["-c", configDirectory] }
            let status = await MasterCommand.run(arguments)
            if status != 0 { throw TernExit(status: status) }
        }
    }

    struct Libexec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Internal programs the daemon starts (deliver, mtad).", shouldDisplay: false)
        @Argument(parsing: .captureForPassthrough) var arguments: [String] = []

        func run() async throws {
            let status = await LibexecCommand.run(arguments)
            if status != 0 { throw TernExit(status: status) }
        }
    }
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
