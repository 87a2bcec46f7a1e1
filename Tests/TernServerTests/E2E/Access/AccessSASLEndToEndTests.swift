import Crypto
import Foundation
import Testing

extension DaemonEndToEnd {
    /// SASL mechanisms the auth server runs itself (CRAM-MD5, RFC 2195) through imap-login and pop3-login:
    /// the login relays the server's challenge and the client's answer, as Dovecot's logins do.
    @Suite struct AccessSASL {
        static let mechanisms = "auth_mechanisms = plain login cram-md5"

        /// `user SP hex(HMAC-MD5(password, challenge))`, base64, for the challenge of a `+ base64` line.
        static func cramResponse(to continuation: String, user: String = "alice", password: String) throws -> String {
            let challenge = try #require(Data(base64Encoded: String(continuation.dropFirst(2))))
            #expect(String(decoding: challenge, as: UTF8.self).hasPrefix("<"), "RFC 2195 challenge")
            let mac = HMAC<Insecure.MD5>.authenticationCode(for: challenge, using: SymmetricKey(data: Data(password.utf8)))
            let hex = mac.map { String(format: "%02x", $0) }.joined()
            return Data("\(user) \(hex)".utf8).base64EncodedString()
        }

        /// From a non-secure address CRAM-MD5 is offered (it is not a plaintext mechanism); a wrong digest
        /// fails, `*` aborts, the right one logs in.
        @Test func imapAuthenticateCRAMMD5() throws {
            try MailAccessInstance.with(extra: Self.mechanisms) { access in
                let client = try LineTestClient(port: access.imapPort, source: "127.0.0.2")
                let greeting = try client.readLine()
                #expect(greeting.contains("AUTH=CRAM-MD5") && !greeting.contains("AUTH=PLAIN"), "\(greeting)")

                let first = try client.command("a1 AUTHENTICATE CRAM-MD5")
                #expect(first.hasPrefix("+ "), "\(first)")
                let wrong = try client.command(try Self.cramResponse(to: first, password: "wrong"))
                #expect(wrong == "a1 NO [AUTHENTICATIONFAILED] Authentication failed.", "\(wrong)")

                #expect(try client.command("a2 AUTHENTICATE CRAM-MD5").hasPrefix("+ "))
                #expect(try client.command("*") == "a2 BAD Authentication aborted by client.")

                let challenge = try client.command("a3 AUTHENTICATE CRAM-MD5")
                try client.send(try Self.cramResponse(to: challenge, password: MailAccessInstance.password))
                let reply = try client.imap("a4", "NOOP")
                #expect(reply.untagged.contains { $0.hasPrefix("a3 OK ") }, "\(reply)")
                #expect(reply.completion.hasPrefix("a4 OK"), "\(reply)")
                _ = try access.waitForLog("imap-login: Info: Login: user=<alice>, method=CRAM-MD5, rip=127.0.0.2")
            }
        }

        /// APOP: the greeting's challenge, `APOP user md5hex`; a wrong digest fails, the right one logs in.
        @Test func pop3APOP() throws {
            try MailAccessInstance.with(extra: "auth_mechanisms = plain login apop") { access in
                func digest(_ challenge: String, _ password: String) -> String {
                    Insecure.MD5.hash(data: Data((challenge + password).utf8)).map { String(format: "%02x", $0) }
                        .joined()
                }
                let client = try LineTestClient(port: access.pop3Port, source: "127.0.0.2")
                let greeting = try client.readLine()
                let challenge = try #require(greeting.split(separator: " ").last.map(String.init))
                #expect(greeting.hasPrefix("+OK Dovecot (Debian) ready. <") && challenge.hasSuffix(">"), "\(greeting)")
                #expect(try client.multiline("CAPA").lines.contains("SASL"), "APOP is not a SASL mechanism for clients")
                #expect(try client.command("APOP alice \(digest(challenge, "wrong"))") == "-ERR [AUTH] Authentication failed.")
                #expect(try client.command("APOP alice \(digest(challenge, MailAccessInstance.password))") == "+OK Logged in.")
                #expect(try client.command("QUIT").hasPrefix("+OK Logging out"))
                let second = try LineTestClient(port: access.pop3Port, source: "127.0.0.2")
                let fresh = try #require(try second.readLine().split(separator: " ").last.map(String.init))
                #expect(fresh != challenge, "a new challenge per connection")
                _ = try access.waitForLog("pop3-login: Info: Login: user=<alice>, method=APOP, rip=127.0.0.2")
            }
        }

        @Test func pop3AuthCRAMMD5() throws {
            try MailAccessInstance.with(extra: Self.mechanisms) { access in
                try access.deliver("Subject: cram\n\nbody\n")
                let client = try LineTestClient(port: access.pop3Port, source: "127.0.0.2")
                _ = try client.readLine()
                #expect(try client.multiline("CAPA").lines.contains("SASL CRAM-MD5"))
                let first = try client.command("AUTH CRAM-MD5")
                #expect(first.hasPrefix("+ "), "\(first)")
                #expect(try client.command("*") == "-ERR Authentication aborted by client.")
                let again = try client.command("AUTH CRAM-MD5")
                #expect(try client.command(try Self.cramResponse(to: again, password: "wrong"))
                    == "-ERR [AUTH] Authentication failed.")
                let challenge = try client.command("AUTH CRAM-MD5")
                #expect(
                    try client.command(try Self.cramResponse(to: challenge, password: MailAccessInstance.password))
                        == "+OK Logged in.")
                #expect(try client.command("STAT").hasPrefix("+OK 1 "))
                #expect(try client.command("QUIT").hasPrefix("+OK Logging out"))
                _ = try access.waitForLog("pop3-login: Info: Login: user=<alice>, method=CRAM-MD5, rip=127.0.0.2")
            }
        }
    }
}
