import Foundation
import TernIMAP
import Testing

/// REPLACE and UID REPLACE (RFC 8508) through the session: the RFC's examples, then its error cases. Dovecot
/// 2.3 has no REPLACE; the replies follow the RFC's examples and Dovecot's wording for the errors it shares
/// with APPEND.
@Suite struct IMAPMailSessionReplaceTests {
    /// RFC 8508 §3.2's message.
    static let draft =
        "Date: Thu, 1 Jan 2015 00:05:00 -0500 (EST)\r\nFrom: Fritz Schmidt <fritz.ze@example.org>\r\n"
        + "Subject: happy new year !!\r\nTo: miss.mitzy@example.org\r\nMessage-Id: <B238822388-0100000@example.org>\r\n"
        + "MIME-Version: 1.0\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n"
        + "Just saw the best fireworks show. Wish you were here.\r\n"

    /// Drafts with four messages, selected.
    func draftsWithFour() throws -> SessionFixture {
        let f = try SessionFixture()
        f.send("c CREATE Drafts\r\n")
        for n in 1...4 { f.send("a APPEND Drafts {15+}\r\nSubject: \(n)\r\n\r\n\r\n") }
        f.send("s SELECT Drafts\r\n")
        return f
    }

    /// §3.2's example: the new message goes into the selected mailbox, the old one is expunged.
    @Test func replaceBySequenceNumber() throws {
        let f = try draftsWithFour()
        let validity = try f.uidValidity("Drafts")
        #expect(f.send("A003 REPLACE 4 Drafts (\\Seen \\Draft) {\(Self.draft.utf8.count)}\r\n") == "+ OK\r\n")
        #expect(
            f.send(Self.draft + "\r\n")
                == "* OK [APPENDUID \(validity) 5] Replacement Message ready\r\n* 5 EXISTS\r\n* 5 RECENT\r\n"
                + "* 4 EXPUNGE\r\n* 4 RECENT\r\nA003 OK Replace completed" + done)
        // The four were new when Drafts was selected, and so was the replacement (saved with flags, as APPEND).
        #expect(
            f.send("b FETCH 1:* (UID FLAGS)\r\n")
                == "* 1 FETCH (UID 1 FLAGS (\\Recent))\r\n* 2 FETCH (UID 2 FLAGS (\\Recent))\r\n"
                + "* 3 FETCH (UID 3 FLAGS (\\Recent))\r\n* 4 FETCH (UID 5 FLAGS (\\Seen \\Draft \\Recent))\r\n"
                + "b OK Fetch completed" + done)
        #expect(f.send("c FETCH 4 BODY.PEEK[HEADER.FIELDS (SUBJECT)]\r\n").contains("happy new year !!"))
    }

    /// §3.3's example, with QRESYNC on: the old message goes as VANISHED (§4.5).
    @Test func uidReplaceWithQResync() throws {
        let f = try draftsWithFour()
        f.send("e ENABLE QRESYNC\r\n")
        let validity = try f.uidValidity("Drafts")
        #expect(
            f.send("A004 UID REPLACE 3 Drafts (\\Seen \\Draft) {\(Self.draft.utf8.count)+}\r\n" + Self.draft + "\r\n")
                == "* OK [APPENDUID \(validity) 5] Replacement Message ready\r\n* 5 EXISTS\r\n* 5 RECENT\r\n"
                + "* VANISHED 3\r\n* 4 RECENT\r\nA004 OK [HIGHESTMODSEQ 7] Replace completed" + done)
        #expect(f.send("b UID SEARCH ALL\r\n") == "* SEARCH 1 2 4 5\r\nb OK Search completed" + done)
    }

    /// The new message may go into another mailbox (§3.4); only the EXPUNGE reaches the selected one.
    @Test func replaceIntoAnotherMailbox() throws {
        let f = try draftsWithFour()
        let validity = try f.uidValidity()
        #expect(
            f.send("a REPLACE 1 INBOX {\(Self.draft.utf8.count)+}\r\n" + Self.draft + "\r\n")
                == "* OK [APPENDUID \(validity) 1] Replacement Message ready\r\n* 1 EXPUNGE\r\n* 3 RECENT\r\n"
                + "a OK Replace completed" + done)
        #expect(f.send("b STATUS INBOX (MESSAGES)\r\n") == "* STATUS INBOX (MESSAGES 1)\r\nb OK Status completed" + done)
        #expect(f.send("c SEARCH ALL\r\n") == "* SEARCH 1 2 3\r\nc OK Search completed" + done)
    }

    /// §3.4: when the new message cannot be stored the old one stays; a message that is not there, a mailbox
    /// selected read-only and no selected mailbox are refused before the literal is read.
    @Test func errorsKeepTheOldMessage() throws {
        let f = try SessionFixture()
        #expect(f.send("a REPLACE 1 INBOX {3}\r\n") == "a BAD No mailbox selected" + done)
        f.send("c CREATE Drafts\r\n")
        f.send("a APPEND Drafts {15+}\r\nSubject: 1\r\n\r\n\r\n")
        f.send("s SELECT Drafts\r\n")
        #expect(
            f.send("b REPLACE 2 Drafts {3}\r\n") == "b BAD Error in IMAP command REPLACE: Invalid messageset" + done)
        #expect(f.send("c UID REPLACE 7 Drafts {3}\r\n") == "c NO Message not found" + done)
        #expect(f.send("d REPLACE 1 Nowhere {3}\r\n") == "d NO [TRYCREATE] Mailbox doesn't exist: Nowhere" + done)
        #expect(f.send("e REPLACE 1 Drafts {0+}\r\n\r\n") == "e NO Can't save a zero byte message" + done)
        #expect(
            f.send("f REPLACE 1 Drafts {3+}\r\nabc {3+}\r\nabc\r\n")
                == "f BAD Error in IMAP command REPLACE: Invalid arguments" + done)
        #expect(f.send("g REPLACE 0 Drafts {3}\r\n") == "g BAD Error in IMAP command REPLACE: Invalid messageset" + done)
        #expect(f.send("h REPLACE 1\r\n") == "h BAD Error in IMAP command REPLACE: Missing arguments" + done)
        #expect(f.send("i UID SEARCH ALL\r\n") == "* SEARCH 1\r\ni OK Search completed" + done)
        f.send("x EXAMINE Drafts\r\n")
        #expect(f.send("j REPLACE 1 Drafts {3}\r\n") == "j NO Mailbox is read-only" + done)
        #expect(f.send("k STATUS Drafts (MESSAGES)\r\n").hasPrefix("* STATUS Drafts (MESSAGES 1)\r\n"))
    }
}
