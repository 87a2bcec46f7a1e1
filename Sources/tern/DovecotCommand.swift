import Foundation
import TernConfig
import TernCore
import TernServer

/// dovecot(1): `dovecot [-F] [-c FILE]` starts the mail-access daemon (in the background unless -F, returning
/// once it listens), `dovecot [-c FILE] stop|reload` signals the running one, `dovecot --version`.
enum DovecotCommand {
    static func run(_ arguments: [String], environment: [String: String]) async -> Int32 {
        var configPath = environment["DOVECOT_CONFIG"] ?? DovecotConfig.defaultPath
        var foreground = false
        var command: String?
        var rest = arguments[...]
        while let argument = rest.first {
            rest = rest.dropFirst()
            switch argument {
            case "-c":
                guard let value = rest.first else { return usage() }
                configPath = value
                rest = rest.dropFirst()
            case "-F": foreground = true
            case "--version":
                FileHandle.standardOutput.write(Data("2.3.19.1 (Tern \(TernVersion.string))\n".utf8))
                return 0
            case "stop", "reload":
                command = argument
            default:
                return usage()
            }
        }
        if let command { return signal(command, configPath: configPath) }
        if foreground { return await AccessDaemon.run(configPath: configPath, background: false) }
        // Check the configuration here, so that its errors reach the caller's terminal.
        do {
            _ = try AccessSettings.load(path: configPath)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 89
        }
        do {
            _ = try DaemonStarter.start(
                arguments: ["libexec", "dovecot-master", "-c", configPath], environment: environment)
            return 0
        } catch {
            FileHandle.standardError.write(Data("Fatal: \(error)\n".utf8))
            return 89
        }
    }

    /// `dovecot stop` (SIGTERM, then wait for the master to go) and `dovecot reload` (SIGHUP).
    static func signal(_ command: String, configPath: String) -> Int32 {
        let settings: AccessSettings
        do {
            settings = try AccessSettings.load(path: configPath)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 89
        }
        guard let pid = PidFile(path: settings.pidFile).runningPid() else {
            FileHandle.standardError.write(Data("Fatal: Dovecot is not running (read from \(settings.pidFile))\n".utf8))
            return 89
        }
        kill(pid, command == "stop" ? SIGTERM : SIGHUP)
        guard command == "stop" else { return 0 }
        let deadline = Date().addingTimeInterval(30)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
        return 0
    }

    static func usage() -> Int32 {
        FileHandle.standardError.write(Data("Usage: dovecot [-F] [-c <config file>] [stop|reload|--version]\n".utf8))
        return 64
    }
}
