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

        /// The acl plugin on mbox over a real socket: the dovecot-acl files where Dovecot 2.3.19 keeps them
        /// (`~/mail/.imap/INBOX`, `~/mail/Lists/.imap/Tern`) and the rights enforced.
        @Test func aclOnAnMbox() throws {
            let extra = Self.extra + """
                mail_plugins = $mail_plugins acl
                protocol imap {
                  mail_plugins = $mail_plugins imap_acl
                }
                plugin {
                  acl = vfile
                }

                """
            try MailAccessInstance.with(extra: extra) { access in
                try Self.deliver(access, "Subject: first\n\nbody\n")
                let client = try LineTestClient(port: access.imapPort)
                _ = try client.readLine()
                let login = try client.imap("a1", "LOGIN alice \(MailAccessInstance.password)")
                #expect(login.completion.contains(" ACL RIGHTS=texk] Logged in"), "\(login)")
                #expect(try client.imap("a2", "CREATE Lists/Tern").completion.hasPrefix("a2 OK"))
                #expect(try client.imap("a3", "SETACL INBOX bob lr").completion.hasPrefix("a3 OK Setacl complete "))
                let set = try client.imap("a4", "SETACL Lists/Tern bob lrs")
                #expect(set.completion.hasPrefix("a4 OK Setacl complete "))
                let acl = try client.imap("a5", "GETACL Lists/Tern")
                #expect(acl.untagged == ["* ACL Lists/Tern bob lrs alice lrwstipekxacd"])
                let mail = access.home + "/mail"
                let inboxACL = try String(contentsOfFile: mail + "/.imap/INBOX/dovecot-acl", encoding: .utf8)
                #expect(inboxACL == "user=bob lr\n")
                let listACL = try String(contentsOfFile: mail + "/Lists/.imap/Tern/dovecot-acl", encoding: .utf8)
                #expect(listACL == "user=bob lrs\n")
                #expect(try client.imap("a6", "SETACL INBOX owner lr").completion.hasPrefix("a6 OK Setacl complete "))
                #expect(try client.imap("a7", "MYRIGHTS INBOX").untagged == ["* MYRIGHTS INBOX lra"])
                let select = try client.imap("a8", "SELECT INBOX")
                #expect(select.untagged.contains("* OK [PERMANENTFLAGS ()] Read-only mailbox."))
                #expect(select.completion.hasPrefix("a8 OK [READ-ONLY] Select completed "))
                let append = try client.imap("a9", "APPEND INBOX {3+}\r\nabc")
                #expect(append.completion.hasPrefix("a9 NO [NOPERM] Permission denied "))
                #expect(try client.imap("a10", "LOGOUT").completion.hasPrefix("a10 OK"))
            }
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
