import Foundation
import TernConfig
import TernCore
import TernQueue
import TernServer

/// postqueue/mailq, postcat and postsuper over the configuration's queue_directory.
enum QueueTool {
    /// `postqueue -p | -f | -s site | -i id` (and `-c config_dir`).
    static func postqueue(_ arguments: [String], environment: [String: String]) async -> Int32 {
        let (directory, rest) = splitConfigOption(arguments)
        guard let config = loadConfig(directory, environment: environment, program: "postqueue") else { return 1 }
        let queue = QueueDirectory(path: config.value("queue_directory"))
        let log = MailLogFactory.make(config: config)
        var action: String?
        var operand: String?
        for argument in rest {
            switch argument {
            case "-p", "-f", "-s", "-i", "-j": action = argument
            case "-v": break
            default:
                if (action == "-s" || action == "-i") && operand == nil {
                    operand = argument
                    continue
                }
                return Diagnostics.fatal("postqueue", "usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site")
            }
        }
        switch action {
        case "-p", nil:
            let result = QueueListing.render(queue: queue, emptyAddress: config.value("empty_address_recipient"))
            return emit(result, log: log, program: "postqueue")
        case "-s":
            guard let site = operand else { return Diagnostics.fatal("postqueue", "usage: postqueue -s site") }
            if let failure = await SiteFlush.request(site, config: config) {
                log.log("postqueue", failure, severity: .fatal)
                return Diagnostics.fatal("postqueue", failure)
            }
            return 0
        case "-i":
            guard let text = operand, let id = QueueID(text) else {
                return Diagnostics.fatal("postqueue", "usage: postqueue -i queueid")
            }
            guard QueueTrigger.send(.flushMessage(id), queueDirectory: queue.path) else {
                return Diagnostics.fatal("postqueue", "Cannot flush mail queue - mail system is down")
            }
            return 0
        case "-f":
            guard QueueTrigger.send(.flush, queueDirectory: queue.path) else {
                return Diagnostics.fatal("postqueue", "Cannot flush mail queue - mail system is down")
            }
            return 0
        default:
            return Diagnostics.fatal("postqueue", "option \(action ?? "") is not supported by Tern")
        }
    }

    static func postcat(_ arguments: [String], environment: [String: String]) -> Int32 {
        let (directory, rest) = splitConfigOption(arguments)
        guard let config = loadConfig(directory, environment: environment, program: "postcat") else { return 1 }
        let queue = QueueDirectory(path: config.value("queue_directory"))
        return emit(PostCat.run(arguments: rest, queue: queue), log: MailLogFactory.make(config: config), program: "postcat")
    }

    static func postsuper(_ arguments: [String], environment: [String: String]) -> Int32 {
        let (directory, rest) = splitConfigOption(arguments)
        guard let config = loadConfig(directory, environment: environment, program: "postsuper") else { return 1 }
        if geteuid() != 0 && config.value("mail_owner") != currentUserName() {
            return Diagnostics.fatal("postsuper", "use of this command is reserved for the superuser")
        }
        let queue = QueueDirectory(path: config.value("queue_directory"))
        let result = PostSuper.run(arguments: rest, queue: queue) {
            String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        if result.exitCode == 0 { QueueTrigger.send(.wakeup, queueDirectory: queue.path) }
        return emit(result, log: MailLogFactory.make(config: config), program: "postsuper")
    }

    /// Removes `-c DIR` from the arguments (every Postfix tool takes it) and returns it.
    static func splitConfigOption(_ arguments: [String]) -> (String?, [String]) {
        var rest: [String] = []
        var directory: String?
        var index = 0
        while index < arguments.count {
            if arguments[index] == "-c", index + 1 < arguments.count {
                directory = arguments[index + 1]
                index += 2
                continue
            }
            rest.append(arguments[index])
            index += 1
        }
        return (directory, rest)
    }

    static func loadConfig(_ directory: String?, environment: [String: String], program: String) -> MainConfig? {
        do {
            return try MainConfig.load(directory: MainConfig.directory(cli: directory, environment: environment))
        } catch {
            _ = Diagnostics.fatal(program, "\(error)")
            return nil
        }
    }

    static func currentUserName() -> String {
        guard let entry = getpwuid(geteuid()) else { return "" }
        return String(cString: entry.pointee.pw_name)
    }

    private static func emit(_ result: ToolResult, log: MailLog, program: String) -> Int32 {
        if !result.stdout.isEmpty { FileHandle.standardOutput.write(Data(result.stdout)) }
        if !result.stderr.isEmpty { FileHandle.standardError.write(Data(result.stderr.utf8)) }
        for message in result.logMessages { log.info(program, message) }
        return result.exitCode
    }
}
