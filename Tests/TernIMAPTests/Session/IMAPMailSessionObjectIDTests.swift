import Foundation
import TernIMAP
import Testing

/// OBJECTID (RFC 8474) through the session, following the RFC's examples: MAILBOXID from CREATE, STATUS and
/// SELECT, kept by RENAME; EMAILID kept by COPY and MOVE and found by SEARCH; THREADID NIL.
@Suite struct IMAPMailSessionObjectIDTests {
    /// The `(id)` after `name` in `text`.
    func objectID(_ name: String, in text: String) -> String? {
        guard let start = text.range(of: name + " (") else { return nil }
        return String(text[start.upperBound...].prefix { $0 != ")" })
    }

    /// §4's example: CREATE names the new MAILBOXID, RENAME keeps it, STATUS and SELECT report it.
    @Test func mailboxIDs() throws {
        let f = try SessionFixture()
        let created = f.send("3 create foo\r\n")
        let foo = try #require(objectID("MAILBOXID", in: created))
        #expect(created == "3 OK [MAILBOXID (\(foo))] Create completed" + done)
        let bar = try #require(objectID("MAILBOXID", in: f.send("4 create bar\r\n")))
        #expect(foo != bar && foo.count == 32 && foo.allSatisfy(\.isHexDigit))
        #expect(f.send("5 create foo\r\n") == "5 NO [ALREADYEXISTS] Mailbox already exists" + done)
        f.send("11 rename foo renamed\r\n")
        #expect(
            f.send("12 status renamed (mailboxid)\r\n")
                == "* STATUS renamed (MAILBOXID (\(foo)))\r\n12 OK Status completed" + done)
        #expect(
            f.send("13 status bar (MESSAGES mailboxid UIDNEXT)\r\n")
                == "* STATUS bar (MESSAGES 0 UIDNEXT 1 MAILBOXID (\(bar)))\r\n13 OK Status completed" + done)
        let select = f.send("27 select \"renamed\"\r\n")
        #expect(select.contains("* OK [HIGHESTMODSEQ 1] Highest\r\n* OK [MAILBOXID (\(foo))] Ok\r\n27 OK [READ-WRITE]"))
        // INBOX has one from its first use.
        let inbox = try #require(objectID("MAILBOXID", in: f.send("14 STATUS INBOX (MAILBOXID)\r\n")))
        #expect(f.send("15 EXAMINE INBOX\r\n").contains("* OK [MAILBOXID (\(inbox))] Ok\r\n"))
    }

    /// §5's example: EMAILID stays with the content through COPY and MOVE, differs between messages and is
    /// the same in another session; SEARCH EMAILID finds it (§6); THREADID is NIL and matches nothing.
    @Test func emailIDsSurviveCopyAndMove() throws {
        let f = try SessionFixture()
        f.send("c CREATE foo\r\n")
        f.send("a APPEND INBOX {15+}\r\nSubject: 1\r\n\r\n\r\n")
        f.send("a APPEND INBOX {15+}\r\nSubject: 2\r\n\r\n\r\n")
        f.send("s SELECT INBOX\r\n")
        let fetched = f.send("27 FETCH 1:2 (EMAILID)\r\n")
        let lines = fetched.split(separator: "\r\n").map(String.init)
        let first = try #require(objectID("EMAILID", in: lines[0]))
        let second = try #require(objectID("EMAILID", in: lines[1]))
        #expect(
            fetched == "* 1 FETCH (EMAILID (\(first)))\r\n* 2 FETCH (EMAILID (\(second)))\r\n27 OK Fetch completed" + done)
        #expect(first != second && first.hasPrefix("M") && first.count == 33)
        #expect(f.send("28 COPY 1 \"foo\"\r\n").contains("28 OK [COPYUID"))
        #expect(f.send("28 MOVE 2 \"foo\"\r\n").contains("* OK [COPYUID"))
        f.send("29 SELECT \"foo\"\r\n")
        #expect(
            f.send("30 FETCH 1:2 (EMAILID THREADID)\r\n")
                == "* 1 FETCH (EMAILID (\(first)) THREADID NIL)\r\n* 2 FETCH (EMAILID (\(second)) THREADID NIL)\r\n"
                + "30 OK Fetch completed" + done)
        #expect(f.send("31 UID SEARCH EMAILID \(second)\r\n") == "* SEARCH 2\r\n31 OK Search completed" + done)
        #expect(f.send("32 UID SEARCH THREADID T64b478a75b7ea9\r\n") == "* SEARCH\r\n32 OK Search completed" + done)
        #expect(f.send("33 SEARCH EMAILID\r\n").hasPrefix("33 BAD"))
        // Another session (another process reads the same uidlist) sees the same identifiers.
        let other = IMAPMailSession(
            store: f.store, configuration: IMAPMailSession.Configuration(user: "tuser", clock: { 0 }))
        _ = other.receive(Array("s SELECT foo\r\n".utf8))
        let again = String(decoding: other.receive(Array("f UID FETCH 1:2 EMAILID\r\n".utf8)).bytes, as: UTF8.self)
        #expect(
            again == "* 1 FETCH (UID 1 EMAILID (\(first)))\r\n* 2 FETCH (UID 2 EMAILID (\(second)))\r\n"
                + "f OK Fetch completed" + done)
    }
}
