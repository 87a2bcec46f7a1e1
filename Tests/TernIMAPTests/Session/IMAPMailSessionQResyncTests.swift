import Foundation
import TernIMAP
import TernMailbox
import Testing

/// RFC 7162 §3.2 (QRESYNC) on Tern's MODSEQs, in the responses Dovecot 2.3.19 gives (checked against one).
@Suite struct IMAPMailSessionQResyncTests {
    /// §3.2.10, §3.2.6: once enabled, EXPUNGE answers `* VANISHED` and the new HIGHESTMODSEQ in the tagged OK;
    /// UID FETCH (CHANGEDSINCE n VANISHED) reports the set's UIDs expunged since n first.
    @Test func vanishedInsteadOfExpunge() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("a ENABLE QRESYNC\r\n") == "* OK [HIGHESTMODSEQ 1] Highest\r\n* ENABLED QRESYNC\r\na OK Enabled"
                + done)
        #expect(
            f.send("b STORE 1,3 +FLAGS (\\Deleted)\r\n")
                == "* 1 FETCH (UID 1 MODSEQ (2) FLAGS (\\Deleted \\Recent))\r\n"
                + "* 3 FETCH (UID 3 MODSEQ (2) FLAGS (\\Deleted \\Recent))\r\nb OK Store completed" + done)
        #expect(
            f.send("c EXPUNGE\r\n") == "* VANISHED 1,3\r\n* 1 RECENT\r\nc OK [HIGHESTMODSEQ 3] Expunge completed" + done
        )
        #expect(
            f.send("d UID FETCH 1:* (FLAGS) (CHANGEDSINCE 2 VANISHED)\r\n")
                == "* VANISHED (EARLIER) 1,3\r\nd OK Fetch completed" + done)
        // Not remembered that far back (MODSEQ 1 is where tern.index began): every missing UID of the set.
        #expect(
            f.send("e UID FETCH 2:3 (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n")
                == "* VANISHED (EARLIER) 3\r\ne OK Fetch completed" + done)
        #expect(f.send("f UID EXPUNGE 2\r\n") == "f OK Expunge completed" + done)
        #expect(
            f.send("g UID FETCH 1:* FLAGS (VANISHED)\r\n")
                == "g BAD Error in IMAP command UID FETCH: VANISHED used without CHANGEDSINCE" + done)
    }

    /// §3.2.5: SELECT (QRESYNC (uidvalidity modseq [known-uids [seq-match-data]])) reports what changed since
    /// after the usual responses: `VANISHED (EARLIER)`, then FETCH (UID FLAGS MODSEQ) of changed messages.
    @Test func selectResynchronizes() throws {
        let f = try SessionFixture()
        for n in 1...4 { try f.deliver("Subject: \(n)\n\nbody\n", name: "100\(n).M1P1.host") }
        f.send("a ENABLE QRESYNC\r\n")
        f.send("b SELECT INBOX\r\n")
        f.send("c STORE 1 +FLAGS (\\Seen)\r\n")  // the client's state: MODSEQ 2
        f.send("d STORE 2,4 +FLAGS (\\Deleted)\r\n")
        f.send("e EXPUNGE\r\n")
        f.send("f STORE 1 +FLAGS (\\Flagged)\r\n")
        let uv = try f.uidValidity()
        let id = try f.mailboxID()
        #expect(
            f.send("g SELECT INBOX (QRESYNC (\(uv) 2))\r\n")
                == "* OK [CLOSED] Previous mailbox closed.\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
                + "* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 2] First unseen.\r\n* OK [UIDVALIDITY \(uv)] UIDs valid\r\n"
                + "* OK [UIDNEXT 5] Predicted next UID\r\n* OK [HIGHESTMODSEQ 5] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\n"
                + "* VANISHED (EARLIER) 2,4\r\n* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen) MODSEQ (5))\r\n"
                + "g OK [READ-WRITE] Select completed" + done)
        // Known UIDs limit both.
        #expect(
            f.send("h SELECT INBOX (QRESYNC (\(uv) 2 3:4))\r\n").hasSuffix(
                "* OK [HIGHESTMODSEQ 5] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\n* VANISHED (EARLIER) 4\r\nh OK [READ-WRITE] Select completed" + done)
        )
        // §3.2.5.2: message 2 is still UID 3, so nothing at or below UID 3 is reported gone.
        #expect(
            f.send("i EXAMINE INBOX (QRESYNC (\(uv) 2 1:4 (1,2 1,3)))\r\n").hasSuffix(
                "* OK [HIGHESTMODSEQ 5] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\n* VANISHED (EARLIER) 4\r\n"
                    + "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen) MODSEQ (5))\r\ni OK [READ-ONLY] Examine completed"
                    + done))
        // Another UIDVALIDITY: the client starts over, nothing more is said.
        #expect(
            f.send("j SELECT INBOX (QRESYNC (\(uv &+ 1) 2))\r\n").hasSuffix(
                "* OK [HIGHESTMODSEQ 5] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\nj OK [READ-WRITE] Select completed" + done))
        // A MODSEQ the mailbox never reached (its index was lost): every missing UID and every message.
        #expect(
            f.send("k SELECT INBOX (QRESYNC (\(uv) 99))\r\n").hasSuffix(
                "* OK [HIGHESTMODSEQ 5] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\n* VANISHED (EARLIER) 2,4\r\n"
                    + "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen) MODSEQ (5))\r\n* 2 FETCH (UID 3 FLAGS () MODSEQ (1))\r\n"
                    + "k OK [READ-WRITE] Select completed" + done))
    }

    /// Changes by another session come as VANISHED and FETCH (UID MODSEQ FLAGS); a HIGHESTMODSEQ no FETCH
    /// carried goes into the tagged OK, or untagged while idling.
    @Test func changesFromOtherSessions() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a ENABLE QRESYNC\r\n")
        let other = IMAPMailSession(store: f.store, configuration: .init(user: "tuser", clock: { 0 }))
        func say(_ text: String) { _ = other.receive(Array(text.utf8)) }
        say("a SELECT INBOX\r\nb STORE 2 +FLAGS (\\Deleted)\r\nc EXPUNGE\r\n")
        #expect(f.send("b NOOP\r\n") == "* VANISHED 2\r\n* 2 RECENT\r\nb OK [HIGHESTMODSEQ 3] NOOP completed" + done)
        say("d STORE 1 +FLAGS (\\Flagged)\r\n")
        #expect(
            f.send("c NOOP\r\n") == "* 1 FETCH (UID 1 MODSEQ (4) FLAGS (\\Flagged \\Recent))\r\nc OK NOOP completed"
                + done)
        #expect(f.send("d IDLE\r\n") == "+ idling\r\n")
        say("e STORE 2 +FLAGS (\\Deleted)\r\nf EXPUNGE\r\n")
        #expect(
            String(decoding: f.session.poll(), as: UTF8.self)
                == "* VANISHED 3\r\n* 1 RECENT\r\n* OK [HIGHESTMODSEQ 6] Highest\r\n")
        #expect(f.send("DONE\r\n") == "d OK Idle completed" + done)
    }

    /// A body fetch that sets \Seen changes the MODSEQ: Dovecot follows the FETCH responses with
    /// `* n FETCH (MODSEQ (m))` under CONDSTORE, with the UID in front under QRESYNC.
    @Test func seenByFetchReportsModSeq() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a ENABLE CONDSTORE\r\n")
        #expect(
            f.send("b FETCH 1 BODY[TEXT]\r\n").hasSuffix(
                ")\r\n* 1 FETCH (MODSEQ (2))\r\nb OK Fetch completed" + done))
        f.send("c ENABLE QRESYNC\r\n")
        #expect(
            f.send("d UID FETCH 2 BODY[TEXT]\r\n").hasSuffix(
                ")\r\n* 2 FETCH (UID 2 MODSEQ (3))\r\nd OK Fetch completed" + done))
        #expect(f.send("e FETCH 2 BODY[TEXT]\r\n").hasSuffix(")\r\ne OK Fetch completed" + done))
    }

    /// MOVE reports the moved messages as VANISHED (RFC 6851 §4.3 with RFC 7162).
    @Test func moveAnnouncesVanished() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a ENABLE QRESYNC\r\nb CREATE Trash\r\n")
        let trash = try f.uidValidity("Trash")
        #expect(
            f.send("c MOVE 1 Trash\r\n")
                == "* OK [COPYUID \(trash) 1 1] Moved UIDs.\r\n* VANISHED 1\r\n* 2 RECENT\r\n"
                + "c OK [HIGHESTMODSEQ 2] Move completed" + done)
        #expect(
            f.send("d UID MOVE 3 Trash\r\n")
                == "* OK [COPYUID \(trash) 3 2] Moved UIDs.\r\n* VANISHED 3\r\n* 1 RECENT\r\n"
                + "d OK [HIGHESTMODSEQ 3] Move completed" + done)
    }

    /// SELECT closes the mailbox before it looks at its arguments, as Dovecot's does; QRESYNC needs ENABLE.
    @Test func selectErrorsCloseTheMailbox() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("a SELECT INBOX (QRESYNC (1 2))\r\n")
                == "* OK [CLOSED] Previous mailbox closed.\r\na BAD Error in IMAP command SELECT: QRESYNC not enabled"
                + done)
        #expect(f.send("b FETCH 1 FLAGS\r\n") == "b BAD No mailbox selected" + done)
        f.send("c SELECT INBOX\r\n")
        #expect(
            f.send("d UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)\r\n")
                == "* OK [HIGHESTMODSEQ 1] Highest\r\nd BAD Error in IMAP command UID FETCH: QRESYNC not enabled" + done
        )
        #expect(
            f.send("e EXAMINE INBOX (QRESYNC (1))\r\n")
                == "* OK [CLOSED] Previous mailbox closed.\r\n"
                + "e BAD Error in IMAP command EXAMINE: Invalid QRESYNC parameters" + done)
        #expect(f.send("f SELECT\r\n") == "f BAD Error in IMAP command SELECT: Invalid arguments" + done)
    }
}

/// RFC 5182 SEARCHRES, RFC 5032 WITHIN and RFC 5267 PARTIAL, as Dovecot 2.3.19 answers them.
@Suite struct IMAPMailSessionSearchResultTests {
    /// RFC 5182 §2.1, §2.4: SAVE alone sends no ESEARCH; `$` holds UIDs, so expunges leave it right;
    /// MIN/MAX without ALL or COUNT save only those; a failed SEARCH (SAVE) and SELECT empty it.
    @Test func savedResult() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(f.send("a FETCH $ (UID)\r\n") == "a OK Fetch completed" + done)
        #expect(f.send("b SEARCH RETURN (SAVE) OR FROM ann FROM cy\r\n") == "b OK Search completed" + done)
        #expect(
            f.send("c FETCH $ (UID)\r\n") == "* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\nc OK Fetch completed" + done)
        #expect(f.send("d UID SEARCH OR $ 2\r\n") == "* SEARCH 1 2 3\r\nd OK Search completed" + done)
        #expect(f.send("d2 SORT (REVERSE ARRIVAL) UTF-8 $\r\n") == "* SORT 3 1\r\nd2 OK Sort completed" + done)
        #expect(
            f.send("e SEARCH RETURN (SAVE COUNT) UID $\r\n")
                == "* ESEARCH (TAG \"e\") COUNT 2\r\ne OK Search completed" + done)
        f.send("f STORE 1 +FLAGS.SILENT (\\Deleted)\r\ng EXPUNGE\r\n")
        #expect(
            f.send("h UID FETCH $ (FLAGS)\r\n") == "* 2 FETCH (UID 3 FLAGS (\\Recent))\r\nh OK Fetch completed" + done)
        #expect(
            f.send("i SEARCH RETURN (SAVE MIN MAX) ALL\r\n")
                == "* ESEARCH (TAG \"i\") MIN 1 MAX 2\r\ni OK Search completed"
                + done)
        #expect(f.send("j SEARCH $\r\n") == "* SEARCH 1 2\r\nj OK Search completed" + done)
        #expect(
            f.send("k SEARCH RETURN (SAVE) FOO\r\n") == "k BAD Error in IMAP command SEARCH: Unknown argument FOO"
                + done)
        #expect(f.send("l SEARCH $\r\n") == "* SEARCH 1 2\r\nl OK Search completed" + done)
        #expect(f.send("m SEARCH RETURN (SAVE) CHARSET X ALL\r\n") == "m NO [BADCHARSET] Unknown charset" + done)
        #expect(f.send("n SEARCH $\r\n") == "* SEARCH\r\nn OK Search completed" + done)
        f.send("o SEARCH RETURN (SAVE) ALL\r\np SELECT INBOX\r\n")
        #expect(f.send("q STORE $ +FLAGS (\\Seen)\r\n") == "q OK Store completed" + done)
    }

    /// RFC 5032 §3: OLDER / YOUNGER count seconds back from now against INTERNALDATE.
    @Test func within() throws {
        let f = try SessionFixture()
        let now = Int(Date().timeIntervalSince1970)
        try f.deliver("Subject: new\n\nx\n", name: "1000.M1P1.host", mtime: now - 100)
        try f.deliver("Subject: old\n\nx\n", name: "1001.M1P1.host", mtime: now - 5000)
        f.send("a SELECT INBOX\r\n")
        #expect(f.send("b SEARCH YOUNGER 1000\r\n") == "* SEARCH 1\r\nb OK Search completed" + done)
        #expect(f.send("c SEARCH OLDER 1000\r\n") == "* SEARCH 2\r\nc OK Search completed" + done)
        #expect(
            f.send("d UID SEARCH RETURN (MIN) YOUNGER 10000\r\n")
                == "* ESEARCH (TAG \"d\") UID MIN 1\r\nd OK Search completed" + done)
        #expect(
            f.send("e SEARCH OLDER 0\r\n") == "e BAD Error in IMAP command SEARCH: Invalid search interval parameter"
                + done)
    }

    /// RFC 5267 §4.4: PARTIAL returns the matches at the positions asked for (NIL when none); with SAVE, `$`
    /// is that window.
    @Test func partialResults() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("a SEARCH RETURN (PARTIAL 2:5) ALL\r\n")
                == "* ESEARCH (TAG \"a\") PARTIAL (2:5 2:3)\r\na OK Search completed" + done)
        #expect(
            f.send("b UID SEARCH RETURN (MIN PARTIAL 1:1 COUNT) ALL\r\n")
                == "* ESEARCH (TAG \"b\") UID MIN 1 PARTIAL (1:1 1) COUNT 3\r\nb OK Search completed" + done)
        #expect(
            f.send("c SEARCH RETURN (PARTIAL 4:9) ALL\r\n")
                == "* ESEARCH (TAG \"c\") PARTIAL (4:9 NIL)\r\nc OK Search completed" + done)
        #expect(
            f.send("d SEARCH RETURN (PARTIAL 2:3 SAVE) ALL\r\n")
                == "* ESEARCH (TAG \"d\") PARTIAL (2:3 2:3)\r\nd OK Search completed" + done)
        #expect(
            f.send("e FETCH $ (UID)\r\n") == "* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\ne OK Fetch completed" + done)
    }

    /// RFC 5267 §4.3 CONTEXT=SEARCH, as Dovecot 2.3.19 answers it: RETURN (UPDATE) keeps the search, and
    /// changes by this or another session come as REMOVEFROM / ADDTO with position 0 (message numbers, or
    /// UIDs for UID SEARCH); removals of expunged messages come before the EXPUNGE.
    @Test func contextSearchUpdates() throws {
        let f = try SessionFixture()
        for n in 1...5 { try f.deliver("Subject: \(n)\n\nbody\n", name: "100\(n).M1P1.host") }
        f.send("a SELECT INBOX\r\na1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\na2 EXPUNGE\r\n")  // UIDs 2-5 left
        #expect(
            f.send("b SEARCH RETURN (UPDATE ALL) UNSEEN\r\n")
                == "* ESEARCH (TAG \"b\") ALL 1:4\r\nb OK Search completed"
                + done)
        #expect(
            f.send("c UID SEARCH RETURN (UPDATE) UNSEEN\r\n") == "* ESEARCH (TAG \"c\") UID\r\nc OK Search completed"
                + done)
        #expect(
            f.send("c UID SEARCH RETURN (UPDATE) SEEN\r\n")
                == "c BAD Error in IMAP command UID SEARCH: Duplicate search update tag" + done)
        let other = IMAPMailSession(store: f.store, configuration: .init(user: "tuser", clock: { 0 }))
        func say(_ text: String) { _ = other.receive(Array(text.utf8)) }
        say("a SELECT INBOX\r\nb STORE 3 +FLAGS (\\Seen)\r\n")
        #expect(
            f.send("d NOOP\r\n")
                == "* 3 FETCH (FLAGS (\\Seen \\Recent))\r\n* ESEARCH (TAG \"b\") REMOVEFROM (0 3)\r\n"
                + "* ESEARCH (TAG \"c\") UID REMOVEFROM (0 4)\r\nd OK NOOP completed" + done)
        #expect(
            f.send("e STORE 1:2 +FLAGS (\\Seen)\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n* 2 FETCH (FLAGS (\\Seen \\Recent))\r\n"
                + "* ESEARCH (TAG \"b\") REMOVEFROM (0 1:2)\r\n* ESEARCH (TAG \"c\") UID REMOVEFROM (0 2:3)\r\n"
                + "e OK Store completed" + done)
        say("c STORE 4 +FLAGS (\\Deleted)\r\nd EXPUNGE\r\ne STORE 1 -FLAGS (\\Seen)\r\n")
        #expect(
            f.send("f NOOP\r\n")
                == "* ESEARCH (TAG \"b\") REMOVEFROM (0 4)\r\n* ESEARCH (TAG \"c\") UID REMOVEFROM (0 5)\r\n"
                + "* 1 FETCH (FLAGS (\\Recent))\r\n* 4 EXPUNGE\r\n* 3 RECENT\r\n"
                + "* ESEARCH (TAG \"b\") ADDTO (0 1)\r\n* ESEARCH (TAG \"c\") UID ADDTO (0 2)\r\nf OK NOOP completed"
                + done)
        #expect(f.send("g CANCELUPDATE \"b\"\r\n") == "g OK Updates cancelled" + done)
        #expect(f.send("h CANCELUPDATE \"b\"\r\n") == "h NO Unknown tag" + done)
        #expect(
            f.send("i STORE 1 +FLAGS (\\Seen)\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n* ESEARCH (TAG \"c\") UID REMOVEFROM (0 2)\r\n"
                + "i OK Store completed" + done)
        #expect(f.send("j CANCELUPDATE c\r\n") == "j BAD Error in IMAP command CANCELUPDATE: Invalid parameters" + done)
        // A new SELECT forgets the kept searches.
        f.send("k SELECT INBOX\r\n")
        #expect(f.send("l CANCELUPDATE \"c\"\r\n") == "l NO Unknown tag" + done)
    }
}
