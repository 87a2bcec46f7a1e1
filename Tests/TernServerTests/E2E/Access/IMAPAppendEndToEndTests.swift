import Foundation
import Testing

extension DaemonEndToEnd {
    /// MULTIAPPEND (RFC 3502) with a literal8 (RFC 3516), CATENATE (RFC 4469) with PARTIAL (RFC 5550) and
    /// BINARY fetches, through `tern dovecot` on a real socket.
    @Suite struct IMAPAppendAccess {
        @Test func multiappendCatenateBinary() throws {
            try MailAccessInstance.with { access in
                let client = try LineTestClient(port: access.imapPort)
                _ = try client.readLine()
                let login = try client.imap("a1", "LOGIN alice \(MailAccessInstance.password)")
                #expect(login.completion.contains(" THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT "), "\(login)")
                #expect(login.completion.contains(" LIST-STATUS BINARY MOVE "), "\(login)")
                try client.send("a2 APPEND INBOX (\\Seen) {5}")
                #expect(try client.readLine() == "+ OK")
                try client.sendRaw(Array("hello ~{7+}\r\nab".utf8) + [0] + Array("cd\r\n\r\n".utf8))
                let appended = try client.readLine()
                #expect(appended.hasPrefix("a2 OK [APPENDUID "), "\(appended)")
                #expect(appended.contains(" 1:2] Append completed"), "\(appended)")
                try client.send("a3 APPEND INBOX CATENATE (URL \"/INBOX/;UID=1/;PARTIAL=1.3\" TEXT {2}")
                #expect(try client.readLine() == "+ OK")
                try client.send("!!)")
                let catenated = try client.readLine()
                #expect(catenated.contains(" 3] Append completed"), "\(catenated)")
                let bad = try client.imap("a4", "APPEND INBOX CATENATE (URL \"/INBOX/;UID=9\")")
                #expect(bad.completion.hasPrefix("a4 NO [BADURL /INBOX/;UID=9] Message not found"), "\(bad)")
                _ = try client.imap("a5", "SELECT INBOX")
                let fetch = try client.imap("a6", "FETCH 2:3 (BINARY.PEEK[] BODY.PEEK[])")
                #expect(
                    fetch.untagged == [
                        "* 2 FETCH (BINARY[] ~{7}", "ab\u{0}cd", " BODY[] {7}", "ab\u{FFFD}cd", ")",
                        "* 3 FETCH (BINARY[] {5}", "ell!! BODY[] {5}", "ell!!)",
                    ], "\(fetch)")
                #expect(fetch.completion.hasPrefix("a6 OK Fetch completed"))
            }
        }
    }
}
