import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TernAuth
import Testing

@testable import TernServer

/// The auth service over a real UNIX socket: handshake, AUTH PLAIN success and (delayed) failure, LOGIN
/// with CONT steps, and a hostile line.
@Suite struct AuthSocketServerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: AuthLogLine) { lines.withLock { $0.append(line.message) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func withServer(_ body: (String, Lines) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "tern-auth-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let users = [
            "alice:{PLAIN}secret:1000:1000::/home/alice",
            "bob:{SHA256-CRYPT}$5$eLFAPPccaKx6gqRS$CdcBU2lOAumd70tkyMqLSXa1BOElVU0zlxQ1.XIl3mA",
        ]
        try (users.joined(separator: "\n") + "\n").write(toFile: directory + "/users", atomically: true, encoding: .utf8)
        var settings = AuthSettings()
        settings.mechanisms = [.plain, .login]
        settings.failureDelay = .milliseconds(200)
        settings.verbose = true
        let log = Lines()
        let service = AuthService(settings: settings, passdbs: [PasswdFileDB(args: directory + "/users")], log: log.add)
        let path = directory + "/auth-client"
        let server = try await AuthSocketServer.bind(.init(path: path, mode: 0o660), service: service)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o660)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            try await body(path, log)
            try await server.channel.channel.close()
            group.cancelAll()
        }
    }

    @Test func plainAndLoginOverTheSocket() async throws {
        try await withServer { path, log in
            try await AuthClient.withConnection(path: path) { client in
                #expect(client.handshake.mechanisms.map(\.name) == ["PLAIN", "LOGIN"])
                #expect(client.handshake.mechanisms.first?.flags == ["plaintext"])
                #expect(client.handshake.serverPID == String(getpid()))
                #expect(client.handshake.cookie.count == 32)

                let ok = try await client.authenticate(
                    mechanism: "PLAIN", service: "smtp", parameters: ["rip=192.0.2.7"],
                    initialResponse: Array("\0alice\0secret".utf8))
                #expect(ok == .ok(id: 1, fields: ["user=alice"]))

                let started = ContinuousClock.now
                let failed = try await client.authenticate(
                    mechanism: "PLAIN", service: "smtp", parameters: ["rip=192.0.2.7"],
                    initialResponse: Array("\0Alice\0wrong".utf8))
                #expect(failed == .fail(id: 2, fields: ["user=alice"]))
                #expect(ContinuousClock.now - started >= .milliseconds(200))

                var challenges: [String] = []
                let login = try await client.authenticate(mechanism: "LOGIN", service: "smtp") { challenge in
                    challenges.append(String(decoding: challenge, as: UTF8.self))
                    return Array((challenges.count == 1 ? "bob" : "secret").utf8)
                }
                #expect(challenges == ["Username:", "Password:"])
                #expect(login == .ok(id: 3, fields: ["user=bob"]))
            }
            #expect(log.all == ["passwd-file(alice,192.0.2.7): Password mismatch"])
        }
    }

    @Test func protocolErrorsCloseTheConnection() async throws {
        try await withServer { path, log in
            try await AuthClient.withConnection(path: path) { client in
                try await client.send([String(repeating: "X", count: 70000)])
                // Closed with unread input: EOF or a reset.
                let reply = try? await client.readLine()
                #expect(reply == nil)
            }
            #expect(log.all.first == "BUG: Authentication client \(getpid()) sent too long line")
            try await AuthClient.withConnection(path: path) { client in
                try await client.send(["AUTH\t1\tXOAUTH2\tservice=smtp"])
                let reply = try? await client.readLine()
                #expect(reply == nil)
            }
        }
    }
}
