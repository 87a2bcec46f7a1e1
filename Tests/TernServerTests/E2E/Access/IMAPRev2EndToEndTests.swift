import Foundation
import Testing

@testable import TernServer

extension DaemonEndToEnd {
    /// LITERAL- (imap_literal_minus = yes) and IMAP4rev2 through imap-login and the session worker, with the
    /// replies Dovecot 2.3.19 gives to the same over-long non-synchronizing literals.
    @Suite struct IMAPRev2Access {
        @Test func literalMinusBeforeAndAfterLogin() throws {
            try MailAccessInstance.with(extra: "imap_literal_minus = yes\n") { access in
                let early = try LineTestClient(port: access.imapPort)
                let greeting = try early.readLine()
                #expect(greeting.contains(" IDLE LITERAL- AUTH=PLAIN"), "\(greeting)")
                try early.send("a LOGIN {5000+}")
                #expect(try early.readLine() == "* BYE Non-synchronizing literal size too large")
                #expect(early.waitForClose())
                let client = try LineTestClient(port: access.imapPort)
                _ = try client.readLine()
                let login = try client.imap("a1", "LOGIN alice \(MailAccessInstance.password)")
                #expect(login.completion.contains(" SAVEDATE LITERAL- UTF8=ACCEPT "), "\(login)")
                try client.send("a2 APPEND INBOX {4097+}")
                #expect(try client.readLine() == "* BYE [TOOBIG] Non-synchronizing literal size too large")
                #expect(client.waitForClose())
            }
        }

        @Test func enableIMAP4rev2() throws {
            try MailAccessInstance.with { access in
                try access.deliver("Subject: one\n\nbody\n")
                let client = try LineTestClient(port: access.imapPort)
                _ = try client.readLine()
                let login = try client.imap("a1", "LOGIN alice \(MailAccessInstance.password)")
                #expect(login.completion.contains("[CAPABILITY IMAP4rev1 IMAP4rev2 "), "\(login)")
                #expect(try client.imap("a2", "ENABLE IMAP4rev2").untagged == ["* ENABLED IMAP4rev2"])
                let select = try client.imap("a3", "SELECT INBOX")
                #expect(select.untagged.contains("* LIST (\\HasNoChildren) \"/\" INBOX"), "\(select)")
                #expect(!select.untagged.contains { $0.hasSuffix("RECENT") }, "\(select)")
                #expect(try client.imap("a4", "SEARCH ALL").untagged == ["* ESEARCH (TAG \"a4\") ALL 1"])
                #expect(try client.imap("a5", "LOGOUT").completion.hasPrefix("a5 OK"))
            }
        }

        /// RFC 9051 Appendix E item 21 and RFC 6855 §4 through the worker: another client's flag change reaches
        /// the IMAP4rev2 client as FETCH with the UID, and a CATENATE part `UTF8 (~{n}...)` streams in.
        @Test func unsolicitedFetchUIDAndUTF8CatenatePart() throws {
            try MailAccessInstance.with { access in
                try access.deliver("Subject: one\n\nbody\n")
                func login(_ tag: String) throws -> LineTestClient {
                    let client = try LineTestClient(port: access.imapPort)
                    _ = try client.readLine()
                    _ = try client.imap(tag, "LOGIN alice \(MailAccessInstance.password)")
                    return client
                }
                let client = try login("a1")
                #expect(try client.imap("a2", "ENABLE IMAP4rev2").untagged == ["* ENABLED IMAP4rev2"])
                _ = try client.imap("a3", "SELECT INBOX")
                let other = try login("b1")
                _ = try other.imap("b2", "SELECT INBOX")
                _ = try other.imap("b3", "STORE 1 +FLAGS (\\Flagged)")
                #expect(try client.imap("a4", "NOOP").untagged == ["* 1 FETCH (UID 1 FLAGS (\\Flagged))"])
                let header = "Subject: Grüße\r\n\r\n"
                try client.send("a5 APPEND INBOX CATENATE (UTF8 (~{\(header.utf8.count)}")
                #expect(try client.readLine() == "+ OK")
                try client.send(header + ") TEXT {6+}\r\nbody\r\n)")
                var line = try client.readLine()
                while !line.hasPrefix("a5 ") { line = try client.readLine() }
                #expect(line.hasPrefix("a5 OK [APPENDUID "), "\(line)")
                let fetched = try client.imap("a6", "FETCH 2 BODY.PEEK[]")
                #expect(fetched.untagged.contains("Subject: Grüße"), "\(fetched)")
                #expect(fetched.untagged.contains("body"), "\(fetched)")
            }
        }
    }
}
