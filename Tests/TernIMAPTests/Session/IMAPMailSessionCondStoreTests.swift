import Foundation
import TernIMAP
import TernMailbox
import Testing

/// RFC 7162 §3.1 examples on Tern's UIDs, in the responses a Dovecot 2.3.19 gives (checked against one).
@Suite struct IMAPMailSessionCondStoreTests {
    @Test func capabilityAndSelectReportHighestModSeq() throws {
        let f = try SessionFixture()
        #expect(f.send("c CAPABILITY\r\n").contains(" CONDSTORE "))
        #expect(
            f.send("c2 CAPABILITY\r\n").contains(" CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS "))
        try f.deliver("a\n", name: "1000.M1P1.host")
        let id = try f.mailboxID()
        // §3.1.2.1: every SELECT of a mailbox with persistent MODSEQs reports HIGHESTMODSEQ.
        #expect(
            f.send("a SELECT INBOX\r\n").hasSuffix(
                "* OK [UIDNEXT 2] Predicted next UID\r\n* OK [HIGHESTMODSEQ 1] Highest\r\n"
                    + "* OK [MAILBOXID (\(id))] Ok\r\na OK [READ-WRITE] Select completed" + done))
        #expect(
            f.send("b EXAMINE INBOX (CONDSTORE)\r\n").hasSuffix(
                "* OK [HIGHESTMODSEQ 1] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\nb OK [READ-ONLY] Examine completed"
                    + done))
        // SELECT (CONDSTORE) enabled it: unsolicited FETCHes now carry MODSEQ; EXAMINE cannot STORE.
        #expect(
            f.send("c STORE 1 (UNCHANGEDSINCE 5) +FLAGS (\\Seen)\r\n")
                == "c NO CONDSTORE failed: Mailbox is read-only" + done)
    }

    @Test func enableReportsHighestModSeqOfSelectedMailbox() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("a ENABLE CONDSTORE\r\n")
                == "* OK [HIGHESTMODSEQ 1] Highest\r\n* ENABLED CONDSTORE\r\na OK Enabled" + done)
    }

    /// §3.1.5, §3.1.4.1: FETCH MODSEQ enables CONDSTORE; CHANGEDSINCE keeps the messages changed since and adds
    /// MODSEQ after the items asked for. A solicited FETCH FLAGS stays without MODSEQ, as in Dovecot.
    @Test func fetchModSeqAndChangedSince() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("a FETCH 1:2 (FLAGS MODSEQ)\r\n")
                == "* OK [HIGHESTMODSEQ 1] Highest\r\n* 1 FETCH (FLAGS (\\Recent) MODSEQ (1))\r\n"
                + "* 2 FETCH (FLAGS (\\Recent) MODSEQ (1))\r\na OK Fetch completed" + done)
        #expect(
            f.send("b STORE 2 +FLAGS (\\Seen)\r\n")
                == "* 2 FETCH (MODSEQ (2) FLAGS (\\Seen \\Recent))\r\nb OK Store completed" + done)
        #expect(
            f.send("c UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)\r\n")
                == "* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent) MODSEQ (2))\r\nc OK Fetch completed" + done)
        #expect(f.send("d FETCH 1 FLAGS\r\n") == "* 1 FETCH (FLAGS (\\Recent))\r\nd OK Fetch completed" + done)
        #expect(f.send("e FETCH 1:* (UID) (CHANGEDSINCE 2)\r\n") == "e OK Fetch completed" + done)
    }

    /// §3.1.3 example 8: UNCHANGEDSINCE stores where the MODSEQ is not higher, and names the others in
    /// `[MODIFIED]`; once CONDSTORE is on, even .SILENT reports the new MODSEQs.
    @Test func conditionalStore() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a STORE 2 +FLAGS.SILENT (\\Flagged)\r\n")
        #expect(
            f.send("b UID STORE 1:3 (UNCHANGEDSINCE 1) +FLAGS.SILENT (\\Deleted)\r\n")
                == "* OK [HIGHESTMODSEQ 2] Highest\r\n* 1 FETCH (UID 1 MODSEQ (3))\r\n"
                + "* 3 FETCH (UID 3 MODSEQ (3))\r\nb OK [MODIFIED 2] Conditional store failed" + done)
        #expect(
            f.send("c STORE 1:3 (UNCHANGEDSINCE 2) FLAGS (\\Seen)\r\n")
                == "* 2 FETCH (MODSEQ (4) FLAGS (\\Seen \\Recent))\r\nc OK [MODIFIED 1,3] Conditional store failed"
                + done)
        // §3.1.3: UNCHANGEDSINCE 0 always fails, as every message has a MODSEQ.
        #expect(
            f.send("d STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Answered)\r\n")
                == "d OK [MODIFIED 1] Conditional store failed" + done)
        #expect(f.send("e UID STORE 1 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen)\r\n").hasPrefix(
            "* 1 FETCH (UID 1 MODSEQ (5))\r\ne OK Store completed"))
    }

    /// §3.1.5 example 15: `* SEARCH ... (MODSEQ n)` with the highest MODSEQ among the matches; ESEARCH
    /// ends in `MODSEQ n` (RFC 7162 §3.1.5 / RFC 4731).
    @Test func searchModSeq() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a STORE 2 +FLAGS.SILENT (\\Draft)\r\n")
        f.send("b STORE 3 +FLAGS.SILENT (\\Flagged)\r\n")
        #expect(
            f.send("c SEARCH MODSEQ \"/flags/\\\\draft\" all 2\r\n")
                == "* OK [HIGHESTMODSEQ 3] Highest\r\n* SEARCH 2 3 (MODSEQ 3)\r\nc OK Search completed" + done)
        #expect(f.send("d UID SEARCH OR MODSEQ 3 DRAFT\r\n") == "* SEARCH 2 3 (MODSEQ 3)\r\nd OK Search completed" + done)
        #expect(f.send("e SEARCH MODSEQ 100\r\n") == "* SEARCH\r\ne OK Search completed" + done)
        #expect(f.send("f SEARCH SEEN\r\n") == "* SEARCH\r\nf OK Search completed" + done)
        #expect(
            f.send("g UID SEARCH RETURN (ALL) MODSEQ 1\r\n")
                == "* ESEARCH (TAG \"g\") UID ALL 1:3 MODSEQ 3\r\ng OK Search completed" + done)
    }

    @Test func statusHighestModSeqInDovecotOrder() throws {
        let f = try SessionFixture()
        f.send("a CREATE Work\r\n")
        #expect(
            f.send("b STATUS Work (SIZE HIGHESTMODSEQ UNSEEN MESSAGES)\r\n")
                == "* STATUS Work (MESSAGES 0 UNSEEN 0 HIGHESTMODSEQ 1 SIZE 0)\r\nb OK Status completed" + done)
    }

    /// Another process changes flags: once CONDSTORE is enabled the unsolicited FETCH carries the new MODSEQ
    /// before FLAGS, as Dovecot writes it.
    @Test func unsolicitedFlagChangeCarriesModSeq() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a ENABLE CONDSTORE\r\n")
        let other = try f.store.openMailbox("INBOX")
        _ = try other.updateFlags(uids: [1], .add, flags: [.answered])
        #expect(
            f.send("b NOOP\r\n")
                == "* 1 FETCH (MODSEQ (2) FLAGS (\\Answered \\Recent))\r\nb OK NOOP completed" + done)
    }
}
