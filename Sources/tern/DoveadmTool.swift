import Foundation
import TernAuth
import TernServer

/// `doveadm` as Dovecot 2.3 runs it: `pw`, `auth test`, `user`, `stop`, `reload`, `log errors`, `who` and the mail
/// commands (DoveadmMailCommands.swift). Exit codes are Dovecot's: 64 usage, 65 data error, 67 unknown user,
/// 68 not found, 75 temporary failure (EX_TEMPFAIL, also a failed `pw -t`), 77 authentication failed (EX_NOPERM).
enum DoveadmTool {
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noUser: Int32 = 67
    static let notFound: Int32 = 68
    static let tempFail: Int32 = 75
    static let noPermission: Int32 = 77
    /// Where Dovecot's auth-client socket is by default (base_dir /run/dovecot).
    static let defaultAuthSocket = "/run/dovecot/auth-client"
    static let commandList = [
        "pw", "auth test", "user", "stop", "reload", "log errors", "mailbox list|create|delete|status", "fetch",
        "search", "expunge", "flags add|remove|replace", "force-resync", "who",
    ]

    static func run(_ arguments: [String]) async -> Int32 {
        guard let (global, rest) = DoveadmGlobalOptions.parse(arguments) else { return usage }
        let words = Array(rest)
        let tail = Array(words.dropFirst())
        switch words.first {
        case "pw": return pw(tail)
        case "auth" where tail.first == "test": return await authTest(Array(tail.dropFirst()))
        case "auth":
            return fail(
                usage,
                "usage: doveadm [-Dv] [-f <formatter>] auth <command> [<args>]\n"
                    + "  test         [-a <auth socket path>] [-x <auth info>] [-M <master user>] <user> [<password>]")
        case "stop": return signalMaster(global, SIGTERM)
        case "reload": return signalMaster(global, SIGHUP)
        case "user": return await user(global, tail)
        case "log": return logCommand(global, tail)
        case "who": return who(global, tail)
        case let command? where DoveadmMailCommand.names.contains(command):
            return await DoveadmMailCommand.run(global, words)
        case let command?:
            return fail(usage, "doveadm: Unknown command '\(command)'")
        case nil:
            return fail(
                usage,
                "usage: doveadm [-Dv] [-f <formatter>] <command> [<args>]\n" + commandList.map { "  \($0)" }.joined(separator: "\n"))
        }
    }

    static func fail(_ status: Int32, _ message: String) -> Int32 {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return status
    }

    /// Splits getopt-style options (`-s SHA -p x`, `-sSHA`) for the letters in `withValue`; flags otherwise.
    static func options(_ arguments: [String], withValue: Set<Character>, flags: Set<Character>, command: String)
        -> (values: [(Character, String)], operands: [String])?
    {
        var values: [(Character, String)] = []
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("-"), arguments[index] != "-" {
            if arguments[index] == "--" {
                index += 1
                break
            }
            var letters = Substring(arguments[index].dropFirst())
            index += 1
            while let letter = letters.first {
                letters = letters.dropFirst()
                if flags.contains(letter) {
                    values.append((letter, ""))
                } else if withValue.contains(letter) {
                    var value = String(letters)
                    if value.isEmpty {
                        guard index < arguments.count else {
                            _ = fail(usage, "\(command): option requires an argument -- '\(letter)'")
                            return nil
                        }
                        value = arguments[index]
                        index += 1
                    }
                    values.append((letter, value))
                    break
                } else {
                    _ = fail(usage, "\(command): invalid option -- '\(letter)'")
                    return nil
                }
            }
        }
        return (values, Array(arguments[index...]))
    }

    /// A password from the terminal or stdin (`Enter new password:` twice for pw, once otherwise).
    static func readPassword(prompt: String, confirm: String?) -> String? {
        func line(_ prompt: String) -> String? {
            if isatty(0) == 1 {
                FileHandle.standardError.write(Data(prompt.utf8))
                let text = getpass("")
                return text.map { String(cString: $0) }
            }
            return Swift.readLine(strippingNewline: true)
        }
        guard let first = line(prompt) else { return nil }
        if let confirm {
            guard let second = line(confirm), second == first else {
                _ = fail(tempFail, "Error: Passwords don't match!")
                return nil
            }
        }
        return first
    }

    /// `doveadm pw [-l] [-p PASSWORD] [-r ROUNDS] [-s SCHEME] [-t HASH] [-u USER] [-V]`.
    static func pw(_ arguments: [String]) -> Int32 {
        guard
            let (values, operands) = options(
                arguments, withValue: ["p", "r", "s", "t", "u"], flags: ["l", "V"], command: "pw")
        else { return usage }
        guard operands.isEmpty else {
            return fail(usage, "Error: Extraneous arguments found: \(operands.joined(separator: " "))")
        }
        var schemeName = "CRYPT"
        var password: String?
        var rounds: Int?
        var test: String?
        var user: String?
        var verify = false
        for (letter, value) in values {
            switch letter {
            case "l":
                let names = PasswordScheme.names.filter { PasswordScheme(named: $0)?.isAvailable == true }
                print(names.map { $0 + " " }.joined())
                return 0
            case "p": password = value
            case "r":
                guard let number = Int(value), number > 0 else {
                    return fail(tempFail, "Fatal: Invalid number of rounds: \(value)")
                }
                rounds = number
            case "s": schemeName = value
            case "t": test = value
            case "u": user = value
            case "V": verify = true
            default: break
            }
        }
        if let test {
            guard test.hasPrefix("{"), test.contains("}") else {
                return fail(tempFail, "Fatal: Missing {scheme} prefix from hash")
            }
            let stored = StoredPassword(test, defaultScheme: "PLAIN")
            guard stored.scheme != nil else { return fail(tempFail, "Fatal: Unknown scheme: \(stored.schemeName)") }
            guard let password = password ?? readPassword(prompt: "Enter password to verify: ", confirm: nil) else {
                return tempFail
            }
            guard stored.verify(Array(password.utf8), user: user ?? "") else {
                return fail(tempFail, "Fatal: reverse password verification check failed: Password mismatch")
            }
            print("\(test) (verified)")
            return 0
        }
        guard let scheme = PasswordScheme(named: schemeName) else {
            return fail(tempFail, "Fatal: Unknown scheme: \(schemeName.uppercased())")
        }
        guard let password = password ?? readPassword(prompt: "Enter new password: ", confirm: "Retype new password: ")
        else { return tempFail }
        do {
            let hash = try scheme.generate(Array(password.utf8), user: user, rounds: rounds)
            guard scheme.verify(Array(password.utf8), stored: hash, user: user) else {
                return fail(tempFail, "Fatal: reverse password verification check failed: Password mismatch")
            }
            print("{\(scheme.name)}\(hash)" + (verify ? " (verified)" : ""))
            return 0
        } catch {
            return fail(tempFail, "Fatal: \(error)")
        }
    }

    /// `doveadm auth test [-a SOCKET] [-x KEY=VALUE] USER [PASSWORD]`: one PLAIN authentication against an
    /// auth-client socket (Tern's or Dovecot's). Tern addition: `-P PASSWD-FILE` checks a passwd-file
    /// directly, without a running auth service (`-S SCHEME` its default scheme).
    static func authTest(_ arguments: [String]) async -> Int32 {
        guard
            let (values, operands) = options(
                arguments, withValue: ["a", "x", "M", "P", "S"], flags: [], command: "test"),
            (1...2).contains(operands.count)
        else {
            return fail(
                usage,
                "doveadm auth test [-a <auth socket path>] [-x <auth info>] [-M <master user>] <user> [<password>]")
        }
        var socket = defaultAuthSocket
        var info: [String] = []
        var passwdFile: String?
        var scheme = "CRYPT"
        for (letter, value) in values {
            switch letter {
            case "a": socket = value
            case "x": info.append(value)
            case "P": passwdFile = value
            case "S": scheme = value
            case "M": return fail(usage, "doveadm auth test: -M (master user) is not supported by Tern yet")
            default: break
            }
        }
        let user = operands[0]
        guard let password = operands.count == 2 ? operands[1] : readPassword(prompt: "Password: ", confirm: nil) else {
            return tempFail
        }
        let service = info.first { $0.hasPrefix("service=") }.map { String($0.dropFirst(8)) } ?? "doveadm"
        let parameters = info.filter { !$0.hasPrefix("service=") }
        let reply: AuthClientReply
        do {
            if let passwdFile {
                reply = await localTest(
                    passwdFile, scheme: scheme, user: user, password: password, service: service, info: parameters)
            } else {
                var info = stat()
                guard stat(socket, &info) == 0 else {
                    let reason = String(cString: strerror(errno))
                    return fail(
                        noPermission, "Error: auth-client: conn unix:\(socket): connect(\(socket)) failed: \(reason)")
                }
                reply = try await AuthClient.withConnection(path: socket) { client in
                    try await client.authenticate(
                        mechanism: "PLAIN", service: service, parameters: parameters,
                        initialResponse: Array("\0\(user)\0\(password)".utf8))
                }
            }
        } catch {
            return fail(noPermission, "Error: auth-client: conn unix:\(socket): \(error)")
        }
        let succeeded: Bool
        let fields: [String]
        switch reply {
        case .ok(_, let list): (succeeded, fields) = (true, list)
        case .fail(_, let list): (succeeded, fields) = (false, list)
        case .cont: (succeeded, fields) = (false, [])
        }
        var out = "passdb: \(user) auth \(succeeded ? "succeeded" : "failed")\n"
        if !fields.isEmpty { out += "extra fields:\n" + fields.map { "  \($0)\n" }.joined() }
        FileHandle.standardOutput.write(Data(out.utf8))
        return succeeded ? 0 : noPermission
    }

    /// The `-P` check: the passwd-file passdb in this process (auth_verbose lines go to stderr).
    static func localTest(
        _ path: String, scheme: String, user: String, password: String, service: String, info: [String]
    ) async -> AuthClientReply {
        var settings = AuthSettings()
        settings.verbose = true
        settings.failureDelay = .zero
        let auth = AuthService(
            settings: settings, passdbs: [PasswdFileDB(path: path, defaultScheme: scheme)],
            log: { line in FileHandle.standardError.write(Data("auth: Info: \(line.message)\n".utf8)) })
        let remoteIP = info.first { $0.hasPrefix("rip=") }.map { String($0.dropFirst(4)) }
        let request = AuthRequest(user: user, service: service, remoteIP: remoteIP)
        switch await auth.verify(
            .verifyPassword(user: user, password: Array(password.utf8), authzid: nil), request: request)
        {
        case .success(let name, let fields): return .ok(id: 1, fields: ["user=\(name)"] + fields.map(\.text))
        case .failure(let name, let code, _):
            return .fail(id: 1, fields: (name.map { ["user=\($0)"] } ?? []) + (code.map { ["code=\($0)"] } ?? []))
        }
    }

}
