import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// master.cf `spawn` services, the way tutorials run policyd-spf: one command per connection as `user=`,
    /// the connection on its standard input and output, killed at `${service}_time_limit`.
    @Suite struct Spawn {
        /// A policy server in Python that answers every request with `action=...`.
        static func writePolicyScript(_ path: String, action: String) throws {
            try """
            import sys
            for line in sys.stdin:
                if line.strip() == "":
                    sys.stdout.write("action=\(action)\\n\\n")
                    sys.stdout.flush()
            """.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }

        static var user: String { geteuid() == 0 ? "nobody" : TernInstance.currentUserName() }

        static func withSpawnService(
            _ command: String, timeLimit: String? = nil, _ body: (TernInstance) throws -> Void
        ) throws {
            var parameters = [
                "smtpd_recipient_restrictions":
                    "check_policy_service unix:private/policy, permit_mynetworks, reject_unauth_destination"
            ]
            if let timeLimit { parameters["policy_time_limit"] = timeLimit }
            try TernInstance.with(parameters, start: false) { instance in
                chmod(instance.root, 0o755)
                let service = "policy  unix  -  n  n  -  0  spawn\n  user=\(Self.user) argv=\(command)\n"
                try (TernInstance.masterCF(port: instance.port) + service).write(
                    toFile: instance.configDirectory + "/master.cf", atomically: true, encoding: .utf8)
                try instance.start()
                try body(instance)
            }
        }

        @Test func policyServerRunsPerConnectionAsTheUser() throws {
            try TernInstance.with(start: false) { scratch in
                let script = scratch.root + "/policy.py"
                chmod(scratch.root, 0o755)
                try Self.writePolicyScript(script, action: "REJECT spawned policy says no")
                try Self.withSpawnService("/usr/bin/python3 \(script)") { instance in
                    let client = try SMTPTestClient(port: instance.port)
                    try client.greet("spawn.e2e.test")
                    #expect(try client.command("MAIL FROM:<sender@client.e2e.test>").code == 250)
                    let refused = try client.command("RCPT TO:<alice@virt.test>")
                    #expect(
                        refused.description
                            == "554 5.7.1 <alice@virt.test>: Recipient address rejected: spawned policy says no",
                        "\(refused)")
                    // The same policy connection serves the next request (smtpd keeps it).
                    #expect(try client.command("RCPT TO:<bob@virt.test>").code == 554)
                    #expect(try client.command("QUIT").code == 221)
                }
            }
        }

        /// Past `policy_time_limit` the command is killed; smtpd sees the connection close.
        @Test func commandIsKilledAtTheTimeLimit() throws {
            try Self.withSpawnService("/bin/sleep 60", timeLimit: "1s") { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet("spawn.e2e.test")
                #expect(try client.command("MAIL FROM:<sender@client.e2e.test>").code == 250)
                let reply = try client.command("RCPT TO:<alice@virt.test>")
                #expect(reply.code == 451, "\(reply)")
                try instance.waitForLogLine(#"warning: command /bin/sleep killed by signal 9$"#)
            }
        }

        @Test func rootIsRefusedAsUser() throws {
            try TernInstance.with(start: false) { instance in
                let service = "policy  unix  -  n  n  -  0  spawn user=root argv=/bin/true\n"
                try (TernInstance.masterCF(port: instance.port) + service).write(
                    toFile: instance.configDirectory + "/master.cf", atomically: true, encoding: .utf8)
                let started = try instance.postfix("start")
                #expect(started.status != 0 || instance.maillog().contains("request to deliver as root"))
            }
        }
    }
}
