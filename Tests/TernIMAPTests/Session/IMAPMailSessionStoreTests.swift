import TernIMAP
import TernMailbox
import Testing

@Suite struct IMAPMailSessionStoreTests {
    @Test func storeFlagsAndKeywords() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("a STORE 1 +FLAGS ($NewKw)\r\n")
                == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $NewKw)\r\n"
                + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $NewKw \\*)] Flags permitted.\r\n"
                + "* 1 FETCH (FLAGS (\\Recent $NewKw))\r\na OK Store completed" + done)
        #expect(
            f.send("b UID STORE 2:3 FLAGS (\\Flagged \\Seen)\r\n")
                == "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Seen \\Recent))\r\n"
                + "* 3 FETCH (UID 3 FLAGS (\\Flagged \\Seen \\Recent))\r\nb OK Store completed" + done)
        #expect(f.send("c STORE 2 -FLAGS.SILENT (\\Flagged)\r\n") == "c OK Store completed" + done)
        #expect(
            f.send("d FETCH 1:3 FLAGS\r\n")
                == "* 1 FETCH (FLAGS (\\Recent $NewKw))\r\n* 2 FETCH (FLAGS (\\Seen \\Recent))\r\n"
                + "* 3 FETCH (FLAGS (\\Flagged \\Seen \\Recent))\r\nd OK Fetch completed" + done)
        #expect(f.send("e SEARCH KEYWORD $newkw\r\n") == "* SEARCH 1\r\ne OK Search completed" + done)
    }

    @Test func expungeRenumbers() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n")
        #expect(
            f.send("b EXPUNGE\r\n") == "* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 RECENT\r\nb OK Expunge completed" + done)
        #expect(f.send("c FETCH 1 UID\r\n") == "* 1 FETCH (UID 3)\r\nc OK Fetch completed" + done)
        #expect(f.session.statistics.expunged == 2)
        #expect(f.session.statistics.deleted == 2)
    }

    @Test func uidExpungeOnlyTheGivenUIDs() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a STORE 1:3 +FLAGS.SILENT (\\Deleted)\r\n")
        #expect(f.send("b UID EXPUNGE 2:3\r\n") == "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n* 1 RECENT\r\nb OK Expunge completed" + done)
        #expect(f.send("c CLOSE\r\n") == "c OK Close completed" + done)
        #expect(try f.store.openMailbox("INBOX").messages.isEmpty)
    }

    @Test func copyAndMove() throws {
        let f = try SessionFixture()
        f.send("a CREATE Archive\r\n")
        try f.selectThree()
        let copied = f.send("b COPY 1:2 Archive\r\n")
        let archive = try f.uidValidity("Archive")
        #expect(copied == "b OK [COPYUID \(archive) 1:2 1:2] Copy completed" + done)
        #expect(f.send("c COPY 1 Nope\r\n") == "c NO [TRYCREATE] Mailbox doesn't exist: Nope" + done)
        #expect(f.send("d UID COPY 99 Archive\r\n") == "d OK No messages found" + done)
        #expect(
            f.send("e MOVE 2:3 Archive\r\n")
                == "* OK [COPYUID \(archive) 2:3 3:4] Moved UIDs.\r\n* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n* 1 RECENT\r\n"
                + "e OK Move completed" + done)
        #expect(f.send("f FETCH 1:* UID\r\n") == "* 1 FETCH (UID 1)\r\nf OK Fetch completed" + done)
        #expect(
            f.send("g STATUS Archive (MESSAGES)\r\n") == "* STATUS Archive (MESSAGES 4)\r\ng OK Status completed" + done)
    }

    @Test func searchKeys() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a STORE 2 +FLAGS.SILENT (\\Answered)\r\n")
        let cases: [(String, String)] = [
            ("ALL", "1 2 3"), ("SUBJECT BETA", "2"), ("FROM ann", "1"), ("TO ann", "3"), ("BODY \"SECOND BODY\"", "2"),
            ("TEXT cy@", "3"), ("HEADER Date \"\"", "1"), ("ANSWERED", "2"), ("UNANSWERED", "1 3"), ("NEW", "1 2 3"),
            ("OLD", ""), ("RECENT", "1 2 3"), ("NOT 2", "1 3"), ("OR 1 3", "1 3"), ("2:*", "2 3"), ("UID 3", "3"),
            ("LARGER 95", "1"), ("SMALLER 80", "3"), ("BEFORE 1-Jan-2005", "1 2"), ("SINCE 1-Jan-2005", "3"),
            ("ON 9-Sep-2001", "1"), ("SENTON 1-Jul-2003", "1"), ("SENTBEFORE 1-Jan-2000", ""),
            ("(SEEN FLAGGED)", ""), ("CHARSET UTF-8 SUBJECT gamma", "3"), ("UNKEYWORD foo", "1 2 3"),
        ]
        for (key, result) in cases {
            let expected = "* SEARCH" + (result.isEmpty ? "" : " " + result) + "\r\nt OK Search completed" + done
            #expect(f.send("t SEARCH \(key)\r\n") == expected, "\(key)")
        }
        #expect(
            f.send("u SEARCH RETURN (MIN MAX ALL COUNT) NOT 2\r\n")
                == "* ESEARCH (TAG \"u\") MIN 1 MAX 3 ALL 1,3 COUNT 2\r\nu OK Search completed" + done)
        #expect(f.send("v UID SEARCH RETURN () ALL\r\n") == "* ESEARCH (TAG \"v\") UID ALL 1:3\r\nv OK Search completed" + done)
        #expect(f.send("w SEARCH CHARSET FOO ALL\r\n") == "w NO [BADCHARSET] Unknown charset" + done)
    }
}
