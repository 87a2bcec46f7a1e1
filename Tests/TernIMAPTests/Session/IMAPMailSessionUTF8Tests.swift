import Foundation
import TernIMAP
import TernMailbox
import Testing

/// UTF8=ACCEPT (RFC 6855) after `ENABLE UTF8=ACCEPT`. Dovecot 2.3.19 neither advertises nor enables it
/// (`ENABLE UTF8=ACCEPT` gets a bare `OK Enabled`), so the RFC decides.
@Suite struct IMAPMailSessionUTF8Tests {
    static let utf8Message = "From: Jörg <jörg@example.org>\r\nSubject: Grüße\r\n\r\nbody\r\n"

    @Test func enableUTF8Accept() throws {
        let f = try SessionFixture()
        #expect(f.send("c CAPABILITY\r\n").contains(" LITERAL+ UTF8=ACCEPT "))
        #expect(f.send("a ENABLE UTF8=ACCEPT\r\n") == "* ENABLED UTF8=ACCEPT\r\na OK Enabled" + done)
    }

    /// §3: once enabled, names are UTF-8 both ways (`&` is itself); before, modified UTF-7.
    @Test func mailboxNamesInUTF8() throws {
        let f = try SessionFixture()
        let created = f.send("a CREATE \"Entw&APw-rfe\"\r\n")
        #expect(created == "a OK [MAILBOXID (\(try f.mailboxID("Entwürfe")))] Create completed" + done)
        #expect(f.send("b LIST \"\" E*\r\n") == "* LIST (\\HasNoChildren) \"/\" Entw&APw-rfe\r\nb OK List completed" + done)
        f.send("e ENABLE UTF8=ACCEPT\r\n")
        #expect(f.send("c LIST \"\" E*\r\n") == "* LIST (\\HasNoChildren) \"/\" \"Entwürfe\"\r\nc OK List completed" + done)
        let createdAmpersand = f.send("d CREATE \"A&B\"\r\n")
        #expect(createdAmpersand == "d OK [MAILBOXID (\(try f.mailboxID("A&B")))] Create completed" + done)
        #expect(FileManager.default.fileExists(atPath: f.root + "/.A&-B"))
        #expect(f.send("f STATUS \"Entwürfe\" (MESSAGES)\r\n").hasPrefix("* STATUS \"Entwürfe\" (MESSAGES 0)\r\n"))
        #expect(f.send("g LSUB \"\" *\r\n") == "g OK Lsub completed" + done)
        f.send("h SUBSCRIBE \"Entwürfe\"\r\n")
        #expect(f.send("i LSUB \"\" *\r\n") == "* LSUB () \"/\" \"Entwürfe\"\r\ni OK Lsub completed" + done)
        #expect(f.send("j SELECT {2}\r\n") == "+ OK\r\n")
        let reply = String(decoding: f.session.receive([0xFF, 0xFE, 0x0D, 0x0A]).bytes, as: UTF8.self)
        #expect(reply == "j NO Mailbox name is not valid UTF-8" + done)
    }

    /// §4: `APPEND ... UTF8 (literal8)` once enabled (MULTIAPPEND too); a BAD before.
    @Test func appendUTF8() throws {
        let f = try SessionFixture()
        let message = Self.utf8Message
        let size = message.utf8.count
        #expect(
            f.send("a APPEND INBOX UTF8 (~{\(size)+}\r\n\(message))\r\n")
                == "a BAD Error in IMAP command APPEND: Invalid arguments" + done)
        f.send("e ENABLE UTF8=ACCEPT\r\n")
        let validity = try f.uidValidity()
        #expect(f.send("b APPEND INBOX UTF8 (~{\(size)}\r\n") == "+ OK\r\n")
        #expect(f.send(message + ")\r\n") == "b OK [APPENDUID \(validity) 1] Append completed" + done)
        #expect(
            f.send("c APPEND INBOX (\\Seen) UTF8 (~{\(size)+}\r\n\(message)) UTF8 (~{\(size)+}\r\n\(message))\r\n")
                == "c OK [APPENDUID \(validity) 2:3] Append completed" + done)
        #expect(
            f.send("d APPEND INBOX UTF8 (~{\(size)+}\r\n\(message)\r\n")
                == "d BAD Error in IMAP command APPEND: Missing ')'" + done)
        f.send("s SELECT INBOX\r\n")
        #expect(f.send("f FETCH 2 FLAGS\r\n").hasPrefix("* 2 FETCH (FLAGS (\\Seen"))
    }

    /// §4: "the client can use the same data extension to include such a message in a catenated message part"
    /// (`cat-part =/ utf8-literal`): `CATENATE (UTF8 (~{n}...) TEXT {n}...)` once enabled; a BAD before.
    @Test func catenateUTF8Part() throws {
        let f = try SessionFixture()
        let header = "From: Jörg <jörg@example.org>\r\nSubject: Grüße\r\n\r\n"
        let body = "body\r\n"
        let parts = "UTF8 (~{\(header.utf8.count)+}\r\n\(header)) TEXT {\(body.utf8.count)+}\r\n\(body)"
        #expect(
            f.send("a APPEND INBOX CATENATE (\(parts))\r\n")
                == "a BAD Error in IMAP command APPEND: Invalid arguments" + done)
        f.send("e ENABLE UTF8=ACCEPT\r\n")
        let validity = try f.uidValidity()
        #expect(f.send("b APPEND INBOX CATENATE (\(parts))\r\n") == "b OK [APPENDUID \(validity) 1] Append completed" + done)
        // Synchronizing: `+ OK` for the part's literal, then the rest of the list.
        #expect(f.send("c APPEND INBOX CATENATE (URL \"/INBOX/;UID=1/;SECTION=TEXT\" UTF8 (~{\(header.utf8.count)}\r\n") == "+ OK\r\n")
        #expect(f.send(header + "))\r\n") == "c OK [APPENDUID \(validity) 2] Append completed" + done)
        // The part's `)` is required.
        #expect(
            f.send("d APPEND INBOX CATENATE (UTF8 (~{\(body.utf8.count)+}\r\n\(body))\r\n")
                == "d BAD Error in IMAP command APPEND: Missing ')'" + done)
        f.send("s SELECT INBOX\r\n")
        let message = header + body
        #expect(f.send("f FETCH 1:2 BODY.PEEK[]\r\n").contains("{\(message.utf8.count)}\r\n\(message)"))
        #expect(f.send("g FETCH 2 BODY.PEEK[]\r\n").contains("{\(message.utf8.count)}\r\nbody\r\n\(header))"))
    }

    /// §3: strings of UTF-8 go quoted once enabled (ENVELOPE here), as literals before; SEARCH takes UTF-8
    /// strings and matches raw UTF-8 header fields.
    @Test func utf8HeadersInFetchAndSearch() throws {
        let f = try SessionFixture()
        try f.deliver(Self.utf8Message.replacingOccurrences(of: "\r\n", with: "\n"), name: "1000.M1P1.host")
        f.send("s SELECT INBOX\r\n")
        #expect(f.send("a FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])\r\n").contains("Subject: Grüße"))
        #expect(f.send("b FETCH 1 ENVELOPE\r\n").contains(" {7}\r\nGrüße "))
        #expect(f.send("c SEARCH SUBJECT \"grüße\"\r\n") == "* SEARCH 1\r\nc OK Search completed" + done)
        #expect(f.send("c2 SEARCH CHARSET UTF-8 FROM {5}\r\nJörg\r\n").hasPrefix("+ OK\r\n* SEARCH 1\r\n"))
        f.send("e ENABLE UTF8=ACCEPT\r\n")
        #expect(f.send("d FETCH 1 ENVELOPE\r\n").contains(" \"Grüße\" ((\"Jörg\" NIL \"jörg\" \"example.org\"))"))
        #expect(f.send("g SEARCH FROM \"jörg\"\r\n") == "* SEARCH 1\r\ng OK Search completed" + done)
        // §3: no CHARSET once UTF8=ACCEPT is enabled.
        #expect(
            f.send("h SEARCH CHARSET UTF-8 FROM \"jörg\"\r\n")
                == "h BAD Error in IMAP command SEARCH: CHARSET not allowed after ENABLE UTF8=ACCEPT" + done)
    }
}
