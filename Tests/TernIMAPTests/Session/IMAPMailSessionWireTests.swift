import Foundation
import Synchronization
import TernIMAP
import TernMailbox
import Testing

/// Answers that differed from Dovecot 2.3.19's and now match them byte for byte; every expected reply below
/// was taken from the real Dovecot given the same commands (apart from tags, UIDVALIDITY and times).
@Suite struct IMAPMailSessionWireTests {
    /// A multipart message: a base64 text part and a message/rfc822 part.
    static let multipart =
        "From: a@b\nSubject: mp\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"XX\"\n\npre\n--XX\n"
        + "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n--XX\n"
        + "Content-Type: message/rfc822\n\nFrom: c@d\nSubject: inner\n\ninner body\n--XX--\n"

    @Test func searchAndSortReturnErrors() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("a SEARCH RETURN (FOO) ALL\r\n")
                == "a BAD Error in IMAP command SEARCH: Unknown SEARCH return option" + done)
        #expect(
            f.send("b SEARCH RETURN (MIN FOO) ALL\r\n")
                == "b BAD Error in IMAP command SEARCH: Unknown SEARCH return option" + done)
        // Without a list RETURN is read as a search key.
        #expect(f.send("c SEARCH RETURN FOO ALL\r\n") == "c BAD Error in IMAP command SEARCH: Unknown argument RETURN" + done)
        #expect(f.send("d SEARCH RETURN\r\n") == "d BAD Error in IMAP command SEARCH: Unknown argument RETURN" + done)
        #expect(
            f.send("e SORT RETURN FOO (DATE) UTF-8 ALL\r\n") == "e BAD Error in IMAP command SORT: Invalid sort argument" + done)
    }

    /// Dovecot's parser takes any run of spaces between arguments, after `(`, before `)` and at the end.
    @Test func runsOfSpacesSeparateArguments() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(f.send("a SORT  (DATE  SUBJECT)  UTF-8  ALL\r\n") == "* SORT 1 2 3\r\na OK Sort completed" + done)
        #expect(
            f.send("b SORT RETURN (ALL)  (DATE) UTF-8 ALL  \r\n")
                == "* ESEARCH (TAG \"b\") ALL 1:3\r\nb OK Sort completed" + done)
        #expect(f.send("c FETCH  1 ( FLAGS  UID )  \r\n") == "* 1 FETCH (FLAGS (\\Recent) UID 1)\r\nc OK Fetch completed" + done)
        #expect(f.send("d SEARCH  (  FROM  ann  )  \r\n") == "* SEARCH 1\r\nd OK Search completed" + done)
        #expect(
            f.send("e FETCH 2 BODY.PEEK[HEADER.FIELDS  ( SUBJECT )  ]\r\n")
                == "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: Beta news\r\n\r\n)\r\ne OK Fetch completed" + done)
        // Spaces inside a quoted string are the string's.
        #expect(f.send("f SEARCH SUBJECT \"Beta  news\"\r\n") == "* SEARCH\r\nf OK Search completed" + done)
        #expect(f.send("g SEARCH SUBJECT \"Beta news\"  \r\n") == "* SEARCH 2\r\ng OK Search completed" + done)
        #expect(f.send("h  NOOP\r\n") == "h BAD Error in IMAP command: Invalid command name" + done)
    }

    /// BINARY takes every BODY section: headers and MIME headers as BODY gives them, TEXT converted.
    @Test func binarySections() throws {
        let f = try SessionFixture()
        try f.deliver(Self.multipart, name: "1000.M1P1.host")
        f.send("s SELECT INBOX\r\n")
        #expect(
            f.send("a FETCH 1 BINARY.PEEK[1.MIME]\r\n")
                == "* 1 FETCH (BINARY[1.MIME] {81}\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\n)\r\na OK Fetch completed" + done)
        #expect(
            f.send("b FETCH 1 BINARY.PEEK[HEADER]\r\n")
                == "* 1 FETCH (BINARY[HEADER] {91}\r\nFrom: a@b\r\nSubject: mp\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n)\r\nb OK Fetch completed" + done)
        #expect(
            f.send("c FETCH 1 BINARY.PEEK[TEXT]<5.10>\r\n")
                == "* 1 FETCH (BINARY[TEXT]<5> ~{10}\r\n--XX\r\nCont)\r\nc OK Fetch completed" + done)
        #expect(
            f.send("d FETCH 1 BINARY.PEEK[TEXT]\r\n")
                == "* 1 FETCH (BINARY[TEXT] ~{192}\r\npre\r\n--XX\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                + "Content-Transfer-Encoding: binary\r\n\r\nhello world\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\n"
                + "From: c@d\r\nSubject: inner\r\n\r\ninner body\r\n--XX--\r\n)\r\nd OK Fetch completed" + done)
        #expect(f.send("e FETCH 1 BINARY.PEEK[2.TEXT]\r\n") == "* 1 FETCH (BINARY[2.TEXT] {10}\r\ninner body)\r\ne OK Fetch completed" + done)
        #expect(
            f.send("f FETCH 1 (BINARY.SIZE[TEXT] BINARY.SIZE[1.MIME] BINARY.SIZE[2.TEXT])\r\n")
                == "* 1 FETCH (BINARY.SIZE[TEXT] 192 BINARY.SIZE[1.MIME] 81 BINARY.SIZE[2.TEXT] 10)\r\nf OK Fetch completed"
                + done)
        #expect(
            f.send("g FETCH 1 BINARY.PEEK[HEADER.FIELDS (FROM)]\r\n")
                == "* 1 FETCH (BINARY[HEADER.FIELDS (FROM)] {13}\r\nFrom: a@b\r\n\r\n)\r\ng OK Fetch completed" + done)
        #expect(f.send("h FETCH 1 BINARY.PEEK[1.HEADER]\r\n") == "* 1 FETCH (BINARY[1.HEADER] {0}\r\n)\r\nh OK Fetch completed" + done)
        #expect(f.send("i FETCH 1 BINARY.PEEK[MIME]\r\n") == "i BAD Error in IMAP command FETCH: Invalid BINARY[..] section" + done)
        #expect(f.send("j FETCH 1 BINARY.SIZE[1.FOO]\r\n") == "j BAD Error in IMAP command FETCH: Invalid BINARY[..] section" + done)
    }

    /// A message that is a message/rfc822 has one part, 1: the message inside, header and all.
    @Test func partOneOfAnEncapsulatingMessage() throws {
        let f = try SessionFixture()
        try f.deliver(
            "From: a@b\nSubject: mp\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
                + "From: c@d\nSubject: inner\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n",
            name: "1000.M1P1.host")
        f.send("s SELECT INBOX\r\n")
        let inner = "From: c@d\r\nSubject: inner\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n"
        #expect(f.send("a FETCH 1 BODY.PEEK[1]\r\n") == "* 1 FETCH (BODY[1] {82}\r\n\(inner))\r\na OK Fetch completed" + done)
        #expect(
            f.send("b FETCH 1 BODY.PEEK[1.1]\r\n") == "* 1 FETCH (BODY[1.1] {18}\r\naGVsbG8gd29ybGQ=\r\n)\r\nb OK Fetch completed" + done)
        let converted = "From: c@d\r\nSubject: inner\r\nContent-Transfer-Encoding: binary\r\n\r\nhello world"
        #expect(
            f.send("c FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[TEXT] BINARY.PEEK[1.TEXT])\r\n")
                == "* 1 FETCH (BINARY[1] ~{75}\r\n\(converted) BINARY[TEXT] ~{75}\r\n\(converted)"
                + " BINARY[1.TEXT] ~{11}\r\nhello world)\r\nc OK Fetch completed" + done)
    }

    /// RFC 4469 §5: CATENATE's URL is an astring, so a literal too.
    @Test func catenateURLAsLiteral() throws {
        let f = try SessionFixture()
        try f.selectThree()
        let validity = try f.uidValidity()
        let url = "/INBOX;UIDVALIDITY=\(validity)/;UID=1/;SECTION=TEXT"
        #expect(f.send("a APPEND INBOX CATENATE (TEXT {8}\r\n") == "+ OK\r\n")
        #expect(f.send("x: y\r\n\r\n URL {\(url.utf8.count)}\r\n") == "+ OK\r\n")
        #expect(f.send(url + ")\r\n") == "* 4 EXISTS\r\n* 4 RECENT\r\na OK [APPENDUID \(validity) 4] Append completed" + done)
        #expect(
            f.send("b APPEND INBOX CATENATE (URL {\(url.utf8.count)+}\r\n\(url) URL \"\(url)\")\r\n")
                == "* 5 EXISTS\r\n* 5 RECENT\r\nb OK [APPENDUID \(validity) 5] Append completed" + done)
        #expect(
            f.send("c FETCH 4:5 BODY.PEEK[]\r\n")
                == "* 4 FETCH (BODY[] {20}\r\nx: y\r\n\r\nfirst body\r\n)\r\n"
                + "* 5 FETCH (BODY[] {24}\r\nfirst body\r\nfirst body\r\n)\r\nc OK Fetch completed" + done)
        #expect(
            f.send("d APPEND INBOX CATENATE (URL {6}\r\n") == "+ OK\r\n")
        #expect(f.send("/bogus)\r\n") == "d NO [BADURL /bogus] Invalid IMAP URL: Message UID required" + done)
    }

    /// A message saved with flags is \Recent to the session that first sees it, as one saved without.
    @Test func appendWithFlagsIsRecent() throws {
        let f = try SessionFixture()
        let message = "Subject: x\r\n\r\nbody\r\n"
        f.send("a APPEND INBOX (\\Seen) {\(message.utf8.count)+}\r\n\(message)\r\n")
        f.send("b APPEND INBOX (\\Flagged $Foo) {\(message.utf8.count)+}\r\n\(message)\r\n")
        #expect(f.send("c SELECT INBOX\r\n").contains("* 2 EXISTS\r\n* 2 RECENT\r\n"))
        #expect(
            f.send("d APPEND INBOX (\\Draft) {\(message.utf8.count)+}\r\n\(message)\r\n").hasPrefix("* 3 EXISTS\r\n* 3 RECENT\r\n"))
        #expect(
            f.send("e FETCH 1:* FLAGS\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n* 2 FETCH (FLAGS (\\Flagged \\Recent $Foo))\r\n"
                + "* 3 FETCH (FLAGS (\\Draft \\Recent))\r\ne OK Fetch completed" + done)
        f.send("f CREATE Other\r\n")
        #expect(f.send("g COPY 1:2 Other\r\n").hasPrefix("g OK [COPYUID"))
        #expect(f.send("h SELECT Other\r\n").contains("* 2 EXISTS\r\n* 2 RECENT\r\n"))
        #expect(
            f.send("i FETCH 1:* FLAGS\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n* 2 FETCH (FLAGS (\\Flagged \\Recent $Foo))\r\n"
                + "i OK Fetch completed" + done)
    }

    /// Dovecot takes PREVIEW.PEEK and SNIPPET.PEEK like PREVIEW and SNIPPET; the macros only stand alone.
    @Test func previewPeekAndMacros() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(f.send("a FETCH 1 PREVIEW.PEEK\r\n") == "* 1 FETCH (PREVIEW \"first body\")\r\na OK Fetch completed" + done)
        #expect(
            f.send("b FETCH 2 (PREVIEW.PEEK (LAZY))\r\n") == "* 2 FETCH (PREVIEW NIL)\r\nb OK Fetch completed" + done)
        #expect(
            f.send("c FETCH 1 (SNIPPET.PEEK PREVIEW.PEEK (FUZZY))\r\n")
                == "* 1 FETCH (SNIPPET (FUZZY \"first body\") PREVIEW (FUZZY \"first body\"))\r\nc OK Fetch completed" + done)
        #expect(f.send("d FETCH 1 (PREVIEW ())\r\n") == "d BAD Error in IMAP command FETCH: FETCH list contains non-atoms" + done)
        #expect(f.send("e FETCH 1 (FAST)\r\n") == "e BAD Error in IMAP command FETCH: Unknown parameter: FAST" + done)
        #expect(f.send("f FETCH 1 (UID ALL)\r\n") == "f BAD Error in IMAP command FETCH: Unknown parameter: ALL" + done)
    }

    /// Plain items asked for twice are answered once; sections, BINARY.SIZE and PREVIEW each time.
    @Test func repeatedFetchItems() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(f.send("a FETCH 1 (FLAGS FLAGS UID UID)\r\n") == "* 1 FETCH (FLAGS (\\Recent) UID 1)\r\na OK Fetch completed" + done)
        #expect(
            f.send("b FETCH 3 (BODY.PEEK[1] UID BODY.PEEK[1] BINARY.SIZE[1] BINARY.SIZE[1] RFC822.SIZE RFC822.SIZE)\r\n")
                == "* 3 FETCH (UID 3 RFC822.SIZE 73 BODY[1] {7}\r\nthird\r\n BODY[1] {7}\r\nthird\r\n"
                + " BINARY.SIZE[1] 7 BINARY.SIZE[1] 7)\r\nb OK Fetch completed" + done)
        #expect(
            f.send("c FETCH 1 (PREVIEW PREVIEW)\r\n")
                == "* 1 FETCH (PREVIEW \"first body\" PREVIEW \"first body\")\r\nc OK Fetch completed" + done)
    }

    /// One STORE, one COPY, one APPEND: one MODSEQ each, however many messages (Dovecot's transactions).
    @Test func oneModSeqPerChange() throws {
        let f = try SessionFixture()
        f.send("a ENABLE CONDSTORE\r\n")
        f.send("b CREATE Box\r\n")
        #expect(f.send("c STATUS Box (HIGHESTMODSEQ)\r\n") == "* STATUS Box (HIGHESTMODSEQ 1)\r\nc OK Status completed" + done)
        let message = "Subject: x\r\n\r\nbody\r\n"
        for tag in ["d", "e", "f"] { f.send("\(tag) APPEND Box {\(message.utf8.count)+}\r\n\(message)\r\n") }
        #expect(f.send("g STATUS Box (HIGHESTMODSEQ)\r\n") == "* STATUS Box (HIGHESTMODSEQ 4)\r\ng OK Status completed" + done)
        f.send("h SELECT Box\r\n")
        #expect(
            f.send("i STORE 1:3 +FLAGS.SILENT (\\Flagged)\r\n")
                == "* 1 FETCH (MODSEQ (5))\r\n* 2 FETCH (MODSEQ (5))\r\n* 3 FETCH (MODSEQ (5))\r\ni OK Store completed" + done)
        // Messages a STORE leaves as they were get no FETCH.
        #expect(f.send("j STORE 1:3 +FLAGS (\\Flagged)\r\n") == "j OK Store completed" + done)
        #expect(
            f.send("j STORE 1:3 +FLAGS.SILENT (\\Flagged \\Seen)\r\n")
                == "* 1 FETCH (MODSEQ (6))\r\n* 2 FETCH (MODSEQ (6))\r\n* 3 FETCH (MODSEQ (6))\r\nj OK Store completed" + done)
        #expect(f.send("j STORE 2 -FLAGS.SILENT (\\Seen)\r\n") == "* 2 FETCH (MODSEQ (7))\r\nj OK Store completed" + done)
        #expect(f.send("k COPY 1:3 Box\r\n").hasPrefix("* 6 EXISTS\r\n* 6 RECENT\r\n"))
        #expect(
            f.send("l FETCH 1:* MODSEQ\r\n")
                == "* 1 FETCH (MODSEQ (6))\r\n* 2 FETCH (MODSEQ (7))\r\n* 3 FETCH (MODSEQ (6))\r\n"
                + "* 4 FETCH (MODSEQ (8))\r\n* 5 FETCH (MODSEQ (8))\r\n* 6 FETCH (MODSEQ (8))\r\nl OK Fetch completed" + done)
    }

    /// An internal error goes to the log with its cause; the client gets Dovecot's text with the time.
    @Test func storageErrorsAreLogged() throws {
        let logged = Mutex<[String]>([])
        let f = try SessionFixture(now: { 1_764_606_000 }, logError: { line in logged.withLock { $0.append(line) } })
        f.send("a CREATE broken\r\n")
        let cur = f.root + "/.broken/cur"
        try FileManager.default.removeItem(atPath: cur)
        try Data().write(to: URL(fileURLWithPath: cur))
        let reply = f.send("b SELECT broken\r\n")
        let stamp = IMAPMailSessionWireTests.localStamp(1_764_606_000)
        #expect(
            reply == "b NO [SERVERBUG] Internal error occurred. Refer to server log for more information. [\(stamp)]\r\n")
        #expect(logged.withLock { $0 } == ["Mailbox broken: mkdir(\(cur)) failed: File exists"])
    }

    static func localStamp(_ seconds: Int) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone.current
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
