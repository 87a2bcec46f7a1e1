import TernIMAP
import Testing

/// UIDONLY (RFC 9586) through the session: after ENABLE UIDONLY sequence numbers are refused with
/// `BAD [UIDREQUIRED]`, FETCH responses are UIDFETCH numbered by UID, expunges are VANISHED.
@Suite struct IMAPMailSessionUIDOnlyTests {
    /// Four messages (UIDs 1 to 4) in INBOX, the first seen, UIDONLY enabled, INBOX selected.
    func uidOnlyInbox() throws -> SessionFixture {
        let f = try SessionFixture()
        for n in 1...4 { f.send("a APPEND INBOX (\(n == 1 ? "\\Seen" : "")) {15+}\r\nSubject: \(n)\r\n\r\n\r\n") }
        #expect(f.send("3 ENABLE UIDONLY\r\n") == "* ENABLED UIDONLY\r\n3 OK Enabled" + done)
        let selected = f.send("4 SELECT INBOX\r\n")
        // §3: no message numbers in responses, so no [UNSEEN n].
        #expect(selected.contains("* 4 EXISTS\r\n") && !selected.contains("UNSEEN"))
        return f
    }

    /// §3's example: sequence-number forms are refused, the UID forms answer with UIDFETCH.
    @Test func fetchAndStoreAnswerWithUIDFetch() throws {
        let f = try uidOnlyInbox()
        #expect(
            f.send("5 FETCH 1:* (FLAGS)\r\n")
                == "5 BAD [UIDREQUIRED] Message sequence numbers are not allowed once UIDONLY is enabled" + done)
        #expect(
            f.send("6 UID FETCH 1:2 (FLAGS)\r\n")
                == "* 1 UIDFETCH (FLAGS (\\Seen \\Recent))\r\n* 2 UIDFETCH (FLAGS (\\Recent))\r\n6 OK Fetch completed" + done)
        // UID only where the client asks for it.
        #expect(
            f.send("7 UID FETCH 3 (UID RFC822.SIZE)\r\n")
                == "* 3 UIDFETCH (UID 3 RFC822.SIZE 15)\r\n7 OK Fetch completed" + done)
        #expect(
            f.send("8 UID STORE 2 +FLAGS (\\Flagged \\Answered)\r\n")
                == "* 2 UIDFETCH (FLAGS (\\Answered \\Flagged \\Recent))\r\n8 OK Store completed" + done)
        f.send("9 ENABLE CONDSTORE\r\n")
        #expect(
            f.send("10 UID STORE 3 +FLAGS.SILENT (\\Seen)\r\n").hasPrefix("* 3 UIDFETCH (MODSEQ ("))
    }

    @Test func sequenceNumbersAreRefused() throws {
        let f = try uidOnlyInbox()
        let refused = " BAD [UIDREQUIRED] Message sequence numbers are not allowed once UIDONLY is enabled" + done
        for (tag, command) in [
            ("a", "STORE 1 +FLAGS (\\Seen)"), ("b", "SEARCH ALL"), ("c", "COPY 1 INBOX"), ("d", "MOVE 1 INBOX"),
            ("e", "SORT (ARRIVAL) UTF-8 ALL"), ("f", "THREAD REFERENCES UTF-8 ALL"), ("g", "UID SEARCH 1:*"),
            ("h", "UID SEARCH OR UID 1 NOT 2"), ("i", "UID SORT (ARRIVAL) UTF-8 1"),
        ] {
            #expect(f.send("\(tag) \(command)\r\n") == tag + refused, "\(command)")
        }
        #expect(f.send("j UID SEARCH UID 2:*\r\n") == "* SEARCH 2 3 4\r\nj OK Search completed" + done)
        #expect(f.send("k UID SEARCH RETURN (SAVE) SEEN\r\n") == "k OK Search completed" + done)
        #expect(f.send("l UID SEARCH $\r\n") == "* SEARCH 1\r\nl OK Search completed" + done)
        #expect(f.send("m REPLACE 1 INBOX {3}\r\n") == "m" + refused)
        #expect(f.send("n ENABLE QRESYNC\r\n").contains("* ENABLED QRESYNC\r\n"))
        #expect(f.send("o SELECT INBOX (QRESYNC (1 1 1:10 (1,2,3 1,2,3)))\r\n") == "o" + refused)
    }

    /// Expunges are VANISHED, QRESYNC or not; EXPUNGE itself names no messages and stays allowed.
    @Test func expungesAreVanished() throws {
        let f = try uidOnlyInbox()
        f.send("a UID STORE 2:3 +FLAGS.SILENT (\\Deleted)\r\n")
        #expect(f.send("b EXPUNGE\r\n") == "* VANISHED 2:3\r\n* 2 RECENT\r\nb OK Expunge completed" + done)
        #expect(f.send("c UID MOVE 4 INBOX\r\n").contains("* VANISHED 4\r\n"))
        #expect(f.send("d UID FETCH 1:* FLAGS\r\n").hasPrefix("* 1 UIDFETCH (FLAGS (\\Seen \\Recent))\r\n* 5 UIDFETCH (FLAGS (\\Recent))\r\n"))
    }
}
