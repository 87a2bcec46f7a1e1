import Foundation
import TernIMAP
import TernMailbox
import Testing

/// RFC 4314 ACL with Dovecot 2.3.19's acl + imap_acl plugins (vfile backend): replies as a real Dovecot sent
/// them on loopback (its user renamed to the fixture's `tuser`), and the rights enforced in other commands.
@Suite struct IMAPMailSessionACLTests {
    /// Writes a dovecot-acl file into a mailbox, as an administrator (or Dovecot) would.
    func writeACL(_ f: SessionFixture, _ mailbox: String, _ text: String) throws {
        let dir = mailbox == "INBOX" ? f.root : f.root + "/." + mailbox
        if mailbox != "INBOX" { try f.store.createMailbox(mailbox) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/dovecot-acl"))
    }

    @Test func withoutThePluginTheCommandsAreUnknown() throws {
        let f = try SessionFixture()
        #expect(f.send("a MYRIGHTS INBOX\r\n") == "a BAD Error in IMAP command MYRIGHTS: Unknown command" + done)
        #expect(!f.send("b CAPABILITY\r\n").contains("ACL"))
        let rightsOnly = try SessionFixture(acl: ACLSettings(commands: false))
        #expect(rightsOnly.send("a GETACL INBOX\r\n") == "a BAD Error in IMAP command GETACL: Unknown command" + done)
    }

    /// RFC 4314 §3's examples, answered as Dovecot answers them.
    @Test func rfc4314Examples() throws {
        let f = try SessionFixture(acl: ACLSettings())
        f.send("c CREATE INBOX/Drafts\r\n")
        // §3.1: uppercase and unknown rights are refused (Dovecot names the letter).
        #expect(
            f.send("A035 SETACL INBOX/Drafts John lrQswicda\r\n")
                == "A035 BAD Error in IMAP command SETACL: Invalid ACL right: Q" + done)
        #expect(
            f.send("A036 SETACL INBOX/Drafts John lrqswicda\r\n")
                == "A036 BAD Error in IMAP command SETACL: Invalid ACL right: q" + done)
        #expect(f.send("A037 SETACL INBOX/Drafts John lrswicda\r\n") == "A037 OK Setacl complete" + done)
        // §3.3 GETACL: c and d map to k x and e t (§2.1.1); the owner's defaults come last.
        #expect(
            f.send("A038 GETACL INBOX/Drafts\r\n")
                == "* ACL INBOX/Drafts John akxeilrwtscd tuser lrwstipekxacd\r\nA038 OK Getacl completed" + done)
        // §3.2 DELETEACL.
        #expect(f.send("A039 DELETEACL INBOX/Drafts John\r\n") == "A039 OK Deleteacl complete" + done)
        #expect(
            f.send("A040 GETACL INBOX/Drafts\r\n")
                == "* ACL INBOX/Drafts tuser lrwstipekxacd\r\nA040 OK Getacl completed" + done)
        // §3.4 LISTRIGHTS: Dovecot lists every right as optional.
        #expect(
            f.send("a LISTRIGHTS ~/Mail/saved smith\r\n")
                == "* LISTRIGHTS ~/Mail/saved smith \"\" l r w s t p i e k x a c d\r\na OK Listrights completed" + done)
        // §3.5 MYRIGHTS.
        #expect(
            f.send("A003 MYRIGHTS INBOX\r\n") == "* MYRIGHTS INBOX lrwstipekxacd\r\nA003 OK Myrights completed" + done)
    }

    /// Captured from Dovecot 2.3.19 (user alice, here tuser).
    @Test func dovecotTranscript() throws {
        let f = try SessionFixture(acl: ACLSettings())
        // Dovecot's transcript but for OBJECTID's MAILBOXID, which Dovecot 2.3 does not have.
        let created = f.send("a7 CREATE Shared1\r\n")
        #expect(created == "a7 OK [MAILBOXID (\(try f.mailboxID("Shared1")))] Create completed" + done)
        #expect(f.send("a8 SETACL Shared1 bob lr\r\n") == "a8 OK Setacl complete" + done)
        #expect(f.send("a9 GETACL Shared1\r\n") == "* ACL Shared1 bob lr tuser lrwstipekxacd\r\na9 OK Getacl completed" + done)
        #expect(try String(contentsOfFile: f.root + "/.Shared1/dovecot-acl", encoding: .utf8) == "user=bob lr\n")
        #expect(f.send("b1 SETACL Shared1 bob +i\r\n") == "b1 OK Setacl complete" + done)
        #expect(
            f.send("b3 SETACL Shared1 anyone l\r\n")
                == "b3 BAD Error in IMAP command SETACL: 'anyone' identifier is disallowed" + done)
        #expect(f.send("b4 SETACL Shared1 -carol w\r\n") == "b4 OK Setacl complete" + done)
        #expect(
            f.send("b5 GETACL Shared1\r\n")
                == "* ACL Shared1 bob ilr -carol w tuser lrwstipekxacd\r\nb5 OK Getacl completed" + done)
        #expect(try String(contentsOfFile: f.root + "/.Shared1/dovecot-acl", encoding: .utf8) == "user=bob ilr\n-user=carol w\n")
        // The owner keeps the admin right.
        #expect(f.send("b6 SETACL INBOX owner lr\r\n") == "b6 OK Setacl complete" + done)
        #expect(f.send("b7 MYRIGHTS INBOX\r\n") == "* MYRIGHTS INBOX lra\r\nb7 OK Myrights completed" + done)
        #expect(f.send("b8 GETACL INBOX\r\n") == "* ACL INBOX tuser alr\r\nb8 OK Getacl completed" + done)
        #expect(f.send("b9 SETACL INBOX tuser lrwstipekxa\r\n") == "b9 OK Setacl complete" + done)
        #expect(
            f.send("b10 GETACL INBOX\r\n")
                == "* ACL INBOX owner alr tuser akxeilprwtscd\r\nb10 OK Getacl completed" + done)
        #expect(f.send("b11 DELETEACL INBOX tuser\r\n") == "b11 OK Deleteacl complete" + done)
        #expect(f.send("b12 GETACL INBOX\r\n") == "* ACL INBOX tuser alr\r\nb12 OK Getacl completed" + done)
        #expect(try String(contentsOfFile: f.root + "/dovecot-acl", encoding: .utf8) == "owner alr\n")
    }

    @Test func dovecotErrors() throws {
        let f = try SessionFixture(acl: ACLSettings())
        f.send("c CREATE Shared1\r\n")
        #expect(f.send("a1 GETACL Nope\r\n") == "a1 NO [NONEXISTENT] Mailbox doesn't exist: Nope" + done)
        #expect(f.send("a2 MYRIGHTS Nope\r\n") == "* MYRIGHTS Nope lrwstipekxacd\r\na2 OK Myrights completed" + done)
        #expect(f.send("a4 SETACL Nope bob lr\r\n") == "a4 NO [NONEXISTENT] Mailbox doesn't exist: Nope" + done)
        #expect(f.send("a5 DELETEACL Nope bob\r\n") == "a5 NO [NONEXISTENT] Mailbox doesn't exist: Nope" + done)
        #expect(f.send("a7 SETACL Shared1 bob \"\"\r\n") == "a7 OK Setacl complete" + done)
        #expect(f.send("a8 GETACL Shared1\r\n") == "* ACL Shared1 bob \"\" tuser lrwstipekxacd\r\na8 OK Getacl completed" + done)
        #expect(f.send("a9 DELETEACL Shared1 nobody\r\n") == "a9 OK Deleteacl complete" + done)
        #expect(f.send("a12 SETACL Shared1 $staff lr\r\n") == "a12 OK Setacl complete" + done)
        #expect(f.send("a13 SETACL Shared1 owner -a\r\n") == "a13 OK Setacl complete" + done)
        #expect(f.send("a14 SETACL Shared1 bob -lr\r\n") == "a14 OK Setacl complete" + done)
        #expect(
            f.send("a15 GETACL Shared1\r\n")
                == "* ACL Shared1 $staff lr bob \"\" tuser lrwstipekxacd\r\na15 OK Getacl completed" + done)
        #expect(try String(contentsOfFile: f.root + "/.Shared1/dovecot-acl", encoding: .utf8) == "group=staff lr\nuser=bob \n")
        #expect(f.send("a16 SETACL Shared1 bob lrc\r\n") == "a16 OK Setacl complete" + done)
        #expect(f.send("a17 GETACL Shared1\r\n").hasPrefix("* ACL Shared1 $staff lr bob kxlrc tuser"))
        #expect(
            f.send("a19 SETACL Shared1 #x l\r\n")
                == "a19 BAD Error in IMAP command SETACL: Global ACLs can't be modified: #x" + done)
        #expect(f.send("a20 SETACL \"\" bob l\r\n") == "a20 NO [NONEXISTENT] Mailbox doesn't exist: " + done)
        #expect(f.send("a26 GETACL\r\n") == "a26 BAD Error in IMAP command GETACL: Missing arguments" + done)
        #expect(f.send("a27 SETACL Shared1 bob\r\n") == "a27 BAD Error in IMAP command SETACL: Missing arguments" + done)
        #expect(
            f.send("a28 LISTRIGHTS Shared1 -bob extra\r\n")
                == "* LISTRIGHTS Shared1 -bob \"\" l r w s t p i e k x a c d\r\na28 OK Listrights completed" + done)
        let anyone = try SessionFixture(acl: ACLSettings(anyoneAllowed: true))
        anyone.send("c CREATE Pub\r\n")
        #expect(anyone.send("a SETACL Pub anyone lr\r\n") == "a OK Setacl complete" + done)
        #expect(try String(contentsOfFile: anyone.root + "/.Pub/dovecot-acl", encoding: .utf8) == "anyone lr\n")
    }

    /// Files Dovecot was given by hand, and its answers to the owner.
    @Test func rightsFromFiles() throws {
        let f = try SessionFixture(acl: ACLSettings())
        try writeACL(f, "T1", "user=tuser lr\n")
        try writeACL(f, "T2", "# comment\n\nuser=bob rl\nanyone lr\n-user=bob r\nauthenticated i\ngroup=staff w\nowner lrwstipekxa\n")
        try writeACL(f, "T4", "owner lr\nuser=tuser i\n")
        #expect(f.send("a1 MYRIGHTS T1\r\n") == "* MYRIGHTS T1 lr\r\na1 OK Myrights completed" + done)
        #expect(f.send("a2 GETACL T1\r\n") == "a2 NO [NOPERM] You lack administrator privileges on this mailbox" + done)
        #expect(
            f.send("a4 GETACL T2\r\n")
                == "* ACL T2 anyone lr authenticated i $staff w tuser akxeilprwtscd bob lr -bob r\r\na4 OK Getacl completed"
                + done)
        #expect(f.send("a7 MYRIGHTS T4\r\n") == "* MYRIGHTS T4 i\r\na7 OK Myrights completed" + done)
        #expect(f.send("a8 GETACL T4\r\n") == "a8 NO [NONEXISTENT] Mailbox doesn't exist: T4" + done)
        #expect(f.send("a9 SETACL T1 $g l\r\n") == "a9 NO [NOPERM] You lack administrator privileges on this mailbox" + done)
    }

    /// Dovecot 2.3.19 on Maildir with `owner lrwstipea` on Sub: a name without a mailbox has the owner's
    /// defaults, but CREATE below Sub takes Sub's ACL.
    @Test func missingChildHasDefaultsButCreateAsksTheParent() throws {
        let f = try SessionFixture(acl: ACLSettings())
        try writeACL(f, "Sub", "owner lrwstipea\n")
        #expect(f.send("a2 MYRIGHTS Sub\r\n") == "* MYRIGHTS Sub lrwstipead\r\na2 OK Myrights completed" + done)
        #expect(
            f.send("a3 MYRIGHTS Sub/Nope\r\n") == "* MYRIGHTS Sub/Nope lrwstipekxacd\r\na3 OK Myrights completed" + done)
        #expect(f.send("a4 CREATE Sub/New\r\n") == "a4 NO [NOPERM] Permission denied" + done)
    }

    @Test func readOnlyWithoutWriteRights() throws {
        let f = try SessionFixture(acl: ACLSettings())
        try writeACL(f, "T1", "user=tuser lr\n")
        try f.deliver("Subject: x\n\nbody\n", name: "1000.M1P1.host", folder: "T1")
        let select = f.send("a SELECT T1\r\n")
        #expect(select.contains("* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"))
        #expect(select.hasSuffix("a OK [READ-ONLY] Select completed" + done))
        // Dovecot's acl plugin drops the flags silently; EXPUNGE expunges nothing.
        #expect(f.send("b STORE 1 +FLAGS (\\Seen)\r\n") == "b OK Store completed" + done)
        #expect(f.send("c FETCH 1 FLAGS\r\n") == "* 1 FETCH (FLAGS (\\Recent))\r\nc OK Fetch completed" + done)
        #expect(f.send("d EXPUNGE\r\n") == "d OK Expunge completed" + done)
        #expect(f.send("e COPY 1 T1\r\n") == "e NO [NOPERM] Permission denied" + done)
        #expect(f.send("f APPEND T1 {3+}\r\nabc\r\n") == "f NO [NOPERM] Permission denied" + done)
        #expect(f.send("g CREATE T1/sub\r\n") == "g NO [NOPERM] Permission denied" + done)
        #expect(f.send("h DELETE T1\r\n") == "h NO [NOPERM] Permission denied" + done)
        #expect(
            f.send("i STATUS T1 (MESSAGES)\r\n")
                == "* STATUS T1 (MESSAGES 1)\r\ni OK [CLIENTBUG] Status on selected mailbox completed" + done)
    }

    @Test func flagRightsOneByOne() throws {
        let f = try SessionFixture(acl: ACLSettings())
        try writeACL(f, "W", "user=tuser lrsi\n")
        try f.deliver("Subject: x\n\nbody\n", name: "1000.M1P1.host", folder: "W")
        let select = f.send("a SELECT W\r\n")
        #expect(select.contains("* OK [PERMANENTFLAGS (\\Seen)] Flags permitted.\r\n"))
        #expect(select.hasSuffix("a OK [READ-WRITE] Select completed" + done))
        #expect(
            f.send("b STORE 1 +FLAGS (\\Seen \\Flagged $foo)\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\nb OK Store completed" + done)
        #expect(f.send("c STORE 1 +FLAGS (\\Deleted)\r\n") == "c OK Store completed" + done)
        #expect(
            f.send("d STORE 1 FLAGS (\\Flagged)\r\n") == "* 1 FETCH (FLAGS (\\Recent))\r\nd OK Store completed" + done)
    }

    @Test func lookupHidesMailboxes() throws {
        let f = try SessionFixture(acl: ACLSettings())
        try writeACL(f, "Hidden", "user=tuser r\n")
        try writeACL(f, "NoRead", "user=tuser l\n")
        f.send("c CREATE Open\r\n")
        #expect(
            f.send("a LIST \"\" *\r\n")
                == "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren) \"/\" NoRead\r\n"
                + "* LIST (\\HasNoChildren) \"/\" Open\r\na OK List completed" + done)
        #expect(f.send("b STATUS NoRead (MESSAGES)\r\n") == "b NO [NOPERM] Permission denied" + done)
        // STATUS and SELECT need the read right only (Dovecot opens the mailbox with it).
        #expect(f.send("c STATUS Hidden (MESSAGES)\r\n") == "* STATUS Hidden (MESSAGES 0)\r\nc OK Status completed" + done)
        try writeACL(f, "None", "user=tuser i\n")
        #expect(f.send("c2 STATUS None (MESSAGES)\r\n") == "c2 NO Mailbox doesn't exist: None" + done)
        #expect(f.send("d SELECT NoRead\r\n") == "d NO [NOPERM] Permission denied" + done)
        #expect(f.send("e MYRIGHTS Hidden\r\n") == "* MYRIGHTS Hidden r\r\ne OK Myrights completed" + done)
        f.send("s SUBSCRIBE Hidden\r\n")
        #expect(f.send("l LSUB \"\" *\r\n") == "l OK Lsub completed" + done)
    }

    /// Dovecot 2.3.19 with `owner lrwsti` on the mailbox: MOVE, CLOSE and RENAME without e, x, k.
    @Test func withoutExpungeDeleteOrCreate() throws {
        let f = try SessionFixture(acl: ACLSettings())
        try writeACL(f, "K1", "owner lrwsti\n")
        try f.deliver("Subject: m\n\nx\n", name: "1000.M1P1.host", folder: "K1")
        #expect(f.send("a2 RENAME K1 X2\r\n") == "a2 NO [NOPERM] Permission denied" + done)
        f.send("c CREATE Shared1\r\n")
        #expect(f.send("a3 RENAME Shared1 K1/sub\r\n") == "a3 NO [NOPERM] Permission denied" + done)
        f.send("a4 SELECT K1\r\n")
        #expect(f.send("a5 MOVE 1 INBOX\r\n") == "a5 NO [NOPERM] Permission denied" + done)
        #expect(f.send("a6 STORE 1 +FLAGS (\\Deleted)\r\n") == "* 1 FETCH (FLAGS (\\Deleted \\Recent))\r\na6 OK Store completed" + done)
        #expect(f.send("a7 CLOSE\r\n") == "a7 OK Closed without expunging: Permission denied" + done)
        f.send("a8 SELECT K1\r\n")
        #expect(f.send("a9 FETCH 1 FLAGS\r\n") == "* 1 FETCH (FLAGS (\\Deleted))\r\na9 OK Fetch completed" + done)
    }

    /// `acl = vfile:DIR`: Dovecot 2.3.19 applies the global file after the mailbox's own and shows it with `#`
    /// (its user was alice, listed before bob; tuser sorts after).
    @Test func globalACLDirectory() throws {
        let dir = NSTemporaryDirectory() + "tern-global-acl-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try SessionFixture(acl: ACLSettings(globalPath: dir))
        try writeACL(f, "G1", "user=tuser lrwi\nuser=bob lr\n")
        try Data("user=tuser lrs\nanyone l\n".utf8).write(to: URL(fileURLWithPath: dir + "/G1"))
        #expect(f.send("a1 MYRIGHTS G1\r\n") == "* MYRIGHTS G1 lrs\r\na1 OK Myrights completed" + done)
        #expect(f.send("a2 GETACL G1\r\n") == "a2 NO [NOPERM] You lack administrator privileges on this mailbox" + done)
        try Data("user=tuser lrwstipekxa\nanyone l\n".utf8).write(to: URL(fileURLWithPath: dir + "/G1"))
        #expect(f.send("a3 MYRIGHTS G1\r\n") == "* MYRIGHTS G1 lrwstipekxacd\r\na3 OK Myrights completed" + done)
        #expect(
            f.send("a4 GETACL G1\r\n")
                == "* ACL G1 bob lr tuser ilrw #anyone l #tuser akxeilprwtscd\r\na4 OK Getacl completed" + done)
        #expect(f.send("a5 SETACL G1 carol l\r\n") == "a5 OK Setacl complete" + done)
        #expect(
            try String(contentsOfFile: f.root + "/.G1/dovecot-acl", encoding: .utf8) == "user=bob lr\nuser=carol l\nuser=tuser ilrw\n")
        #expect(f.send("a6 MYRIGHTS G3\r\n") == "* MYRIGHTS G3 lrwstipekxacd\r\na6 OK Myrights completed" + done)
    }
}
