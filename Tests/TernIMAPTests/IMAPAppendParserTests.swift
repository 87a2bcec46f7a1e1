import TernIMAP
import Testing

/// APPEND's extensions in the parser: MULTIAPPEND (RFC 3502), CATENATE (RFC 4469) and literal8 (RFC 3516).
@Suite struct IMAPAppendParserTests {
    let draft = MailboxName(bytes: bytes("Drafts"))

    /// RFC 3502 §6.3.11's example: two messages, synchronizing literals, the second with flags and a date.
    @Test func multiappendRFC3502Example() {
        let first = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n"
        let second = "Date: Mon, 7 Feb 1994 22:43:04 -0800 (PST)\r\nSubject: afternoon meeting 2\r\n\r\nHello\r\n"
        let input =
            "A003 APPEND saved-messages (\\Seen) {\(first.utf8.count)}\r\n\(first)"
            + " (\\Seen) \" 7-Feb-1994 22:43:04 -0800\" {\(second.utf8.count)}\r\n\(second)\r\n"
        let mailbox = MailboxName(bytes: bytes("saved-messages"))
        let expected: [IMAPCommandParser.Event] = [
            .appendStart(
                AppendMessage(
                    tag: "A003", mailbox: mailbox, flags: [.seen], internalDate: nil, byteCount: first.utf8.count,
                    synchronizing: true)),
            .appendBytes(bytes(first)),
            .appendStart(
                AppendMessage(
                    tag: "A003", mailbox: mailbox, flags: [.seen],
                    internalDate: IMAPDateTime(" 7-Feb-1994 22:43:04 -0800"), byteCount: second.utf8.count,
                    synchronizing: true, index: 1)),
            .appendBytes(bytes(second)),
            .appendEnd(tag: "A003"),
        ]
        #expect(parseEvents(bytes(input)) == expected)
        #expect(parseEvents(bytes(input), chunk: 1) == expected)
    }

    /// Dovecot takes messages with no space, or several, between them; anything else is a BAD.
    @Test func multiappendSpacingAndGarbage() {
        let events = parseEvents("a APPEND INBOX {1+}\r\nx{1+}\r\ny  {1+}\r\nz\r\n")
        #expect(events.filter { if case .appendStart = $0 { true } else { false } }.count == 3)
        #expect(events.last == .appendEnd(tag: "a"))
        #expect(
            parseEvents("a APPEND INBOX {1+}\r\nx {1+}\r\ny x\r\nb NOOP\r\n").suffix(2) == [
                .error(IMAPCommandError(tag: "a", command: "APPEND", reason: .syntax("Invalid arguments"))),
                .command(TaggedCommand(tag: "b", command: .noop)),
            ])
    }

    /// literal8 `~{n}` for the message (RFC 3516 §4.4), NUL included.
    @Test func literal8Message() {
        let message: [UInt8] = bytes("Subject: nul\r\n\r\na") + [0] + bytes("b\r\n")
        let events = parseEvents(bytes("a APPEND Drafts ~{\(message.count)+}\r\n") + message + bytes("\r\n"))
        #expect(
            events == [
                .appendStart(
                    AppendMessage(
                        tag: "a", mailbox: draft, flags: [], internalDate: nil, byteCount: message.count,
                        synchronizing: false)),
                .appendBytes(message), .appendEnd(tag: "a"),
            ])
    }

    /// RFC 4469 §7's example: URLs and TEXT literals (synchronizing) in one CATENATE list.
    @Test func catenateRFC4469Example() {
        let text1 = "\r\n--------------030308070208000400050907\r\n"
        let text2 = "\r\n--------------030308070208000400050907\r\n"
        let text3 = "\r\n--------------030308070208000400050907--\r\n"
        let input =
            "A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;"
            + "section=HEADER\" TEXT {\(text1.utf8.count)}\r\n\(text1) URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;"
            + "section=1.MIME\" URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1\" TEXT {\(text2.utf8.count)}\r\n"
            + "\(text2) URL \"/Drafts;UIDVALIDITY=385759045/;UID=30\" TEXT {\(text3.utf8.count)}\r\n\(text3))\r\n"
        let expected: [IMAPCommandParser.Event] = [
            .appendStart(
                AppendMessage(
                    tag: "A003", mailbox: draft, flags: [.seen, .draft, .keyword("$MDNSent")],
                    internalDate: nil, byteCount: 0, synchronizing: false, catenate: true)),
            .catenateURL("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER"),
            .catenateText(byteCount: text1.utf8.count, synchronizing: true),
            .appendBytes(bytes(text1)),
            .catenateURL("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME"),
            .catenateURL("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1"),
            .catenateText(byteCount: text2.utf8.count, synchronizing: true),
            .appendBytes(bytes(text2)),
            .catenateURL("/Drafts;UIDVALIDITY=385759045/;UID=30"),
            .catenateText(byteCount: text3.utf8.count, synchronizing: true),
            .appendBytes(bytes(text3)),
            .appendEnd(tag: "A003"),
        ]
        #expect(parseEvents(bytes(input)) == expected)
        #expect(parseEvents(bytes(input), chunk: 1) == expected)
    }

    /// CATENATE without any literal, and CATENATE mixed with a plain message (MULTIAPPEND).
    @Test func catenateWithMultiappend() {
        #expect(
            parseEvents("a APPEND Drafts CATENATE (URL \"/INBOX/;UID=1\")\r\n") == [
                .appendStart(
                    AppendMessage(
                        tag: "a", mailbox: draft, flags: [], internalDate: nil, byteCount: 0, synchronizing: false,
                        catenate: true)),
                .catenateURL("/INBOX/;UID=1"), .appendEnd(tag: "a"),
            ])
        #expect(
            parseEvents("a APPEND Drafts (\\Seen) CATENATE (TEXT ~{3+}\r\nabc) {1+}\r\nx CATENATE (URL \";UID=1\" )\r\n") == [
                .appendStart(
                    AppendMessage(
                        tag: "a", mailbox: draft, flags: [.seen], internalDate: nil, byteCount: 0,
                        synchronizing: false, catenate: true)),
                .catenateText(byteCount: 3, synchronizing: false), .appendBytes(bytes("abc")),
                .appendStart(
                    AppendMessage(
                        tag: "a", mailbox: draft, flags: [], internalDate: nil, byteCount: 1, synchronizing: false,
                        index: 1)),
                .appendBytes(bytes("x")),
                .appendStart(
                    AppendMessage(
                        tag: "a", mailbox: draft, flags: [], internalDate: nil, byteCount: 0, synchronizing: false,
                        index: 2, catenate: true)),
                .catenateURL(";UID=1"), .appendEnd(tag: "a"),
            ])
    }

    /// RFC 6855 §4: `cat-part =/ utf8-literal`, a CATENATE part `UTF8 (literal8)` between URL and TEXT parts,
    /// byte by byte too; a missing `)` after the part, or a plain string in it, is Dovecot's BAD.
    @Test func catenateUTF8Part() {
        let text = "Subject: Grüße\r\n\r\n"
        let size = text.utf8.count
        let input = "a APPEND Drafts CATENATE (URL \"/INBOX/;UID=1\" UTF8 (~{\(size)}\r\n\(text)) TEXT {2+}\r\nok)\r\n"
        let expected: [IMAPCommandParser.Event] = [
            .appendStart(
                AppendMessage(
                    tag: "a", mailbox: draft, flags: [], internalDate: nil, byteCount: 0, synchronizing: false,
                    catenate: true)),
            .catenateURL("/INBOX/;UID=1"),
            .catenateText(byteCount: size, synchronizing: true, utf8: true), .appendBytes(bytes(text)),
            .catenateText(byteCount: 2, synchronizing: false), .appendBytes(bytes("ok")),
            .appendEnd(tag: "a"),
        ]
        #expect(parseEvents(bytes(input)) == expected)
        #expect(parseEvents(bytes(input), chunk: 1) == expected)
        func error(_ detail: String) -> IMAPCommandParser.Event {
            .error(IMAPCommandError(tag: "a", command: "APPEND", reason: .syntax(detail)))
        }
        #expect(parseEvents("a APPEND Drafts CATENATE (UTF8 (~{2+}\r\nok)\r\n").last == error("Missing ')'"))
        #expect(parseEvents("a APPEND Drafts CATENATE (UTF8 (~{2+}\r\nok URL \"/x\"))\r\n").last == error("Invalid arguments"))
        #expect(parseEvents("a APPEND Drafts CATENATE (UTF8 \"ok\")\r\n") == [error("Invalid arguments")])
    }

    /// Dovecot's BAD texts for broken CATENATE lists; the rest of the line is skipped.
    @Test func catenateSyntaxErrors() {
        func error(_ detail: String) -> IMAPCommandParser.Event {
            .error(IMAPCommandError(tag: "a", command: "APPEND", reason: .syntax(detail)))
        }
        #expect(parseEvents("a APPEND Drafts CATENATE ()\r\n") == [error("Empty CATENATE list")])
        #expect(parseEvents("a APPEND Drafts CATENATE (FOO \"x\")\r\n") == [error("Invalid arguments")])
        #expect(parseEvents("a APPEND Drafts CATENATE (TEXT \"abc\")\r\n") == [error("Invalid arguments")])
        #expect(parseEvents("a APPEND Drafts CATENATE (URL \"/INBOX/;UID=1\"\r\n") == [error("Missing ')'")])
        #expect(parseEvents("a APPEND Drafts\r\n") == [error("Missing message size")])
        // After a streamed TEXT the error ends the command; the next one parses.
        let events = parseEvents("a APPEND Drafts CATENATE (TEXT {3+}\r\nabc\r\nb NOOP\r\n")
        #expect(events.suffix(2) == [error("Missing ')'"), .command(TaggedCommand(tag: "b", command: .noop))])
    }

    /// The session refusing a URL drops the rest: pending URLs, a TEXT literal not yet sent (synchronizing)
    /// or already on its way (non-synchronizing).
    @Test func rejectedCatenateSkipsTheRest() {
        for literal in ["{3}\r\n", "{3+}\r\nabc)\r\n"] {
            let input = "a APPEND Drafts CATENATE (URL \"/x\" URL \"/y\" TEXT \(literal)b NOOP\r\n"
            let events = parseEvents(bytes(input)) { event, parser in
                if case .catenateURL = event { parser.rejectAppend() }
            }
            #expect(events.count == 3, "\(literal)")
            #expect(events.last == .command(TaggedCommand(tag: "b", command: .noop)), "\(literal)")
        }
    }

    /// RFC 5092 / RFC 5550 URLs as CATENATE takes them, with Dovecot's refusals.
    @Test func imapURLs() throws {
        #expect(
            try IMAPURL(relative: "/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME")
                == IMAPURL(
                    mailbox: "Drafts", uidValidity: 385_759_045, uid: 20, section: BodySection(part: [1], kind: .mime)))
        #expect(
            try IMAPURL(relative: "/gray-council;UIDVALIDITY=385759045/;UID=20/;PARTIAL=0.1024")
                == IMAPURL(
                    mailbox: "gray-council", uidValidity: 385_759_045, uid: 20,
                    partial: Partial(offset: 0, length: 1024)))
        #expect(
            try IMAPURL(relative: "/My%20Box/;uid=3/;SECTION=HEADER.FIELDS%20(SUBJECT)/;PARTIAL=5")
                == IMAPURL(
                    mailbox: "My Box", uid: 3, section: BodySection(kind: .headerFields(["SUBJECT"])),
                    partial: Partial(offset: 5, length: nil)))
        #expect(try IMAPURL(relative: ";UID=7") == IMAPURL(mailbox: nil, uid: 7))
        let refusals = [
            "imap://u1@localhost/INBOX/;UID=1": "Invalid IMAP URL: Relative URL required",
            "//host/INBOX/;UID=1": "Invalid IMAP URL: Relative URL required",
            "/INBOX/;UID=abc": "Invalid IMAP URL: Value 'abc' is not a valid IMAP number",
            "/INBOX/;UID=0": "Invalid IMAP URL: UID cannot be zero",
            "/INBOX/;UID=1/;PARTIAL=2.0": "Invalid IMAP URL: PARTIAL size cannot be zero",
            "/INBOX/;UID=1;URLAUTH=anonymous": "Invalid IMAP URL: `;URLAUTH=' is not allowed in this context",
            "/INBOX/;UID=1/;SECTION=1;PARTIAL=1": "Invalid IMAP URL: Unrecognized IMAP URL extension: ;PARTIAL=1",
            "": "Mailbox-relative IMAP URL, but no mailbox selected",
        ]
        for (url, text) in refusals {
            #expect(throws: IMAPURL.Failure(text), "\(url)") { try IMAPURL(relative: url) }
        }
    }
}
