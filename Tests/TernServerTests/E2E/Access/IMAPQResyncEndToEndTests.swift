import Foundation
import Testing

extension DaemonEndToEnd {
    /// QRESYNC (RFC 7162 §3.2) through `tern dovecot` on loopback: a client that kept UIDVALIDITY and
    /// HIGHESTMODSEQ reconnects after another client expunged, and SELECT (QRESYNC ...) tells it which UIDs
    /// vanished and which flags changed; the expunge history came from tern.index on disk.
    @Suite struct IMAPQResync {
        @Test func reconnectingClientLearnsWhatVanished() throws {
            try MailAccessInstance.with { access in
                for n in 1...3 { try access.deliver("Subject: \(n)\n\nbody \(n)\n") }
                let first = try Self.login(access)
                #expect(try first.imap("b", "ENABLE QRESYNC").untagged == ["* ENABLED QRESYNC"])
                let select = try first.imap("c", "SELECT INBOX")
                let validity = try #require(Self.code("UIDVALIDITY", in: select.untagged))
                _ = try first.imap("d", "STORE 3 +FLAGS (\\Seen)")
                let status = try first.imap("e", "STATUS INBOX (HIGHESTMODSEQ)")
                let state = try #require(Self.code("HIGHESTMODSEQ", in: status.untagged))
                _ = try first.imap("f", "LOGOUT")

                let second = try Self.login(access)
                _ = try second.imap("b", "SELECT INBOX")
                _ = try second.imap("c", "STORE 1 +FLAGS (\\Deleted)")
                #expect(try second.imap("d", "EXPUNGE").untagged.contains("* 1 EXPUNGE"))
                _ = try second.imap("e", "UID STORE 2 +FLAGS (\\Flagged)")
                _ = try second.imap("f", "LOGOUT")

                let again = try Self.login(access)
                _ = try again.imap("b", "ENABLE QRESYNC")
                let resync = try again.imap("c", "SELECT INBOX (QRESYNC (\(validity) \(state)))")
                #expect(resync.completion.hasPrefix("c OK [READ-WRITE] Select completed"), "\(resync)")
                #expect(resync.untagged.contains("* VANISHED (EARLIER) 1"), "\(resync)")
                #expect(
                    resync.untagged.contains { $0.hasPrefix("* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (") },
                    "\(resync)")
                #expect(!resync.untagged.contains { $0.contains("UID 3 ") }, "\(resync)")
                // SEARCHRES on the same connection: `$` after SEARCH RETURN (SAVE).
                #expect(try again.imap("d", "SEARCH RETURN (SAVE) SEEN").untagged.isEmpty)
                #expect(try again.imap("e", "FETCH $ (UID)").untagged == ["* 2 FETCH (UID 3)"])
                _ = try again.imap("f", "LOGOUT")
            }
        }

        static func login(_ access: MailAccessInstance) throws -> LineTestClient {
            let client = try LineTestClient(port: access.imapPort)
            _ = try client.readLine()
            let login = try client.imap("a", "LOGIN alice \(MailAccessInstance.password)")
            #expect(
                login.completion.contains(" CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH "),
                "\(login)")
            return client
        }

        /// The number after `[NAME ` (or `(NAME ` in STATUS) in one of the lines.
        static func code(_ name: String, in lines: [String]) -> String? {
            for line in lines {
                for opener in ["[", "("] {
                    guard let start = line.range(of: opener + name + " ") else { continue }
                    return String(line[start.upperBound...].prefix { $0.isNumber })
                }
            }
            return nil
        }
    }
}
