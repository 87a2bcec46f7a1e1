import Foundation
import TernIMAP
import TernMailbox
import Testing

/// IMAP4rev2 (RFC 9051) after `ENABLE IMAP4rev2`, one test per item of Appendix E that changes what the
/// server says, with the RFC's own examples where it has them. Dovecot 2.3.19 has no IMAP4rev2: the RFC decides.
@Suite struct IMAPMailSessionRev2Tests {
    /// §6.3.1's example: `* ENABLED IMAP4rev2`; IMAP4rev2 stands next to IMAP4rev1 in the capability list.
    @Test func enableIMAP4rev2() throws {
        let f = try SessionFixture()
        #expect(f.send("c CAPABILITY\r\n").hasPrefix("* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR "))
        #expect(f.send("t2 ENABLE IMAP4rev2\r\n") == "* ENABLED IMAP4rev2\r\nt2 OK Enabled" + done)
        // Not advertised (imap_capability without it): nothing is enabled and no `* ENABLED` is sent.
        let plain = try SessionFixture(capabilities: ["IMAP4rev1", "ENABLE"])
        #expect(plain.send("t2 ENABLE IMAP4rev2\r\n") == "t2 OK Enabled" + done)
    }

    /// Appendix E: SELECT/EXAMINE return a LIST line (§6.3.2), and neither RECENT nor `OK [UNSEEN]` (\Recent is
    /// gone, §2.3.2).
    @Test func selectReportsListNotRecent() throws {
        let f = try SessionFixture()
        try f.deliver("Subject: a\n\nx\n", name: "1000.M1P1.host")
        f.send("e ENABLE IMAP4rev2\r\n")
        let validity = try f.uidValidity()
        #expect(
            f.send("A142 SELECT INBOX\r\n")
                == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
                + "* 1 EXISTS\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
                + "* OK [UIDVALIDITY \(validity)] UIDs valid\r\n* OK [UIDNEXT 2] Predicted next UID\r\n"
                + "* OK [HIGHESTMODSEQ 1] Highest\r\n* OK [MAILBOXID (\(try f.mailboxID()))] Ok\r\n"
                + "A142 OK [READ-WRITE] Select completed" + done)
        // FETCH FLAGS leaves out \Recent; a new message brings EXISTS but no RECENT.
        #expect(f.send("a FETCH 1 FLAGS\r\n") == "* 1 FETCH (FLAGS ())\r\na OK Fetch completed" + done)
        try f.deliver("Subject: b\n\ny\n", name: "1001.M1P1.host")
        #expect(f.send("b NOOP\r\n") == "* 2 EXISTS\r\nb OK NOOP completed" + done)
        #expect(f.send("c STORE 2 +FLAGS (\\Seen)\r\n") == "* 2 FETCH (FLAGS (\\Seen))\r\nc OK Store completed" + done)
    }

    /// Appendix E: SEARCH answers with ESEARCH (§6.4.4 examples A282, A283), UID SEARCH with `UID`.
    @Test func searchAnswersESearch() throws {
        let f = try SessionFixture()
        f.send("e ENABLE IMAP4rev2\r\n")
        try f.selectThree()
        #expect(f.send("A283 SEARCH TEXT \"string not in mailbox\"\r\n") == "* ESEARCH (TAG \"A283\")\r\nA283 OK Search completed" + done)
        #expect(f.send("A284 SEARCH ALL\r\n") == "* ESEARCH (TAG \"A284\") ALL 1:3\r\nA284 OK Search completed" + done)
        #expect(
            f.send("A285 UID SEARCH SUBJECT beta\r\n")
                == "* ESEARCH (TAG \"A285\") UID ALL 2\r\nA285 OK Search completed" + done)
        #expect(
            f.send("A282 SEARCH RETURN (MIN COUNT) NOT FROM \"Smith\"\r\n")
                == "* ESEARCH (TAG \"A282\") MIN 1 COUNT 3\r\nA282 OK Search completed" + done)
        // rev2 keeps SEARCH's CHARSET (UTF-8 at least, §6.4.4), unlike UTF8=ACCEPT alone.
        #expect(f.send("A286 SEARCH CHARSET UTF-8 ALL\r\n").hasPrefix("* ESEARCH (TAG \"A286\") ALL 1:3\r\n"))
        // A rev1 session still gets `* SEARCH`.
        let rev1 = try SessionFixture()
        try rev1.selectThree()
        #expect(rev1.send("a SEARCH ALL\r\n") == "* SEARCH 1 2 3\r\na OK Search completed" + done)
    }

    /// Appendix E: STATUS DELETED and SIZE (§6.3.11).
    @Test func statusDeletedAndSize() throws {
        let f = try SessionFixture()
        f.send("e ENABLE IMAP4rev2\r\n")
        try f.selectThree()
        f.send("a STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n")
        #expect(f.send("b CREATE blurdybloop\r\n").hasSuffix("] Create completed" + done))
        #expect(
            f.send("A042 STATUS blurdybloop (UIDNEXT MESSAGES DELETED SIZE)\r\n")
                == "* STATUS blurdybloop (MESSAGES 0 UIDNEXT 1 SIZE 0 DELETED 0)\r\nA042 OK Status completed" + done)
        #expect(f.send("c STATUS INBOX (DELETED)\r\n").hasPrefix("* STATUS INBOX (DELETED 2)\r\n"))
    }

    /// Appendix E: LIST-EXTENDED is part of the base: a name with no mailbox of its own (an implied parent)
    /// is `\NonExistent` even in the basic form (§6.3.9, §7.3.1).
    @Test func listReportsNonExistent() throws {
        let f = try SessionFixture()
        try FileManager.default.createDirectory(atPath: f.root + "/.a.b/cur", withIntermediateDirectories: true)
        #expect(f.send("a LIST \"\" a\r\n").hasPrefix("* LIST (\\Noselect \\HasChildren) \"/\" a\r\n"))
        f.send("e ENABLE IMAP4rev2\r\n")
        #expect(f.send("b LIST \"\" a\r\n").hasPrefix("* LIST (\\NonExistent \\HasChildren) \"/\" a\r\n"))
        f.send("c SUBSCRIBE a/b\r\n")
        #expect(
            f.send("d LIST (SUBSCRIBED) \"\" \"a/*\"\r\n").hasPrefix("* LIST (\\Subscribed) \"/\" a/b\r\n"))
    }

    /// Appendix E: UID EXPUNGE (from UIDPLUS) is part of the base (§6.4.9's example, on Tern's UIDs).
    @Test func uidExpunge() throws {
        let f = try SessionFixture()
        f.send("e ENABLE IMAP4rev2\r\n")
        try f.selectThree()
        f.send("a STORE 1:3 +FLAGS.SILENT (\\Deleted)\r\n")
        #expect(f.send("A003 UID EXPUNGE 2:3\r\n") == "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\nA003 OK Expunge completed" + done)
    }

    /// Appendix E: mailbox names are UTF-8 (§5.1): no modified UTF-7 on the wire, stored as Dovecot stores them.
    @Test func mailboxNamesAreUTF8() throws {
        let f = try SessionFixture()
        f.send("e ENABLE IMAP4rev2\r\n")
        let created = f.send("a CREATE \"Før\"\r\n")
        #expect(created == "a OK [MAILBOXID (\(try f.mailboxID("Før")))] Create completed" + done)
        #expect(FileManager.default.fileExists(atPath: f.root + "/.F&APg-r"))
        #expect(f.send("b LIST \"\" F*\r\n") == "* LIST (\\HasNoChildren) \"/\" \"Før\"\r\nb OK List completed" + done)
        #expect(f.send("c SELECT \"Før\"\r\n").contains("* LIST (\\HasNoChildren) \"/\" \"Før\"\r\n"))
    }

    /// Appendix E item 21: every unsolicited FETCH carries the UID (§6.1.2's NOOP example:
    /// `* 14 FETCH (UID 1305 FLAGS (\Seen \Deleted))`); the FETCH replies of STORE stay as they were (§6.4.6).
    @Test func unsolicitedFetchCarriesUID() throws {
        let f = try SessionFixture()
        f.send("e ENABLE IMAP4rev2\r\n")
        try f.selectThree()
        let other = IMAPMailSession(store: f.store, configuration: .init(user: "tuser", clock: { 0 }))
        _ = other.receive(Array("a SELECT INBOX\r\nb STORE 3 +FLAGS (\\Seen \\Deleted)\r\n".utf8))
        #expect(f.send("a047 NOOP\r\n") == "* 3 FETCH (UID 3 FLAGS (\\Deleted \\Seen))\r\na047 OK NOOP completed" + done)
        #expect(f.send("c STORE 2 +FLAGS (\\Seen)\r\n") == "* 2 FETCH (FLAGS (\\Seen))\r\nc OK Store completed" + done)
        // A rev1 session is told without the UID, as Dovecot does.
        let rev1 = try SessionFixture()
        try rev1.selectThree()
        let third = IMAPMailSession(store: rev1.store, configuration: .init(user: "tuser", clock: { 0 }))
        _ = third.receive(Array("a SELECT INBOX\r\nb STORE 3 +FLAGS (\\Seen)\r\n".utf8))
        #expect(rev1.send("n NOOP\r\n") == "* 3 FETCH (FLAGS (\\Seen \\Recent))\r\nn OK NOOP completed" + done)
    }

    /// §5.1: a denormalized UTF-8 name is taken in its NFC form in every command, so SELECT of the name
    /// CREATE was given opens that mailbox; §6.3.9.7: CREATE, RENAME and DELETE then answer with an unsolicited
    /// LIST carrying OLDNAME (the RFC's `* LIST () "/" "NewMailbox" ("OLDNAME" ("OldMailbox"))`), and SELECT's
    /// LIST line carries it too (§6.3.2). Bytes are compared: Swift's `==` would call NFD and NFC equal.
    @Test func denormalizedNamesGetOldName() throws {
        let f = try SessionFixture()
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        f.send("e ENABLE IMAP4rev2\r\n")
        let nfd = "Fo\u{308}re"
        let created = f.send("a CREATE \"\(nfd)\"\r\n")
        #expect(
            bytes(created)
                == bytes("* LIST () \"/\" \"F\u{F6}re\" (\"OLDNAME\" (\"\(nfd)\"))\r\n"
                    + "a OK [MAILBOXID (\(try f.mailboxID("F\u{F6}re")))] Create completed" + done))
        #expect(FileManager.default.fileExists(atPath: f.root + "/.F&APY-re"))
        #expect(
            bytes(f.send("b LIST \"\" F*\r\n")) == bytes("* LIST (\\HasNoChildren) \"/\" \"F\u{F6}re\"\r\nb OK List completed" + done))
        let selected = f.send("c SELECT \"\(nfd)\"\r\n")
        #expect(
            selected.utf8.split(separator: UInt8(ascii: "\n")).contains {
                Array($0) == bytes("* LIST (\\HasNoChildren) \"/\" \"F\u{F6}re\" (\"OLDNAME\" (\"\(nfd)\"))\r")
            })
        #expect(selected.hasSuffix("c OK [READ-WRITE] Select completed" + done))
        f.send("u UNSELECT\r\n")
        let nfdNew = "Bo\u{308}"
        #expect(
            bytes(f.send("r RENAME \"F\u{F6}re\" \"\(nfdNew)\"\r\n"))
                == bytes("* LIST () \"/\" \"B\u{F6}\" (\"OLDNAME\" (\"\(nfdNew)\"))\r\nr OK Rename completed" + done))
        #expect(FileManager.default.fileExists(atPath: f.root + "/.B&APY-"))
        #expect(
            bytes(f.send("d DELETE \"\(nfdNew)\"\r\n"))
                == bytes("* LIST (\\NonExistent) \"/\" \"B\u{F6}\" (\"OLDNAME\" (\"\(nfdNew)\"))\r\nd OK Delete completed" + done))
        // NFC names as given: no LIST. UTF8=ACCEPT alone also takes the NFC form, without OLDNAME (a rev2 item).
        #expect(f.send("g CREATE \"F\u{F8}r\"\r\n").hasPrefix("g OK "))
        let accept = try SessionFixture()
        accept.send("e ENABLE UTF8=ACCEPT\r\n")
        #expect(accept.send("a CREATE \"\(nfd)\"\r\n").hasPrefix("a OK "))
        #expect(FileManager.default.fileExists(atPath: accept.root + "/.F&APY-re"))
    }

    /// Appendix E item 1: sizes are 64-bit, so `<offset.length>` takes number64 (§9), as Dovecot 2.3.19 does;
    /// its answers and BAD texts, checked against one.
    @Test func partialTakesNumber64() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("c FETCH 1 BODY.PEEK[]<5000000000.10>\r\n")
                == "* 1 FETCH (BODY[]<5000000000> {0}\r\n)\r\nc OK Fetch completed" + done)
        #expect(f.send("d FETCH 3 BODY.PEEK[TEXT]<1.5000000000>\r\n").hasPrefix("* 3 FETCH (BODY[TEXT]<1> {6}\r\nhird\r\n)\r\n"))
        #expect(
            f.send("e FETCH 1 BODY.PEEK[]<9223372036854775808>\r\n")
                == "e BAD Error in IMAP command FETCH: Invalid BODY[..] parameter: Too big partial start" + done)
        #expect(
            f.send("g FETCH 1 BODY.PEEK[]<1.9223372036854775808>\r\n")
                == "g BAD Error in IMAP command FETCH: Invalid BODY[..] parameter: Too big partial end" + done)
        #expect(
            f.send("h FETCH 1 BODY.PEEK[]<1\r\n")
                == "h BAD Error in IMAP command FETCH: Invalid BODY[..] parameter: Missing '>' in partial" + done)
        #expect(f.send("i FETCH 1 BODY.PEEK[]<1.0>\r\n") == "* 1 FETCH (BODY[]<1> {0}\r\n)\r\ni OK Fetch completed" + done)
    }

    /// §7.5.2: in ENVELOPE, Date, Subject, In-Reply-To and Message-ID present but empty are `""` (absent: NIL),
    /// From/To/Cc/Bcc empty are NIL, and an empty Sender is the From; Dovecot 2.3.19's answer, checked against one.
    @Test func envelopeNilAndEmptyString() throws {
        let f = try SessionFixture()
        try f.deliver(
            "Date: \nSubject: \nFrom: a@b.c\nTo: \nSender: \nIn-Reply-To: \nMessage-ID: \n\nx\n", name: "1000.M1P1.host")
        try f.deliver("From: a@b.c\n\nx\n", name: "1001.M1P1.host")
        f.send("e ENABLE IMAP4rev2\r\n")
        f.send("s SELECT INBOX\r\n")
        #expect(
            f.send("c FETCH 1 ENVELOPE\r\n")
                == "* 1 FETCH (ENVELOPE (\"\" \"\" ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) "
                + "NIL NIL NIL \"\" \"\"))\r\nc OK Fetch completed" + done)
        #expect(f.send("d FETCH 2 ENVELOPE\r\n").hasPrefix("* 2 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\""))
    }

    /// §7.1 EXPUNGEISSUED (RFC 5530, now in the base): a FETCH naming a message another session expunged ends
    /// `NO [EXPUNGEISSUED]` with Dovecot 2.3.19's text, in rev1 sessions too; the EXPUNGE follows later.
    @Test func fetchOfExpungedMessage() throws {
        for rev2 in [true, false] {
            let f = try SessionFixture()
            if rev2 { f.send("e ENABLE IMAP4rev2\r\n") }
            try f.selectThree()
            let other = IMAPMailSession(store: f.store, configuration: .init(user: "tuser", clock: { 0 }))
            _ = other.receive(Array("a SELECT INBOX\r\nb STORE 2 +FLAGS.SILENT (\\Deleted)\r\nc EXPUNGE\r\n".utf8))
            #expect(
                f.send("c FETCH 2 BODY.PEEK[]\r\n")
                    == "c NO [EXPUNGEISSUED] Some of the requested messages no longer exist" + done, "\(rev2)")
            #expect(f.send("g NOOP\r\n").hasPrefix("* 2 EXPUNGE\r\n"), "\(rev2)")
        }
    }
}
