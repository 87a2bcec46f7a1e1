import Glibc
import TernCore

/// doveconf(1) of Dovecot 2.3: `doveconf [-c FILE] [-n] [-a] [-h] [-P] [SETTING...]`. The header names
/// Dovecot's version with Tern's in place of Dovecot's source revision:
/// `# 2.3.19.1 (Tern 0.1.0): /etc/dovecot/dovecot.conf`.
public enum Doveconf {
    public struct Output: Sendable, Equatable {
        public var stdout = ""
        public var stderr: [String] = []
        public var exitCode: Int32 = 0
    }

    /// Dovecot's exit status for a fatal error (`FATAL_DEFAULT`).
    static let fatalStatus: Int32 = 89

    public static func run(arguments: [String], environment: [String: String] = [:]) -> Output {
        var path = environment["DOVECOT_CONFIG"] ?? DovecotConfig.defaultPath
        var changedOnly = false
        var valueOnly = false
        var showPasswords = false
        var names: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument.count > 1, names.isEmpty else {
                names.append(argument)
                continue
            }
            for (offset, flag) in argument.dropFirst().enumerated() {
                switch flag {
                case "n": changedOnly = true
                case "a": changedOnly = false
                case "h": valueOnly = true
                case "P": showPasswords = true
                case "N", "x", "S", "I", "d": break
                case "c", "m", "f":
                    let rest = String(argument.dropFirst(offset + 2))
                    let value: String
                    if !rest.isEmpty {
                        value = rest
                    } else if index < arguments.count {
                        value = arguments[index]
                        index += 1
                    } else {
                        return usage()
                    }
                    if flag == "c" { path = value }
                default: return usage()
                }
                if "cmf".contains(flag) { break }
            }
        }
        let config: DovecotConfig
        do throws(DovecotConfigError) {
            config = try DovecotConfig.load(path: path)
        } catch {
            var output = Output(exitCode: fatalStatus)
            if !error.isOpenFailure { output.stdout = header(path: path) }
            output.stderr = ["doveconf: Fatal: \(error)"]
            return output
        }
        var output = Output()
        output.stderr = config.warnings.map { "doveconf: Warning: \($0)" }
        if !names.isEmpty {
            return show(names, config: config, valueOnly: valueOnly, output: output)
        }
        output.stdout = header(path: path)
        if !changedOnly { output.stdout += "# NOTE: Send doveconf -n output instead when asking for help.\n" }
        output.stdout += config.dump(changedOnly ? .changed : .all, showPasswords: showPasswords)
        return output
    }

    /// `doveconf SETTING...`: `name = value` (or the value alone with -h) for global settings; `<FILE`
    /// values are shown as written, also for secrets (as Dovecot does).
    static func show(
        _ names: [String], config: DovecotConfig, valueOnly: Bool, output: Output
    ) -> Output {
        var output = output
        // Like Dovecot, names it does not know print nothing.
        for name in names {
            guard let value = config.value(name) else { continue }
            let shown = valueOnly ? value : DovecotConfig.display(name, value, showPasswords: true)
            output.stdout += valueOnly ? shown + "\n" : "\(name) = \(shown)\n"
        }
        return output
    }

    static func usage() -> Output {
        Output(
            stderr: ["doveconf: Fatal: Usage: doveconf [-adnNPxS] [-c <config file>] [-f <filter>] [-m <module>] [<setting> [...]]"],
            exitCode: 64)
    }

    /// `# 2.3.19.1 (Tern 0.1.0): PATH`, `# OS: ...`, `# Hostname: ...` as Dovecot prints them.
    static func header(path: String) -> String {
        var out = "# \(DovecotDefaults.version) (Tern \(TernVersion.string)): \(path)\n"
        var names = utsname()
        if uname(&names) == 0 {
            func field<T>(_ value: T) -> String {
                withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            }
            var os = "# OS: \(field(names.sysname)) \(field(names.release)) \(field(names.machine))"
            if let release = osRelease() { os += " " + release }
            out += os + " \n"
            out += "# Hostname: \(field(names.nodename))\n"
        }
        return out
    }

    /// `Debian 12.11` from /etc/os-release and /etc/debian_version, as Dovecot's os_get_name/version do.
    static func osRelease() -> String? {
        guard let text = try? ConfigFile.read("/etc/os-release") else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            var value = line[line.index(after: eq)...]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            fields[String(line[..<eq])] = String(value)
        }
        guard let name = fields["NAME"]?.split(separator: " ").first else { return nil }
        var version = fields["VERSION_ID"] ?? ""
        if let debian = try? ConfigFile.read("/etc/debian_version") {
            let trimmed = debian.split(separator: "\n").first.map(String.init) ?? ""
            if trimmed.first?.isNumber == true { version = trimmed }
        }
        return version.isEmpty ? String(name) : "\(name) \(version)"
    }
}
