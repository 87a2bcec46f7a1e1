import TernIMAP
import TernMailbox
import Testing

@Suite struct IMAPMailSessionMailboxTests {
    @Test func selectAndExamine() throws {
        let f = try SessionFixture()
        try f.deliver("Subject: x\n\nbody\n", name: "1.M1P1.host")
        let validity = try f.uidValidity()
        let id = try f.mailboxID()
        #expect(
            f.send("a SELECT INBOX\r\n")
                == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
                + "* 1 EXISTS\r\n* 1 RECENT\r\n* OK [UNSEEN 1] First unseen.\r\n"
                + "* OK [UIDVALIDITY \(validity)] UIDs valid\r\n* OK [UIDNEXT 2] Predicted next UID\r\n"
                + "* OK [HIGHESTMODSEQ 1] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\n"
                + "a OK [READ-WRITE] Select completed" + done)
        #expect(
            f.send("b EXAMINE inbox\r\n")
                == "* OK [CLOSED] Previous mailbox closed.\r\n"
                + "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                + "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"
                + "* 1 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 1] First unseen.\r\n"
                + "* OK [UIDVALIDITY \(validity)] UIDs valid\r\n* OK [UIDNEXT 2] Predicted next UID\r\n"
                + "* OK [HIGHESTMODSEQ 1] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\n"
                + "b OK [READ-ONLY] Examine completed" + done)
        #expect(f.send("c STORE 1 +FLAGS (\\Seen)\r\n") == "c OK Store ignored with read-only mailbox" + done)
        #expect(
            f.send("d SELECT Nope\r\n")
                == "* OK [CLOSED] Previous mailbox closed.\r\nd NO Mailbox doesn't exist: Nope" + done)
        #expect(f.send("e FETCH 1 FLAGS\r\n") == "e BAD No mailbox selected" + done)
    }

    @Test func createDeleteRename() throws {
        let f = try SessionFixture()
        let created = f.send("a CREATE Foo/Bar\r\n")
        #expect(created == "a OK [MAILBOXID (\(try f.mailboxID("Foo/Bar")))] Create completed" + done)
        #expect(f.send("b CREATE Foo/Bar/\r\n") == "b NO [ALREADYEXISTS] Mailbox already exists" + done)
        #expect(f.send("c CREATE INBOX\r\n") == "c NO [ALREADYEXISTS] Mailbox already exists" + done)
        #expect(f.send("d CREATE a.b\r\n") == "d NO [CANNOT] Character not allowed in mailbox name: '.'" + done)
        #expect(
            f.send("e LIST \"\" *\r\n")
                == "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\Noselect \\HasChildren) \"/\" Foo\r\n"
                + "* LIST (\\HasNoChildren) \"/\" Foo/Bar\r\ne OK List completed" + done)
        #expect(f.send("f RENAME Foo/Bar Baz\r\n") == "f OK Rename completed" + done)
        #expect(f.send("g RENAME Nope X\r\n") == "g NO [NONEXISTENT] Mailbox doesn't exist: Nope" + done)
        #expect(f.send("h DELETE Baz\r\n") == "h OK Delete completed" + done)
        #expect(f.send("i DELETE Baz\r\n") == "i NO [NONEXISTENT] Mailbox doesn't exist: Baz" + done)
        #expect(f.send("j DELETE INBOX\r\n") == "j NO INBOX can't be deleted" + done)
        #expect(f.send("k LIST \"\" %\r\n") == "* LIST (\\HasNoChildren) \"/\" INBOX\r\nk OK List completed" + done)
    }

    @Test func listForms() throws {
        let f = try SessionFixture(mailboxes: [MailboxSettings(name: "Sent", specialUse: ["\\Sent"])])
        f.send("a CREATE Sent\r\n")
        f.send("b CREATE Work/Old\r\n")
        #expect(f.send("c LIST \"\" \"\"\r\n") == "* LIST (\\Noselect) \"/\" \"\"\r\nc OK List completed" + done)
        #expect(
            f.send("d LIST \"\" *\r\n")
                == "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"
                + "* LIST (\\Noselect \\HasChildren) \"/\" Work\r\n* LIST (\\HasNoChildren) \"/\" Work/Old\r\n"
                + "d OK List completed" + done)
        #expect(
            f.send("e LIST (SPECIAL-USE) \"\" *\r\n") == "* LIST (\\Sent) \"/\" Sent\r\ne OK List completed" + done)
        #expect(
            f.send("g LIST \"\" Work/% RETURN (CHILDREN STATUS (MESSAGES UIDNEXT))\r\n")
                == "* LIST (\\HasNoChildren) \"/\" Work/Old\r\n* STATUS Work/Old (MESSAGES 0 UIDNEXT 1)\r\n"
                + "g OK List completed" + done)
        #expect(
            f.send("h LIST \"\" W* RETURN (CHILDREN)\r\n")
                == "* LIST (\\NonExistent \\HasChildren) \"/\" Work\r\n* LIST (\\HasNoChildren) \"/\" Work/Old\r\n"
                + "h OK List completed" + done)
        #expect(f.send("i LIST \"\" inbox\r\n") == "* LIST (\\HasNoChildren) \"/\" INBOX\r\ni OK List completed" + done)
    }

    @Test func subscriptions() throws {
        let f = try SessionFixture()
        f.send("a CREATE Foo/Bar\r\n")
        #expect(f.send("b SUBSCRIBE Foo\r\n") == "b NO Mailbox doesn't exist: Foo" + done)
        #expect(f.send("c SUBSCRIBE Foo/Bar\r\n") == "c OK Subscribe completed" + done)
        #expect(f.send("d LSUB \"\" *\r\n") == "* LSUB () \"/\" Foo/Bar\r\nd OK Lsub completed" + done)
        #expect(
            f.send("e LIST (SUBSCRIBED) \"\" *\r\n")
                == "* LIST (\\Subscribed) \"/\" Foo/Bar\r\ne OK List completed" + done)
        #expect(f.send("f UNSUBSCRIBE Foo/Bar\r\n") == "f OK Unsubscribe completed" + done)
        #expect(f.send("g LSUB \"\" *\r\n") == "g OK Lsub completed" + done)
    }

    @Test func status() throws {
        let f = try SessionFixture()
        try f.deliver("Subject: x\n\nbody\n", name: "1.M1P1.host")
        let validity = try f.uidValidity()
        #expect(
            f.send("a STATUS INBOX (UNSEEN SIZE MESSAGES RECENT UIDNEXT UIDVALIDITY)\r\n")
                == "* STATUS INBOX (MESSAGES 1 RECENT 1 UIDNEXT 2 UIDVALIDITY \(validity) UNSEEN 1 SIZE 20)\r\n"
                + "a OK Status completed" + done)
        #expect(f.send("b STATUS Nope (MESSAGES)\r\n") == "b NO Mailbox doesn't exist: Nope" + done)
    }

    /// Dovecot 2.3.19 answers STATUS on the selected mailbox (RFC 3501 §6.3.10: a client should not ask)
    /// with `[CLIENTBUG]`; other mailboxes get the plain reply.
    @Test func statusOnSelectedMailbox() throws {
        let f = try SessionFixture()
        try f.deliver("Subject: x\n\nbody\n", name: "1.M1P1.host")
        let created = f.send("a CREATE x\r\n")
        #expect(created == "a OK [MAILBOXID (\(try f.mailboxID("x")))] Create completed" + done)
        f.send("b SELECT INBOX\r\n")
        #expect(
            f.send("c STATUS INBOX (MESSAGES UIDNEXT)\r\n")
                == "* STATUS INBOX (MESSAGES 1 UIDNEXT 2)\r\n"
                + "c OK [CLIENTBUG] Status on selected mailbox completed" + done)
        #expect(f.send("e STATUS x (MESSAGES)\r\n") == "* STATUS x (MESSAGES 0)\r\ne OK Status completed" + done)
        f.send("f EXAMINE x\r\n")
        #expect(
            f.send("g STATUS x (MESSAGES)\r\n")
                == "* STATUS x (MESSAGES 0)\r\ng OK [CLIENTBUG] Status on selected mailbox completed" + done)
        #expect(f.send("h STATUS INBOX (MESSAGES)\r\n") == "* STATUS INBOX (MESSAGES 1)\r\nh OK Status completed" + done)
        #expect(f.send("i STATUS \"\" (MESSAGES)\r\n") == "i NO [CANNOT] Invalid mailbox name: Name is empty" + done)
    }
}
