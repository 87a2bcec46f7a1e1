import Foundation
import Testing

extension DaemonEndToEnd {
    /// `tern dovecot` serving POP3 on a Maildir: the login side, the session worker, Dovecot's replies and
    /// log lines, disable_plaintext_auth, `dovecot stop`.
    @Suite struct POP3Access {
        static let message = "Subject: first\nFrom: a@example.test\n\n.leading dot\nbody\n"

        @Test func retrieveAndDelete() throws {
            try MailAccessInstance.with { access in
                try access.deliver(Self.message)
                let client = try LineTestClient(port: access.pop3Port)
                #expect(try client.readLine() == "+OK Dovecot (Debian) ready.")
                #expect(try client.command("USER alice") == "+OK")
                #expect(try client.command("PASS \(MailAccessInstance.password)") == "+OK Logged in.")
                let size = Self.message.replacingOccurrences(of: "\n", with: "\r\n").utf8.count
                #expect(try client.command("STAT") == "+OK 1 \(size)")
                #expect(try client.multiline("LIST").lines == ["1 \(size)"])
                let uidl = try client.multiline("UIDL").lines
                #expect(uidl.count == 1 && uidl[0].hasPrefix("1 "))
                let retr = try client.multiline("RETR 1")
                #expect(retr.status == "+OK \(size) octets")
                #expect(retr.lines == ["Subject: first", "From: a@example.test", "", "..leading dot", "body"])
                #expect(try client.command("DELE 1") == "+OK Marked to be deleted.")
                #expect(try client.command("RETR 1") == "-ERR Message is deleted.")
                #expect(try client.command("QUIT") == "+OK Logging out, messages deleted.")
                #expect(client.waitForClose())
                let login = try access.waitForLog("pop3-login: Info: Login: user=<alice>, method=PLAIN")
                #expect(login.contains("rip=127.0.0.1, lip=127.0.0.1, mpid="), "\(login)")
                #expect(login.contains(", secured, session=<"), "\(login)")
                _ = try access.waitForLog("Disconnected: Logged out top=0/0, retr=1/\(size), del=1/1, size=\(size)")
                #expect(access.messageFiles().isEmpty)
            }
        }

        @Test func wrongPasswordThenPlaintextRules() throws {
            try MailAccessInstance.with { access in
                let local = try LineTestClient(port: access.pop3Port)
                _ = try local.readLine()
                #expect(try local.command("USER alice") == "+OK")
                #expect(try local.command("PASS wrong") == "-ERR [AUTH] Authentication failed.")
                #expect(try local.command("STAT") == "-ERR Unknown command.")
                #expect(try local.command("QUIT") == "+OK Logging out")
                _ = try access.waitForLog(
                    "pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in ")
                // From another address the connection is not secure: no plaintext login without TLS.
                let remote = try LineTestClient(port: access.pop3Port, source: "127.0.0.2")
                _ = try remote.readLine()
                let capabilities = try remote.multiline("CAPA").lines
                #expect(!capabilities.contains("USER"))
                #expect(
                    try remote.command("USER alice")
                        == "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
            }
        }

        /// process_limit × client_limit of pop3-login bounds the connections; the next client waits, unanswered,
        /// until one ends (as with Dovecot when its login processes are all busy).
        @Test func connectionLimitMakesClientsWait() throws {
            let extra = "service pop3-login {\n  process_limit = 1\n  client_limit = 1\n}\n"
            try MailAccessInstance.with(extra: extra) { access in
                let first = try LineTestClient(port: access.pop3Port)
                #expect(try first.readLine().hasPrefix("+OK"))
                let second = try LineTestClient(port: access.pop3Port, timeout: 2)
                #expect(throws: (any Error).self) { try second.readLine() }
                #expect(try first.command("QUIT").hasPrefix("+OK"))
                first.close()
                #expect(try second.readLine().hasPrefix("+OK"))
            }
        }

        /// The login hands the client's socket to the session worker; commands the client pipelined after PASS
        /// go with it (RFC 2449 PIPELINING).
        @Test func pipelinedCommandsFollowTheLogin() throws {
            try MailAccessInstance.with { access in
                try access.deliver(Self.message)
                let client = try LineTestClient(port: access.pop3Port)
                _ = try client.readLine()
                try client.sendRaw(Array("USER alice\r\nPASS \(MailAccessInstance.password)\r\nSTAT\r\nQUIT\r\n".utf8))
                #expect(try client.readLine() == "+OK")
                #expect(try client.readLine() == "+OK Logged in.")
                #expect(try client.readLine().hasPrefix("+OK 1 "))
                #expect(try client.readLine() == "+OK Logging out.")
                #expect(client.waitForClose())
            }
        }

        /// mail_max_userip_connections counts a user's sessions from one address for as long as they last
        /// (the master counts them; the login side hands the socket on and forgets it).
        @Test func userIPLimitCountsSessionsUntilTheyEnd() throws {
            try MailAccessInstance.with(extra: "protocol pop3 {\n  mail_max_userip_connections = 1\n}\n") { access in
                func login() throws -> (LineTestClient, String) {
                    let client = try LineTestClient(port: access.pop3Port)
                    _ = try client.readLine()
                    #expect(try client.command("USER alice") == "+OK")
                    return (client, try client.command("PASS \(MailAccessInstance.password)"))
                }
                let (first, reply) = try login()
                #expect(reply == "+OK Logged in.")
                let (second, refused) = try login()
                #expect(
                    refused
                        == "-ERR [IN-USE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=1)")
                #expect(second.waitForClose())
                _ = try access.waitForLog("pop3-login: Info: Disconnected: Maximum number of connections from user+IP exceeded")
                #expect(try first.command("QUIT").hasPrefix("+OK"))
                #expect(first.waitForClose())
                // The worker reports the session's end to the master a moment after the client sees it.
                var again = ""
                for _ in 0..<50 where again != "+OK Logged in." {
                    let (third, text) = try login()
                    again = text
                    third.close()
                    if again != "+OK Logged in." { usleep(100_000) }
                }
                #expect(again == "+OK Logged in.")
            }
        }

        @Test func stopEndsTheDaemon() throws {
            try TernInstance.with(start: false) { instance in
                let access = try MailAccessInstance(instance)
                #expect(try instance.tern(["dovecot", "-c", access.configPath]).status == 0)
                let pidText = try String(contentsOfFile: access.root + "/dovecot/run/master.pid", encoding: .utf8)
                let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
                #expect(TernInstance.portAccepts(access.imapPort))
                let again = try instance.tern(["dovecot", "-c", access.configPath])
                #expect(again.status != 0 && again.stderr.contains("Dovecot is already running"), "\(again)")
                #expect(try instance.tern(["dovecot", "-c", access.configPath, "stop"]).status == 0)
                #expect(!TernInstance.isAlive(pid))
                #expect(!TernInstance.portAccepts(access.pop3Port))
            }
        }
    }
}
