import Foundation
import TernConfig
import TernCore
import TernServer

/// `postfix [-c config_dir] [-Dv] command`: start, start-fg, stop, abort, reload, status, flush, check,
/// with the messages of Postfix's postfix-script (on stderr when it is a terminal, and in the mail log).
enum PostfixCommand {
    static func run(_ arguments: [String], environment: [String: String]) async -> Int32 {
        var configDirectory: String?
        var command: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "-c":
                index += 1
                guard index < arguments.count else { return Diagnostics.fatal("postfix", "option -c requires a value") }
                configDirectory = arguments[index]
            case "-D", "-v", "-vv": break
            default:
                if command == nil { command = argument } else {
                    return Diagnostics.fatal("postfix", "usage: postfix [-c config_dir] [-Dv] command")
                }
            }
            index += 1
        }
        let directory = MainConfig.directory(cli: configDirectory, environment: environment)
        guard let command else { return Diagnostics.fatal("postfix", "usage: postfix [-c config_dir] [-Dv] command") }

        let config: MainConfig
        do {
            config = try MainConfig.load(directory: directory)
        } catch {
            return Diagnostics.fatal("postconf", "\(error)")
        }
        let script = ScriptLog(config: config)
        let queueDirectory = config.value("queue_directory")
        let pidFile = PidFile(queueDirectory: queueDirectory)

        switch command {
        case "check":
            return CheckCommand.run(config: config)
        case "start", "start-fg":
            if CheckCommand.run(config: config) != 0 { return 1 }
            if let pid = pidFile.runningPid() {
                _ = pid
                return script.fatal("the Postfix mail system is already running")
            }
            script.info("starting the Postfix mail system")
            if command == "start-fg" {
                return await MasterCommand.run(["-c", directory, "-f"])
            }
            do {
                var env = environment
                env["MAIL_CONFIG"] = directory
                _ = try DaemonStarter.start(arguments: ["master", "-c", directory], environment: env)
                return 0
            } catch {
                return script.fatal("\(error)")
            }
        case "stop", "abort":
            guard let pid = pidFile.runningPid() else { return script.fatal("the Postfix mail system is not running") }
            script.info(command == "stop" ? "stopping the Postfix mail system" : "aborting the Postfix mail system")
            kill(pid, command == "stop" ? SIGTERM : SIGKILL)
            let deadline = Date().addingTimeInterval(60)
            while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
            if command == "abort" { pidFile.remove() }
            return 0
        case "reload":
            guard let pid = pidFile.runningPid() else { return script.fatal("the Postfix mail system is not running") }
            script.info("refreshing the Postfix mail system")
            kill(pid, SIGHUP)
            return 0
        case "status":
            guard let pid = pidFile.runningPid() else {
                script.info("the Postfix mail system is not running")
                return 1
            }
            script.info("the Postfix mail system is running: PID: \(pid)")
            return 0
        case "flush":
            return await QueueTool.postqueue(["-c", directory, "-f"], environment: environment)
        case "set-permissions", "upgrade-configuration", "post-install", "tls":
            return 0
        default:
            return Diagnostics.fatal("postfix", "unknown command: '\(command)'. Usage: postfix start (or stop, reload, abort, flush, check, status, start-fg)")
        }
    }
}

/// postfix-script's messages: `postfix/postfix-script: starting the Postfix mail system`.
struct ScriptLog {
    let log: MailLog?

    init(config: MainConfig) {
        log = MailLogFactory.make(config: config)
    }

    func info(_ message: String) {
        log?.info("postfix-script", message)
        if Diagnostics.stderrIsTerminal {
            FileHandle.standardError.write(Data("postfix/postfix-script: \(message)\n".utf8))
        }
    }

    func fatal(_ message: String) -> Int32 {
        log?.log("postfix-script", message, severity: .fatal)
        FileHandle.standardError.write(Data("postfix/postfix-script: fatal: \(message)\n".utf8))
        return 1
    }
}
