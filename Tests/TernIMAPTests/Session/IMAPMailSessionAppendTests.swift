import Foundation
import TernIMAP
import TernMailbox
import Testing

/// MULTIAPPEND (RFC 3502), CATENATE (RFC 4469) with URL-PARTIAL (RFC 5550) and BINARY (RFC 3516) through the
/// session, with the replies Dovecot 2.3.19 gives.
@Suite struct IMAPMailSessionAppendTests {
    static let first = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n"
    static let second = "Date: Mon, 7 Feb 1994 22:43:04 -0800 (PST)\r\nSubject: afternoon meeting 2\r\n\r\nHello\r\n"

    /// A multipart message with a 7bit, a quoted-printable, a base64 (NUL inside) and a message/rfc822 part
    /// (the one the Dovecot transcripts below were taken with).
    static let multipart =
        "Subject: two\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        + "--XX\r\nContent-Type: text/plain\r\n\r\nplain text\r\n"
        + "--XX\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nab=3Dc=\r\nd\r\n"
        + "--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
        + "--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + "aGk=\r\n--XX--\r\n"

    func tmpFiles(_ f: SessionFixture, _ folder: String = "") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: f.root + folder + "/tmp")
    }

    /// RFC 3502 §6.3.11's example; then failing MULTIAPPENDs keep none of their messages.
    @Test func multiappendIsAllOrNothing() throws {
        let f = try SessionFixture()
        let first = Self.first
        let second = Self.second
        #expect(f.send("A003 APPEND INBOX (\\Seen) {\(first.utf8.count)}\r\n") == "+ OK\r\n")
        #expect(f.send(first + " (\\Seen) \" 7-Feb-1994 22:43:04 -0800\" {\(second.utf8.count)}\r\n") == "+ OK\r\n")
        // The first message waits in tmp/ until the command ends, beside the second one being written.
        #expect(try tmpFiles(f).count == 2)
        let validity = try f.uidValidity()
        #expect(f.send(second + "\r\n") == "A003 OK [APPENDUID \(validity) 1:2] Append completed" + done)
        #expect(f.send("b APPEND INBOX {3+}\r\nabc {0+}\r\n\r\n") == "b NO Can't save a zero byte message" + done)
        #expect(
            f.send("c APPEND INBOX {3+}\r\nabc (\\Bogus) {3+}\r\nabc\r\n")
                == "c BAD Error in IMAP command APPEND: Invalid system flag \\BOGUS" + done)
        #expect(f.send("d APPEND INBOX {3+}\r\nabc x\r\n") == "d BAD Error in IMAP command APPEND: Invalid arguments" + done)
        #expect(
            f.send("e APPEND INBOX {3+}\r\nabc CATENATE (URL \"/INBOX/;UID=99\")\r\n")
                == "e NO [BADURL /INBOX/;UID=99] Message not found" + done)
        #expect(
            f.send("f STATUS INBOX (MESSAGES UIDNEXT)\r\n")
                == "* STATUS INBOX (MESSAGES 2 UIDNEXT 3)\r\nf OK Status completed" + done)
        #expect(try tmpFiles(f).isEmpty)
        f.send("g SELECT INBOX\r\n")
        #expect(
            f.send("h FETCH 1:2 (FLAGS RFC822.SIZE)\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent) RFC822.SIZE 85)\r\n"
                + "* 2 FETCH (FLAGS (\\Seen \\Recent) RFC822.SIZE 83)\r\nh OK Fetch completed" + done)
        #expect(f.send("i FETCH 2 INTERNALDATE\r\n").contains("\"08-Feb-1994 06:43:04 +0000\")"))
    }

    /// RFC 4469's example shape: parts of a stored message (header, MIME header, body part, PARTIAL text)
    /// around new text, mailbox-relative and absolute URLs, with MULTIAPPEND.
    @Test func catenateComposesFromURLs() throws {
        let f = try SessionFixture()
        try f.deliver(Self.multipart, name: "1.M1P1.host")
        f.send("a CREATE Drafts\r\n")
        let validity = try f.uidValidity()
        let text = "\r\n--XX\r\n"
        #expect(
            f.send(
                "b APPEND Drafts (\\Draft) CATENATE (URL \"/INBOX/;UID=1/;SECTION=HEADER\" TEXT {\(text.utf8.count)}\r\n"
            ) == "+ OK\r\n")
        let drafts = try f.uidValidity("Drafts")
        #expect(
            f.send(
                text + " URL \"/INBOX;UIDVALIDITY=\(validity)/;UID=1/;SECTION=1.MIME\" URL \"/INBOX/;UID=1/;SECTION=1\""
                    + " TEXT {10+}\r\n\r\n--XX--\r\n) CATENATE (URL \"/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=2.5\")\r\n")
                == "b OK [APPENDUID \(drafts) 1:2] Append completed" + done)
        f.send("c SELECT INBOX\r\n")
        // Relative to the selected mailbox; a missing section is empty, as in Dovecot.
        #expect(
            f.send("d APPEND Drafts CATENATE (URL \";UID=1/;SECTION=3\" URL \";uid=1/;section=9\")\r\n")
                == "d OK [APPENDUID \(drafts) 3] Append completed" + done)
        f.send("e SELECT Drafts\r\n")
        #expect(
            f.send("f FETCH 1:3 (FLAGS BODY.PEEK[])\r\n")
                == "* 1 FETCH (FLAGS (\\Draft \\Recent) BODY[] {135}\r\n"
                + "Subject: two\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
                + "\r\n--XX\r\nContent-Type: text/plain\r\n\r\nplain text\r\n--XX--\r\n)\r\n"
                + "* 2 FETCH (FLAGS (\\Recent) BODY[] {5}\r\nXX\r\nC)\r\n"
                + "* 3 FETCH (FLAGS (\\Recent) BODY[] {4}\r\nAAEC)\r\n"
                + "f OK Fetch completed" + done)
    }

    /// `NO [BADURL url]` with Dovecot's texts, `NO [TOOBIG]`, `[TRYCREATE]`; nothing is kept.
    @Test func catenateRefusals() throws {
        let f = try SessionFixture()
        try f.deliver(Self.multipart, name: "1.M1P1.host")
        let refusals = [
            "/INBOX;UIDVALIDITY=1/;UID=1": "Invalid UIDVALIDITY",
            "/Nope/;UID=1": "Mailbox doesn't exist: Nope",
            "/INBOX/;UID=2": "Message not found",
            ";UID=1": "Mailbox-relative IMAP URL, but no mailbox selected",
            "imap://tuser@localhost/INBOX/;UID=1": "Invalid IMAP URL: Relative URL required",
            "/INBOX/;UID=1/;PARTIAL=x": "Invalid IMAP URL: Value 'x' is not a valid IMAP number",
        ]
        for (url, text) in refusals {
            #expect(
                f.send("a APPEND INBOX CATENATE (TEXT {3+}\r\nabc URL \"\(url)\" TEXT {3}\r\n")
                    == "a NO [BADURL \(url)] \(text)" + done)
        }
        #expect(
            f.send("b APPEND Nope CATENATE (TEXT {3+}\r\nabc)\r\n")
                == "b NO [TRYCREATE] Mailbox doesn't exist: Nope" + done)
        #expect(f.send("c STATUS INBOX (MESSAGES)\r\n") == "* STATUS INBOX (MESSAGES 1)\r\nc OK Status completed" + done)
        #expect(try tmpFiles(f).isEmpty)

        let small = IMAPMailSession(
            store: f.store, configuration: .init(user: "tuser", maxComposedMessageSize: 100, clock: { 0 }))
        func send(_ text: String) -> String { String(decoding: small.receive(Array(text.utf8)).bytes, as: UTF8.self) }
        #expect(
            send("a APPEND INBOX CATENATE (TEXT {3+}\r\nabc URL \"/INBOX/;UID=1\")\r\n")
                == "a NO [TOOBIG] Composed message grows too big" + done)
        #expect(send("b APPEND INBOX CATENATE (TEXT {101}\r\n") == "b NO [TOOBIG] Composed message grows too big" + done)
        #expect(send("c APPEND INBOX CATENATE (TEXT {100}\r\n") == "+ OK\r\n")
    }

    /// BINARY / BINARY.PEEK / BINARY.SIZE as Dovecot 2.3.19 answers them: decoded data (and data with NUL)
    /// in a literal8, containers with their parts decoded and `Content-Transfer-Encoding: binary`.
    @Test func binaryFetch() throws {
        let f = try SessionFixture()
        try f.deliver(Self.multipart, name: "1.M1P1.host")
        f.send("a SELECT INBOX\r\n")
        #expect(
            f.send("b FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[3] BINARY.SIZE[4] BINARY.SIZE[] BINARY.SIZE[4.1])\r\n")
                == "* 1 FETCH (BINARY.SIZE[1] 10 BINARY.SIZE[2] 5 BINARY.SIZE[3] 3 BINARY.SIZE[4] 55 BINARY.SIZE[] 392"
                + " BINARY.SIZE[4.1] 2)\r\nb OK Fetch completed" + done)
        let reply = f.session.receive(Array("c FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[2] BINARY.PEEK[3] BINARY.PEEK[4.1])\r\n".utf8))
        #expect(
            reply.bytes
                == Array("* 1 FETCH (BINARY[1] {10}\r\nplain text BINARY[2] ~{5}\r\nab=cd BINARY[3] ~{3}\r\n".utf8)
                + [0, 1, 2] + Array(" BINARY[4.1] ~{2}\r\nhi)\r\nc OK Fetch completed\(done)".utf8))
        #expect(
            f.send("d FETCH 1 (BINARY.PEEK[4] BINARY[2]<1.2>)\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent) BINARY[4] ~{55}\r\n"
                + "Subject: inner\r\nContent-Transfer-Encoding: binary\r\n\r\nhi BINARY[2]<1> ~{2}\r\nb=)\r\n"
                + "d OK Fetch completed" + done)
        let whole = String(decoding: f.session.receive(Array("e FETCH 1 BINARY.PEEK[]\r\n".utf8)).bytes, as: UTF8.self)
        #expect(whole.hasPrefix("* 1 FETCH (BINARY[] ~{392}\r\nSubject: two\r\n"))
        #expect(whole.contains("--XX\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nab=cd\r\n"))
        #expect(whole.hasSuffix("Content-Transfer-Encoding: binary\r\n\r\nhi\r\n--XX--\r\n)\r\ne OK Fetch completed" + done))
    }

    /// RFC 3516 §4.3: an encoding BINARY cannot undo. Dovecot writes what it has (or the UID) and stops;
    /// BINARY.SIZE fails for any part when one part of the message is unknown.
    @Test func binaryUnknownTransferEncoding() throws {
        let f = try SessionFixture()
        let message =
            "Subject: cte\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
            + "--XX\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n"
            + "--XX\r\nContent-Transfer-Encoding: x-foo\r\n\r\nzzz\r\n--XX--\r\n"
        try f.deliver(message, name: "1.M1P1.host")
        f.send("a SELECT INBOX\r\n")
        let unknown = "NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding" + done
        #expect(f.send("b FETCH 1 (BINARY.PEEK[1]<2.3> BINARY.PEEK[2])\r\n") == "* 1 FETCH (BINARY[1]<2> ~{3}\r\nllo)\r\nb " + unknown)
        #expect(f.send("c FETCH 1 BINARY.SIZE[1]\r\n") == "* 1 FETCH (UID 1)\r\nc " + unknown)
        #expect(f.send("d FETCH 1 BINARY.PEEK[]\r\n") == "* 1 FETCH (UID 1)\r\nd " + unknown)
        #expect(f.send("e FETCH 1 BINARY.PEEK[1]\r\n") == "* 1 FETCH (BINARY[1] ~{11}\r\nhello world)\r\ne OK Fetch completed" + done)
    }

    /// APPEND with literal8 (RFC 3516 §4.4) and NUL: BINARY sends it back in a literal8, BODY as 0x80.
    @Test func literal8AppendAndNUL() throws {
        let f = try SessionFixture()
        let message: [UInt8] = Array("Subject: nul\r\n\r\na".utf8) + [0] + Array("b\r\n".utf8)
        let validity = try f.uidValidity()
        #expect(f.send("a APPEND INBOX ~{21}\r\n") == "+ OK\r\n")
        #expect(
            String(decoding: f.session.receive(message + Array("\r\n".utf8)).bytes, as: UTF8.self)
                == "a OK [APPENDUID \(validity) 1] Append completed" + done)
        f.send("b SELECT INBOX\r\n")
        let reply = f.session.receive(Array("c FETCH 1 (BINARY.PEEK[] BINARY.SIZE[] BODY.PEEK[] RFC822.SIZE BINARY.PEEK[1])\r\n".utf8))
        let replaced = message.map { $0 == 0 ? 0x80 : $0 }
        #expect(
            reply.bytes
                == Array("* 1 FETCH (RFC822.SIZE 21 BINARY[] ~{21}\r\n".utf8) + message
                + Array(" BINARY.SIZE[] 21 BODY[] {21}\r\n".utf8) + replaced
                + Array(" BINARY[1] ~{5}\r\na".utf8) + [0] + Array("b\r\n)\r\nc OK Fetch completed\(done)".utf8))
    }
}
