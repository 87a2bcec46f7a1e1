import Foundation
import TernConfig
import TernDelivery
import TernServer

/// `tern master [-c DIR] [-f]`: the MTA daemon itself (`postfix start` runs it in the background,
/// `postfix start-fg` and `-f` in the foreground).
enum MasterCommand {
    static func run(_ arguments: [String]) async -> Int32 {
        var directory: String?
        var foreground = false
        var index = 0
        while index < arguments.count {
            switch arguments[index] {
            case "-c" where index + 1 < arguments.count:
                directory = arguments[index + 1]
                index += 1
            case "-f": foreground = true
            default:
                FileHandle.standardError.write(Data("usage: tern master [-c config_dir] [-f]\n".utf8))
                return 64
            }
            index += 1
        }
        let configDirectory = MainConfig.directory(cli: directory, environment: ProcessInfo.processInfo.environment)
        return await MTADaemon.run(configDirectory: configDirectory, foreground: foreground)
    }
}

/// `tern libexec deliver`: the delivery worker a daemon spawns with the recipient's uid (DESIGN.md §2).
enum LibexecCommand {
    static func run(_ arguments: [String]) async -> Int32 {
        switch arguments.first {
        case "deliver":
            DeliveryWorker.runWorkerMain()
        default:
            FileHandle.standardError.write(Data("usage: tern libexec deliver\n".utf8))
            return 64
        }
    }
}
