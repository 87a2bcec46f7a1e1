import Foundation
import TernIMAP
import TernMailbox
import Testing

/// The acl plugin on `mbox:~/mail:INBOX=/var/mail/%u`, as a real Dovecot 2.3.19 keeps it (checked on loopback,
/// its user renamed to the fixture's `tuser`): each mailbox's dovecot-acl in its control directory
/// (`~/mail/.imap/INBOX`, `~/mail/Lists/.imap/Tern`), the root's default in `~/mail/.imap/dovecot-acl`.
@Suite struct IMAPMailSessionMboxACLTests {
    func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Dovecot's transcript: SETACL on INBOX and a nested mailbox, RENAME taking the ACL along, DELETE
    /// dropping it.
    @Test func filesWhereDovecotKeepsThem() throws {
        let f = try MboxSessionFixture(acl: ACLSettings())
        let mail = f.base + "/mail"
        try f.deliver("Subject: alpha\n\nfirst body\n")
        f.send("a2 CREATE Work\r\n")
        f.send("a3 CREATE Lists/Tern\r\n")
        #expect(f.send("a4 SETACL INBOX bob lr\r\n") == "a4 OK Setacl complete" + done)
        #expect(f.send("a5 SETACL Lists/Tern bob lrs\r\n") == "a5 OK Setacl complete" + done)
        #expect(
            f.send("a6 GETACL Lists/Tern\r\n")
                == "* ACL Lists/Tern bob lrs tuser lrwstipekxacd\r\na6 OK Getacl completed" + done)
        #expect(try text(mail + "/.imap/INBOX/dovecot-acl") == "user=bob lr\n")
        #expect(try text(mail + "/Lists/.imap/Tern/dovecot-acl") == "user=bob lrs\n")
        #expect(f.send("a14 RENAME Lists/Tern Lists/Swift\r\n") == "a14 OK Rename completed" + done)
        #expect(
            f.send("a15 GETACL Lists/Swift\r\n")
                == "* ACL Lists/Swift bob lrs tuser lrwstipekxacd\r\na15 OK Getacl completed" + done)
        #expect(f.send("a16 DELETE Lists/Swift\r\n") == "a16 OK Delete completed" + done)
        f.send("a17 CREATE Lists/Swift\r\n")
        #expect(
            f.send("a18 GETACL Lists/Swift\r\n")
                == "* ACL Lists/Swift tuser lrwstipekxacd\r\na18 OK Getacl completed" + done)
        #expect(
            f.send("a19 GETACL INBOX\r\n") == "* ACL INBOX bob lr tuser lrwstipekxacd\r\na19 OK Getacl completed" + done)
        // A \Noselect directory has no ACL of its own to set.
        #expect(f.send("a20 SETACL Lists bob lr\r\n") == "a20 NO [NONEXISTENT] Mailbox doesn't exist: Lists" + done)
        // The owner keeps the admin right.
        #expect(f.send("a7 SETACL Work owner lr\r\n") == "a7 OK Setacl complete" + done)
        #expect(f.send("a8 MYRIGHTS Work\r\n") == "* MYRIGHTS Work lra\r\na8 OK Myrights completed" + done)
        #expect(f.send("a9 GETACL Work\r\n") == "* ACL Work tuser alr\r\na9 OK Getacl completed" + done)
        #expect(try text(mail + "/.imap/Work/dovecot-acl") == "owner alr\n")
    }

    /// Rights enforced as on Maildir: Dovecot's answers with `owner lr` (and the admin right kept).
    @Test func rightsEnforced() throws {
        let f = try MboxSessionFixture(acl: ACLSettings())
        f.send("a2 CREATE Work\r\n")
        f.send("a7 SETACL Work owner lr\r\n")
        let select = f.send("a10 SELECT Work\r\n")
        #expect(select.contains("* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"))
        #expect(select.hasSuffix("a10 OK [READ-ONLY] Select completed" + done))
        #expect(f.send("a11 APPEND Work {3+}\r\nabc\r\n") == "a11 NO [NOPERM] Permission denied" + done)
        #expect(
            f.send("a12 STATUS Work (MESSAGES)\r\n")
                == "* STATUS Work (MESSAGES 0)\r\na12 OK [CLIENTBUG] Status on selected mailbox completed" + done)
        #expect(f.send("a13 DELETE Work\r\n") == "a13 NO [NOPERM] Permission denied" + done)
        // Without the lookup right a mailbox is hidden from LIST and missing for STATUS.
        try write(f.base + "/mail/.imap/Hidden/dovecot-acl", "owner rwstipekxa\n")
        f.send("c CREATE Hidden\r\n")
        #expect(!f.send("l LIST \"\" *\r\n").contains("Hidden"))
        #expect(f.send("m MYRIGHTS Hidden\r\n") == "* MYRIGHTS Hidden rwstipekxacd\r\nm OK Myrights completed" + done)
        try write(f.base + "/mail/.imap/Hidden/dovecot-acl", "owner wstipekxa\n")
        #expect(f.send("s STATUS Hidden (MESSAGES)\r\n") == "s NO Mailbox doesn't exist: Hidden" + done)
    }

    /// CREATE takes the create right from `~/mail/.imap/dovecot-acl`, for nested names too (Dovecot's parent
    /// lookup passes over mbox directories), and a nested new mailbox copies it; MYRIGHTS of a name that
    /// does not exist reads only the name's own file.
    @Test func createUsesTheRootDefault() throws {
        let f = try MboxSessionFixture(acl: ACLSettings())
        let mail = f.base + "/mail"
        f.send("c CREATE Lists/Swift\r\n")
        try write(mail + "/.imap/dovecot-acl", "owner lrwstipekxa\nuser=bob lr\n")
        #expect(f.send("a2 CREATE Lists/New\r\n").hasSuffix("] Create completed" + done))
        #expect(
            f.send("a3 GETACL Lists/New\r\n")
                == "* ACL Lists/New tuser akxeilprwtscd bob lr\r\na3 OK Getacl completed" + done)
        #expect(try text(mail + "/Lists/.imap/New/dovecot-acl") == "owner akxeilprwts\nuser=bob lr\n")
        #expect(f.send("a4 CREATE Top\r\n").hasSuffix("] Create completed" + done))
        #expect(f.send("a5 GETACL Top\r\n") == "* ACL Top tuser lrwstipekxacd\r\na5 OK Getacl completed" + done)
        try write(mail + "/.imap/dovecot-acl", "owner lr\n")
        #expect(f.send("b2 CREATE Top2\r\n") == "b2 NO [NOPERM] Permission denied" + done)
        #expect(f.send("b3 CREATE Lists/Top2\r\n") == "b3 NO [NOPERM] Permission denied" + done)
        #expect(f.send("b4 RENAME Top Lists/Top3\r\n") == "b4 NO [NOPERM] Permission denied" + done)
        #expect(f.send("b5 RENAME Top Top3\r\n") == "b5 NO [NOPERM] Permission denied" + done)
        #expect(f.send("b6 MYRIGHTS Top9\r\n") == "* MYRIGHTS Top9 lrwstipekxacd\r\nb6 OK Myrights completed" + done)
        // A directory's own control file is not where CREATE looks.
        try write(mail + "/.imap/dovecot-acl", "owner lrwstipekxa\n")
        try write(mail + "/.imap/Lists/dovecot-acl", "owner lrwstipea\n")
        #expect(f.send("b7 CREATE Lists/Y\r\n").hasSuffix("] Create completed" + done))
    }
}
