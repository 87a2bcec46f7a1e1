import TernIMAP
import TernMailbox
import Testing

@Suite struct IMAPMailSessionFetchTests {
    @Test func appendSplitAcrossReceivesThenFetch() throws {
        let f = try SessionFixture()
        #expect(f.send("a APPEND INBOX (\\Seen $Label1) \"17-Jul-1996 09:44:25 +0000\" {28}\r\n") == "+ OK\r\n")
        #expect(f.send("Subject: hi\r\n\r\nhel") == "")
        #expect(f.send("lo world\r\n") == "")
        let validity = try f.uidValidity()
        #expect(f.send("\r\n") == "a OK [APPENDUID \(validity) 1] Append completed" + done)
        #expect(f.send("b APPEND INBOX {11+}\r\nSubject: 2\n\r\n") == "b OK [APPENDUID \(validity) 2] Append completed" + done)
        f.send("c SELECT INBOX\r\n")
        #expect(
            f.send("d FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)\r\n").hasPrefix(
                "* 1 FETCH (FLAGS (\\Seen \\Recent $Label1) UID 1 RFC822.SIZE 28 INTERNALDATE \"17-Jul-1996 09:44:25 +0000\")\r\n"
                    + "* 2 FETCH (FLAGS (\\Recent) UID 2 RFC822.SIZE 12 INTERNALDATE "))
        #expect(
            f.send("e FETCH 1 BODY[]\r\n")
                == "* 1 FETCH (BODY[] {28}\r\nSubject: hi\r\n\r\nhello world\r\n)\r\ne OK Fetch completed" + done)
        // The stored bare LF is served as CRLF.
        #expect(
            f.send("f FETCH 2 BODY.PEEK[]\r\n")
                == "* 2 FETCH (BODY[] {12}\r\nSubject: 2\r\n)\r\nf OK Fetch completed" + done)
    }

    @Test func appendRefusals() throws {
        let f = try SessionFixture()
        #expect(f.send("a APPEND Nope {3}\r\n") == "a NO [TRYCREATE] Mailbox doesn't exist: Nope" + done)
        #expect(f.send("b APPEND Nope {3+}\r\nabc\r\n") == "b NO [TRYCREATE] Mailbox doesn't exist: Nope" + done)
        #expect(f.send("c APPEND INBOX {0+}\r\n\r\n") == "c NO Can't save a zero byte message" + done)
        #expect(f.send("d NOOP\r\n") == "d OK NOOP completed" + done)
    }

    @Test func bodyFetchSetsSeenAndReportsFlags() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("a FETCH 3 RFC822.TEXT\r\n")
                == "* 3 FETCH (FLAGS (\\Seen \\Recent) RFC822.TEXT {7}\r\nthird\r\n)\r\na OK Fetch completed" + done)
        // Already seen: no FLAGS unless asked for, and FLAGS goes before the body data.
        #expect(
            f.send("b FETCH 3 (BODY[TEXT] FLAGS)\r\n")
                == "* 3 FETCH (FLAGS (\\Seen \\Recent) BODY[TEXT] {7}\r\nthird\r\n)\r\nb OK Fetch completed" + done)
        #expect(
            f.send("c UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (subject)] BODY[TEXT]<2.3>)\r\n")
                == "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: alpha\r\n\r\n"
                + " BODY[TEXT]<2> {3}\r\nrst)\r\nc OK Fetch completed" + done)
        #expect(
            f.send("d FETCH 2 (RFC822.HEADER BODY.PEEK[HEADER.FIELDS.NOT (From)] BODY.PEEK[1.MIME] BODY.PEEK[2])\r\n")
                == "* 2 FETCH (RFC822.HEADER {51}\r\nFrom: Bob <bob@example.org>\r\nSubject: Beta news\r\n\r\n"
                + " BODY[HEADER.FIELDS.NOT (FROM)] {22}\r\nSubject: Beta news\r\n\r\n"
                + " BODY[1.MIME] {51}\r\nFrom: Bob <bob@example.org>\r\nSubject: Beta news\r\n\r\n"
                + " BODY[2] {0}\r\n)\r\nd OK Fetch completed" + done)
        #expect(
            f.send("e FETCH 1 (ENVELOPE BODY)\r\n")
                == "* 1 FETCH (ENVELOPE (\"Tue, 1 Jul 2003 10:52:37 +0200\" \"alpha\" ((\"Ann\" NIL \"ann\" \"example.org\"))"
                + " ((\"Ann\" NIL \"ann\" \"example.org\")) ((\"Ann\" NIL \"ann\" \"example.org\")) NIL NIL NIL NIL NIL)"
                + " BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 1))\r\n"
                + "e OK Fetch completed" + done)
    }

    @Test func multipartSections() throws {
        let f = try SessionFixture()
        let message = """
            Subject: parts
            Content-Type: multipart/mixed; boundary="b1"

            preamble
            --b1
            Content-Type: text/plain

            one
            --b1
            Content-Type: message/rfc822

            Subject: inner

            inner body
            --b1
            Content-Type: application/octet-stream
            Content-Transfer-Encoding: base64

            aGVsbG8=
            --b1--

            """
        try f.deliver(message, name: "1.M1P1.host")
        f.send("a SELECT INBOX\r\n")
        #expect(f.send("b FETCH 1 BODY.PEEK[1]\r\n") == "* 1 FETCH (BODY[1] {3}\r\none)\r\nb OK Fetch completed" + done)
        #expect(
            f.send("c FETCH 1 BODY.PEEK[1.MIME]\r\n")
                == "* 1 FETCH (BODY[1.MIME] {28}\r\nContent-Type: text/plain\r\n\r\n)\r\nc OK Fetch completed" + done)
        #expect(
            f.send("d FETCH 1 (BODY.PEEK[2.HEADER] BODY.PEEK[2.1])\r\n")
                == "* 1 FETCH (BODY[2.HEADER] {18}\r\nSubject: inner\r\n\r\n BODY[2.1] {10}\r\ninner body)\r\n"
                + "d OK Fetch completed" + done)
        #expect(
            f.send("e FETCH 1 (BINARY.SIZE[3] BINARY.PEEK[3])\r\n")
                == "* 1 FETCH (BINARY.SIZE[3] 5 BINARY[3] ~{5}\r\nhello)\r\ne OK Fetch completed" + done)
    }
}
