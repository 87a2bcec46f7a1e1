import Foundation
import TernAuth
import TernConfig
import TernServer

extension DoveadmTool {
    /// What doveconf-style configuration errors exit with (Dovecot's FATAL_DEFAULT).
    static let configFailure: Int32 = 89

    /// `doveadm stop` (SIGTERM, then waits for the master to exit) and `doveadm reload` (SIGHUP), to the pid
    /// in `$base_dir/master.pid`.
    static func signalMaster(_ global: DoveadmGlobalOptions, _ signal: Int32) -> Int32 {
        guard let settings = global.settings() else { return configFailure }
        let path = settings.pidFile
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0
        else { return fail(tempFail, "Fatal: Dovecot is not running (read from \(path))") }
        guard kill(pid, signal) == 0 else {
            return fail(tempFail, "Fatal: kill(\(pid), \(signal)) failed: \(String(cString: strerror(errno)))")
        }
        if signal == SIGTERM { waitForExit(pid) }
        return 0
    }

    /// Up to 30 seconds, as long as a graceful shutdown may take.
    private static func waitForExit(_ pid: pid_t) {
        for _ in 0..<300 where kill(pid, 0) == 0 { usleep(100_000) }
    }

    /// `doveadm user [-f FIELD] USER...`: each user's userdb fields (Dovecot's tab formatter by default), or
    /// with `-f` one field's value. A USER with `*` or `?` lists the matching names of the passwd-file userdbs.
    static func user(_ global: DoveadmGlobalOptions, _ arguments: [String]) async -> Int32 {
        guard let (values, users) = options(arguments, withValue: ["a", "f", "x"], flags: ["u"], command: "user"),
            !users.isEmpty
        else {
            return fail(usage, "doveadm user [-a <userdb socket path>] [-x <auth info>] [-f field] [-u] <user mask> [...]")
        }
        guard let settings = global.settings() else { return configFailure }
        let auth: AuthService
        do {
            auth = try settings.authService(log: global.authLog())
        } catch {
            return fail(configFailure, "\(error)")
        }
        let field = values.last { $0.0 == "f" }?.1
        let output = DoveadmOutput()
        defer { output.flush() }
        let printer = global.printer(default: .tab, output: output)
        var status: Int32 = 0
        var shown = 0
        for name in users {
            if name.contains("*") || name.contains("?") {
                listUsers(matching: name, settings: settings, output: output)
                continue
            }
            // The titles come with the first looked-up user (a mask alone prints only names, as Dovecot).
            if shown == 0 && field == nil { printer.header([.init("field"), .init("value", expand: true)]) }
            shown += 1
            if shown > 1 {
                printer.flush()
                output.write("\n")
            }
            let result = await showUser(name, field: field, auth: auth, settings: settings, printer: printer, output: output)
            if result != 0 { status = result }
        }
        printer.flush()
        return status
    }

    private static func showUser(
        _ name: String, field: String?, auth: AuthService, settings: AccessSettings, printer: DoveadmPrinter,
        output: DoveadmOutput
    ) async -> Int32 {
        switch await auth.lookupUser(AuthRequest(user: auth.formatUser(name), service: "doveadm")) {
        case .userUnknown:
            let message = "\nuserdb lookup: user \(name) doesn't exist\n"
            if field == nil {
                printer.flush()
                output.write(message)
            } else {
                FileHandle.standardError.write(Data(message.utf8))
            }
            return noUser
        case .internalFailure(let reason):
            output.flush()
            return fail(tempFail, "userdb lookup failed for \(name): \(reason)")
        case .found(let record):
            let fields = DoveadmUser.displayFields(record, settings: settings)
            if let field {
                output.write((fields.last { $0.key == field }?.value ?? "") + "\n")
            } else {
                for entry in fields {
                    printer.print(entry.key)
                    printer.print(entry.value ?? "")
                }
            }
            return 0
        }
    }

    private static func listUsers(matching mask: String, settings: AccessSettings, output: DoveadmOutput) {
        for name in DoveadmUser.allUsers(settings: settings) where fnmatch(mask, name, 0) == 0 {
            output.write(name + "\n")
        }
    }

    /// `doveadm log errors [-s MIN_TIMESTAMP]`; the other `log` subcommands are Dovecot's log service's.
    static func logCommand(_ global: DoveadmGlobalOptions, _ arguments: [String]) -> Int32 {
        let usageText = "usage: doveadm [-Dv] [-f <formatter>] log <command> [<args>]\n  errors       [-s <min_timestamp>]"
        guard arguments.first == "errors",
            let (values, operands) = options(Array(arguments.dropFirst()), withValue: ["s"], flags: [], command: "errors"),
            operands.isEmpty
        else { return fail(usage, usageText) }
        var since: Int?
        if let value = values.last?.1 {
            guard let number = Int(value) else { return fail(usage, "Fatal: Invalid timestamp: \(value)") }
            since = number
        }
        guard let settings = global.settings() else { return configFailure }
        let path = settings.global.logPath
        guard !path.isEmpty, path != "syslog", path.hasPrefix("/") else {
            return fail(tempFail, "Fatal: log_path is \(path.isEmpty ? "empty" : path): Tern reads the errors from a log file")
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let entries = DoveadmLogError.entries(text.split(separator: "\n"), since: since)
        let output = DoveadmOutput()
        defer { output.flush() }
        guard let formatter = global.formatter else {
            // Dovecot's default is its formatted printer: `%{timestamp} %{type}: %{prefix}: %{text}`.
            for entry in entries { output.write("\(entry.timestamp) \(entry.type): \(entry.prefix): \(entry.text)\n") }
            return 0
        }
        let printer = DoveadmPrinter(formatter, write: output.write)
        printer.header([.init("timestamp"), .init("prefix"), .init("type"), .init("text")])
        for entry in entries {
            for value in [entry.timestamp, entry.prefix, entry.type, entry.text] { printer.print(value) }
        }
        printer.flush()
        return 0
    }
}
