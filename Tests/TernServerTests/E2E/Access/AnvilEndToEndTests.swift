import Foundation
import Testing

extension DaemonEndToEnd {
    /// What Dovecot's anvil does for the mail-access daemon: `doveadm who` from the running daemon, the auth
    /// penalty per client address, and login_trusted_networks (whose clients name the client they proxy).
    @Suite struct AnvilAccess {
        static func imapLogin(_ access: MailAccessInstance, source: String? = nil) throws -> LineTestClient {
            let client = try LineTestClient(port: access.imapPort, source: source)
            _ = try client.readLine()
            let login = try client.imap("a", "LOGIN alice \(MailAccessInstance.password)")
            #expect(login.completion.hasSuffix("] Logged in"), "\(login)")
            return client
        }

        func who(_ access: MailAccessInstance, _ arguments: [String] = []) throws -> [String] {
            let result = try access.instance.tern(["doveadm", "-c", access.configPath, "who"] + arguments)
            #expect(result.status == 0, "\(result)")
            return result.stdout.split(separator: "\n").map(String.init)
        }

        @Test func doveadmWhoListsLoggedInUsers() throws {
            try MailAccessInstance.with { access in
                #expect(try who(access) == ["username # proto (pids) (ips)                         "])
                let first = try Self.imapLogin(access)
                let second = try Self.imapLogin(access)
                let pop = try LineTestClient(port: access.pop3Port)
                _ = try pop.readLine()
                #expect(try pop.command("USER alice") == "+OK")
                #expect(try pop.command("PASS \(MailAccessInstance.password)") == "+OK Logged in.")
                // One worker serves alice's sessions: its pid is the `mpid` of the login lines.
                let login = try access.waitForLog("pop3-login: Info: Login: user=<alice>")
                let pid = try #require(login.split(separator: " ").first { $0.hasPrefix("mpid=") }).dropFirst(5)
                    .dropLast()
                let table = try who(access)
                #expect(table.count == 3, "\(table)")
                #expect(table[0].hasPrefix("username # proto (pids)"))
                #expect(table.contains { $0.hasPrefix("alice    2 imap  (\(pid)) (127.0.0.1)") }, "\(table)")
                #expect(table.contains { $0.hasPrefix("alice    1 pop3  (\(pid)) (127.0.0.1)") }, "\(table)")
                let one = try who(access, ["-1"])
                #expect(one.count == 4 && one.filter { $0.hasSuffix("imap  \(pid) 127.0.0.1") }.count == 2, "\(one)")
                #expect(try who(access, ["nobody*"]).count == 1)
                #expect(try who(access, ["alice", "127.0.0.0/8"]).count == 3)
                #expect(try who(access, ["10.0.0.0/8"]).count == 1)
                let usage = try access.instance.tern(["doveadm", "-c", access.configPath, "who", "a", "b"])
                #expect(usage.status == 64 && usage.stderr.contains("Multiple username masks not supported"))
                _ = try first.imap("z", "LOGOUT")
                _ = try pop.command("QUIT")
                _ = try access.instance.waitUntil("one session left", timeout: 10) {
                    let rows = try who(access)
                    return rows.count == 2 && rows[1].hasPrefix("alice    1 imap") ? true : nil
                }
                second.close()
                _ = try access.instance.waitUntil("no sessions left", timeout: 10) {
                    try who(access).count == 1 ? true : nil
                }
            }
        }

        @Test func doveadmWhoWithoutDaemon() throws {
            try MailAccessInstance.with { access in
                let result = try access.instance.tern(
                    ["doveadm", "-c", access.configPath, "who", "-a", access.root + "/no-anvil"])
                #expect(result.status == 75)
                #expect(result.stderr.contains("Fatal: net_connect_unix(\(access.root)/no-anvil) failed: No such file or directory"))
            }
        }

        /// After a failed login the next attempt from that address waits 4 s (Dovecot: 2 s of
        /// auth_failure_delay, then 4 s of penalty); another address is not held up.
        @Test func authPenaltyDelaysTheNextAttempt() throws {
            try MailAccessInstance.with(extra: "disable_plaintext_auth = no") { access in
                let client = try LineTestClient(port: access.pop3Port, source: "127.0.0.4", timeout: 20)
                _ = try client.readLine()
                #expect(try client.command("USER alice") == "+OK")
                #expect(try client.command("PASS wrong1") == "-ERR [AUTH] Authentication failed.")
                #expect(try client.command("USER alice") == "+OK")
                let start = Date()
                #expect(try client.command("PASS wrong2") == "-ERR [AUTH] Authentication failed.")
                #expect(Date().timeIntervalSince(start) >= 3.9)
                let other = try LineTestClient(port: access.pop3Port, source: "127.0.0.5")
                _ = try other.readLine()
                let quick = Date()
                #expect(try other.command("USER alice") == "+OK")
                #expect(try other.command("PASS \(MailAccessInstance.password)") == "+OK Logged in.")
                #expect(Date().timeIntervalSince(quick) < 3)
            }
        }

        /// A client in login_trusted_networks counts as secured (plaintext logins although
        /// disable_plaintext_auth = yes) and names the client it proxies; others may not.
        @Test func trustedNetworksNameTheClient() throws {
            try MailAccessInstance.with(extra: "login_trusted_networks = 127.0.0.2/32") { access in
                let imap = try LineTestClient(port: access.imapPort, source: "127.0.0.2")
                #expect(try !imap.readLine().contains("LOGINDISABLED"))
                let id = try imap.imap(
                    "a",
                    "ID (\"x-originating-ip\" \"10.1.2.3\" \"x-originating-port\" \"4444\" \"x-connected-ip\" \"10.9.9.9\" "
                        + "\"x-session-id\" \"abc123\")")
                #expect(id.completion == "a OK ID completed.")
                #expect(try imap.imap("b", "LOGIN alice \(MailAccessInstance.password)").completion.hasSuffix("Logged in"))
                let login = try access.waitForLog("imap-login: Info: Login: user=<alice>")
                #expect(login.contains("rip=10.1.2.3, lip=10.9.9.9, mpid="), "\(login)")
                #expect(login.hasSuffix(", secured, session=<abc123>"), "\(login)")
                #expect(try who(access).contains { $0.hasPrefix("alice    1 imap") && $0.contains("(10.1.2.3)") })

                let pop = try LineTestClient(port: access.pop3Port, source: "127.0.0.2")
                #expect(try pop.readLine() == "+OK [XCLIENT] Dovecot (Debian) ready.")
                #expect(try pop.command("XCLIENT ADDR=10.4.5.6 PORT=555 SESSION=xyz") == "+OK Updated")
                #expect(try pop.command("USER alice") == "+OK")
                #expect(try pop.command("PASS \(MailAccessInstance.password)") == "+OK Logged in.")
                let popLogin = try access.waitForLog("pop3-login: Info: Login: user=<alice>")
                #expect(popLogin.contains("rip=10.4.5.6, lip=127.0.0.1, mpid="), "\(popLogin)")
                #expect(popLogin.hasSuffix(", secured, session=<xyz>"), "\(popLogin)")

                let outsider = try LineTestClient(port: access.pop3Port, source: "127.0.0.3")
                #expect(try outsider.readLine() == "+OK Dovecot (Debian) ready.")
                #expect(try outsider.command("XCLIENT ADDR=10.4.5.6") == "+OK You are not from trusted IP - ignoring")
                let outsiderIMAP = try LineTestClient(port: access.imapPort, source: "127.0.0.3")
                #expect(try outsiderIMAP.readLine().contains("LOGINDISABLED"))
            }
        }
    }
}
