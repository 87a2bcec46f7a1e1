import Foundation
import TernAuth
import TernServer

/// `tern libexec authd [-d SECONDS] [-m MECH,MECH] [-v] SOCKET PASSWD-FILE`: the auth service alone on one
/// socket with one passwd-file passdb, in the foreground, logging to stderr as Dovecot's auth process
/// (`auth: Info: passwd-file(alice,1.2.3.4): Password mismatch`). For tests and interop checks until the
/// `dovecot` daemon runs the auth service from dovecot.conf.
enum AuthdCommand {
    static func run(_ arguments: [String]) async -> Int32 {
        var settings = AuthSettings()
        settings.mechanisms = [.plain, .login]
        var rest = arguments[...]
        while let option = rest.first, option.hasPrefix("-") {
            rest = rest.dropFirst()
            switch option {
            case "-v": settings.verbose = true
            case "-d":
                guard let value = rest.first.flatMap(Double.init), value >= 0 else { return usage() }
                settings.failureDelay = .milliseconds(Int(value * 1000))
                rest = rest.dropFirst()
            case "-m":
                guard let names = rest.first else { return usage() }
                let mechanisms = names.split(separator: ",").compactMap { SASLMechanism(name: String($0)) }
                guard !mechanisms.isEmpty else { return usage() }
                settings.mechanisms = mechanisms
                rest = rest.dropFirst()
            default: return usage()
            }
        }
        guard rest.count == 2, let socket = rest.first, let users = rest.last else { return usage() }
        let service = AuthService(
            settings: settings, passdbs: [PasswdFileDB(args: users)], userdbs: [PasswdFileDB(args: users)],
            log: { line in
                let level = line.level == .error ? "Error" : "Info"
                FileHandle.standardError.write(Data("auth: \(level): \(line.message)\n".utf8))
            })
        do {
            let server = try await AuthSocketServer.bind(.init(path: socket), service: service)
            try await server.run()
            return 0
        } catch {
            FileHandle.standardError.write(Data("auth: Fatal: \(error)\n".utf8))
            return 1
        }
    }

    static func usage() -> Int32 {
        FileHandle.standardError.write(
            Data("usage: tern libexec authd [-d seconds] [-m mech,mech] [-v] SOCKET PASSWD-FILE\n".utf8))
        return 64
    }
}
