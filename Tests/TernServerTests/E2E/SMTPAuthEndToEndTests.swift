import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// SMTP AUTH (smtpd_sasl_type = dovecot) against Tern's auth service (`tern libexec authd`, a real
    /// AuthSocketServer) on queue_directory/private/auth, with a passwd-file user alice/secret.
    @Suite struct SMTPAuth {
        static let saslParameters = [
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": "private/auth",
            "broken_sasl_auth_clients": "yes",
            "smtpd_sasl_authenticated_header": "yes",
            "mynetworks": "127.0.0.1/32",
            "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
            "defer_transports": "smtp",
        ]
        static let alicePlain = "AGFsaWNlAHNlY3JldA=="

        /// fail2ban's postfix-sasl filter, with the test's client address for <HOST>.
        static let fail2banPattern =
            #"warning: [-._\w]+\[127\.0\.0\.1\]: SASL ((?i)LOGIN|PLAIN|(?:CRAM|DIGEST)-MD5) authentication failed"#

        @Test func plainAndLoginSucceedAndFailuresAreLoggedForFail2ban() throws {
            try Self.withAuthServer { instance in
                let client = try SMTPTestClient(port: instance.port)
                #expect(try client.readReply().code == 220)
                let ehlo = try client.command("EHLO client.e2e.test")
                #expect(ehlo.lines.contains("AUTH PLAIN LOGIN"), "\(ehlo)")
                #expect(ehlo.lines.contains("AUTH=PLAIN LOGIN"), "\(ehlo)")
                let ok = try client.command("AUTH PLAIN \(Self.alicePlain)")
                #expect(ok.description == "235 2.7.0 Authentication successful")
                #expect(try client.command("AUTH PLAIN \(Self.alicePlain)").code == 503)
                #expect(try client.command("QUIT").code == 221)

                let login = try SMTPTestClient(port: instance.port)
                try login.greet()
                #expect(try login.command("AUTH LOGIN").description == "334 VXNlcm5hbWU6")
                #expect(try login.command("YWxpY2U=").description == "334 UGFzc3dvcmQ6")
                #expect(try login.command("c2VjcmV0").code == 235)
                #expect(try login.command("QUIT").code == 221)

                let bad = try SMTPTestClient(port: instance.port)
                try bad.greet()
                let wrong = try bad.command("AUTH PLAIN AGFsaWNlAHdyb25n")  // alice / wrong
                #expect(wrong.description == "535 5.7.8 Error: authentication failed: (reason unavailable)")
                let unknown = try bad.command("AUTH PLAIN AG5vYm9keQB4")  // nobody / x
                #expect(unknown.code == 535, "\(unknown)")
                #expect(try bad.command("QUIT").code == 221)

                try instance.waitForLogLine(
                    Self.fail2banPattern + #": \(reason unavailable\), sasl_username=alice$"#)
                try instance.waitForLogLine(#"SASL PLAIN authentication failed: .*, sasl_username=nobody$"#)
                try instance.waitForLogLine(#"disconnect from .* ehlo=1 auth=0/2 quit=1 commands=2/4$"#)
            }
        }

        /// A client outside mynetworks relays only after AUTH; the message says `with ESMTPA` and names the
        /// authenticated sender, and smtpd logs the login on its `client=` line.
        @Test func relayIsPermittedOnlyAfterAuthentication() throws {
            try Self.withAuthServer { instance in
                let client = try SMTPTestClient(port: instance.port, source: "127.0.0.2")
                try client.greet()
                #expect(try client.command("MAIL FROM:<alice@e2e.test>").code == 250)
                let denied = try client.command("RCPT TO:<friend@remote.example>")
                #expect(denied.description == "554 5.7.1 <friend@remote.example>: Relay access denied")
                #expect(try client.command("RSET").code == 250)
                #expect(try client.command("AUTH PLAIN \(Self.alicePlain)").code == 235)
                #expect(try client.command("MAIL FROM:<alice@e2e.test>").code == 250)
                #expect(try client.command("RCPT TO:<friend@remote.example>").code == 250)
                #expect(try client.command("RCPT TO:<bob@virt.test>").code == 250)
                #expect(try client.command("DATA").code == 354)
                let token = "auth-\(UUID().uuidString)"
                let end = try client.sendContent("Subject: \(token)\n\nrelayed\n")
                let id = try #require(end.queueID, "\(end)")
                #expect(try client.command("QUIT").code == 221)

                let message = try instance.waitForMessage("bob", containing: token)
                let header = message.content.components(separatedBy: "\n\n").first ?? ""
                #expect(header.contains("\n\t(Authenticated sender: alice)\n"), "\(header)")
                #expect(header.contains("with ESMTPA id \(id);"), "\(header)")
                try instance.waitForLogLine(
                    #"postfix/smtpd\[\d+\]: "# + id
                        + #": client=[^\s\[]+\[127\.0\.0\.2\], sasl_method=PLAIN, sasl_username=alice$"#)
            }
        }

        /// smtpd_sasl_exceptions_networks hides AUTH from the listed clients' EHLO reply only; AUTH itself
        /// still works for them (Postfix's ehlo_cmd() checks the list, auth_cmd() does not).
        @Test func exceptionsNetworksHideAuthFromListedClients() throws {
            var parameters = Self.saslParameters
            parameters["smtpd_sasl_exceptions_networks"] = "127.0.0.2/32, !127.0.0.0/8"
            try Self.withAuthServer(parameters) { instance in
                let listed = try SMTPTestClient(port: instance.port, source: "127.0.0.2")
                #expect(try listed.readReply().code == 220)
                let hidden = try listed.command("EHLO client.e2e.test")
                #expect(!hidden.lines.contains { $0.hasPrefix("AUTH") }, "\(hidden)")
                #expect(try listed.command("AUTH PLAIN \(Self.alicePlain)").code == 235)

                let other = try SMTPTestClient(port: instance.port)
                #expect(try other.readReply().code == 220)
                #expect(try other.command("EHLO client.e2e.test").lines.contains("AUTH PLAIN LOGIN"))
            }
        }

        /// As Postfix 3.7's smtpd: without the auth server the session ends before the greeting.
        @Test func unreachableAuthServerEndsTheSessionLikePostfix() throws {
            try TernInstance.with(Self.saslParameters) { instance in
                let client = try SMTPTestClient(port: instance.port)
                #expect(throws: SMTPTestError.self) { try client.readReply() }
                try instance.waitForLogLine(
                    #"postfix/smtpd\[\d+\]: warning: SASL: Connect to Dovecot auth socket 'private/auth' failed: "#
                        + #"No such file or directory$"#)
                try instance.waitForLogLine(#"postfix/smtpd\[\d+\]: fatal: no SASL authentication mechanisms$"#)
            }
        }

        /// `-o smtpd_sasl_auth_enable=yes` on the master.cf smtpd line turns AUTH on for that service only.
        @Test func masterCFOverrideEnablesAuth() throws {
            var parameters = Self.saslParameters
            parameters["smtpd_sasl_auth_enable"] = "no"
            try Self.withAuthServer(parameters, override: "-o smtpd_sasl_auth_enable=yes") { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                #expect(try client.command("AUTH PLAIN \(Self.alicePlain)").code == 235)
            }
        }

        /// Runs `body` with an instance whose private/auth socket is served by `tern libexec authd`.
        static func withAuthServer(
            _ parameters: [String: String] = saslParameters, override: String? = nil,
            _ body: (TernInstance) throws -> Void
        ) throws {
            try TernInstance.with(parameters, start: false) { instance in
                if let override {
                    let master = TernInstance.masterCF(port: instance.port).replacingOccurrences(
                        of: "smtpd\n", with: "smtpd\n  \(override)\n")
                    try master.write(toFile: instance.configDirectory + "/master.cf", atomically: true, encoding: .utf8)
                }
                let directory = instance.queueDirectory + "/private"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let users = instance.root + "/sasl-users"
                try "alice:{PLAIN}secret\n".write(toFile: users, atomically: true, encoding: .utf8)
                let binary = try #require(TernBinary.path)
                let authd = Process()
                authd.executableURL = URL(fileURLWithPath: binary)
                authd.arguments = ["libexec", "authd", "-d", "0", directory + "/auth", users]
                authd.standardError = FileHandle(forWritingAtPath: "/dev/null")
                try authd.run()
                defer {
                    authd.terminate()
                    authd.waitUntilExit()
                }
                _ = try instance.waitUntil("the auth socket", timeout: 15) {
                    FileManager.default.fileExists(atPath: directory + "/auth") ? true : nil
                }
                try instance.start()
                try body(instance)
            }
        }
    }
}
