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

/// `tern libexec deliver --serve [--idle SECONDS]`: a persistent delivery worker the root master starts with
/// the recipient's uid (DESIGN.md §2); `tern libexec mtad`: the network-facing daemon it starts as mail_owner.
enum LibexecCommand {
    static func run(_ arguments: [String]) async -> Int32 {
        switch arguments.first {
        case "deliver":
            let options = Array(arguments.dropFirst())
            var idle = DeliveryWorker.defaultIdleTimeout
            switch options.count {
            case 1 where options[0] == "--serve": break
            case 3 where options[0] == "--serve" && options[1] == "--idle" && Int(options[2]).map({ $0 > 0 }) == true:
                idle = Int(options[2])!
            default:
                FileHandle.standardError.write(Data("usage: tern libexec deliver --serve [--idle seconds]\n".utf8))
                return 64
            }
            DeliveryWorker.runServerMain(idleTimeout: idle)
        case "mtad":
            var rest = Array(arguments.dropFirst())
            var directory: String?
            var foreground = false
            if rest.count >= 2, rest[0] == "-c" {
                directory = rest[1]
                rest.removeFirst(2)
            }
            if let flag = rest.firstIndex(of: "-f") {
                foreground = true
                rest.remove(at: flag)
            }
            guard let inherited = MTADaemon.Inherited(arguments: rest) else {
                FileHandle.standardError.write(Data("tern libexec mtad: bad arguments\n".utf8))
                return 64
            }
            let configDirectory = MainConfig.directory(cli: directory, environment: ProcessInfo.processInfo.environment)
            return await MTADaemon.runInherited(
                configDirectory: configDirectory, foreground: foreground, inherited: inherited)
        case "authd":
            return await AuthdCommand.run(Array(arguments.dropFirst()))
        case "dovecot-master" where arguments.count == 3 && arguments[1] == "-c":
            return await AccessDaemon.run(configPath: arguments[2], background: true)
        case "mail-login":
            return await AccessDaemon.runLogin(Array(arguments.dropFirst()))
        case "mail-session" where arguments.count == 2 && arguments[1] == "--serve":
            return MailSessionWorker.serve()
        case "mail-deliver" where arguments.count == 2:
            return MailSessionWorker.deliver(arguments[1])
        case "mail-quota-check" where arguments.count == 2:
            return MailSessionWorker.checkQuota(arguments[1])
        default:
            FileHandle.standardError.write(
                Data("usage: tern libexec deliver --serve | mtad ... | authd ... | mail-session --serve | mail-deliver REQUEST | mail-quota-check REQUEST\n".utf8))
            return 64
        }
    }
}
