import Foundation
import Testing

extension DaemonEndToEnd {
    /// `tern dovecot` with an mbox mail location: POP3 over the spool file as the MTA appends to it.
    @Suite struct MboxAccess {
        static let extra = "mail_location = mbox:~/mail:INBOX=%h/spool-inbox\n"

        static func deliver(_ access: MailAccessInstance, _ content: String) throws {
            let path = access.home + "/spool-inbox"
            if !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = try #require(FileHandle(forWritingAtPath: path))
            handle.seekToEndOfFile()
            handle.write(Data(("From mta@example.test  Mon Nov 30 11:12:35 2026\n" + content + "\n").utf8))
            handle.closeFile()
            try TernInstance.chownTree(access.home, uid: access.uid, gid: access.gid)
        }

        @Test func pop3RetrieveAndDeleteOnAnMbox() throws {
            try MailAccessInstance.with(extra: Self.extra) { access in
                try Self.deliver(access, "Subject: first\n\n>From quoted\nbody\n")
                try Self.deliver(access, "Subject: second\n\nkept\n")
                let client = try LineTestClient(port: access.pop3Port)
                _ = try client.readLine()
                #expect(try client.command("USER alice") == "+OK")
                #expect(try client.command("PASS \(MailAccessInstance.password)") == "+OK Logged in.")
                #expect(try client.command("STAT") == "+OK 2 63")
                #expect(try client.multiline("LIST").lines == ["1 38", "2 25"])
                let retr = try client.multiline("RETR 1")
                #expect(retr.lines == ["Subject: first", "", ">From quoted", "body"])
                #expect(try client.command("DELE 1") == "+OK Marked to be deleted.")
                #expect(try client.command("QUIT") == "+OK Logging out, messages deleted.")
                #expect(client.waitForClose())
                _ = try access.waitForLog("Disconnected: Logged out top=0/0, retr=1/38, del=1/2, size=63")
                let file = try String(contentsOfFile: access.home + "/spool-inbox", encoding: .utf8)
                #expect(!file.contains("first"))
                #expect(file.contains("Subject: second\nX-IMAPbase: "))
                #expect(file.contains("X-UID: 2\nStatus: O\n"))
                #expect(!FileManager.default.fileExists(atPath: access.home + "/spool-inbox.lock"))
            }
        }
    }
}
