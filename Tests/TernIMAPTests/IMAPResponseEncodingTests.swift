import TernIMAP
import Testing

@Suite struct IMAPResponseEncodingTests {
    func a(_ name: String?, _ mailbox: String, _ host: String) -> EnvelopeAddress {
        EnvelopeAddress(name: name, mailbox: mailbox, host: host)
    }

    @Test func quoting() {
        func string(_ data: [UInt8]) -> String {
            var w = IMAPWriter()
            w.string(data)
            return String(decoding: w.bytes, as: UTF8.self)
        }
        func astring(_ text: String) -> String {
            var w = IMAPWriter()
            w.astring(bytes(text))
            return String(decoding: w.bytes, as: UTF8.self)
        }
        #expect(string(bytes("plain")) == "\"plain\"")
        #expect(string(bytes("a\"b\\c")) == "\"a\\\"b\\\\c\"")
        #expect(string(bytes("line\r\nbreak")) == "{11}\r\nline\r\nbreak")
        #expect(string([0xC3, 0xA9]) == "{2}\r\né")
        #expect(string([]) == "\"\"")
        #expect(astring("INBOX") == "INBOX")
        #expect(astring("a]b") == "a]b")
        #expect(astring("Foo Bar") == "\"Foo Bar\"")
        #expect(astring("nil") == "\"nil\"")
        #expect(astring("") == "\"\"")
        #expect(astring("50%") == "\"50%\"")
    }

    /// RFC 3501 §8: the FETCH response of the sample session.
    @Test func rfc3501SampleFetch() {
        let envelope = Envelope(
            date: bytes("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"),
            subject: bytes("IMAP4rev1 WG mtg summary and minutes"),
            from: [a("Terry Gray", "gray", "cac.washington.edu")],
            sender: [a("Terry Gray", "gray", "cac.washington.edu")],
            replyTo: [a("Terry Gray", "gray", "cac.washington.edu")],
            to: [a(nil, "imap", "cac.washington.edu")],
            cc: [a(nil, "minutes", "CNRI.Reston.VA.US"), a("John Klensin", "KLENSIN", "MIT.EDU")],
            messageID: bytes("<B27397-0100000@cac.washington.edu>"))
        let body = BodyStructure.single(
            .init(
                type: "TEXT", subtype: "PLAIN", parameters: [BodyParameter("CHARSET", "US-ASCII")],
                encoding: "7BIT", size: 3028,
                kind: .text(lines: 92)))
        let response = IMAPResponse.fetch(
            12,
            [
                .flags([.seen]), .internalDate(IMAPDateTime("17-Jul-1996 02:44:25 -0700")!),
                .rfc822Size(4286), .envelope(envelope), .body(body),
            ])
        let expected =
            "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE ("
            + "\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
            + "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            + "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) "
            + "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
            + "\"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n"
        #expect(String(decoding: response.bytes, as: UTF8.self) == expected)
    }

    /// The multipart message of the Dovecot capture: ENVELOPE, BODYSTRUCTURE and BODY exactly as Dovecot 2.3 sent them.
    @Test func dovecotMultipartStructure() {
        let carla = a("Carla Smith", "carla", "example.org")
        let envelope = Envelope(
            date: bytes("Mon, 7 Feb 1994 21:52:25 -0800"), subject: bytes("=?utf-8?q?h=C3=A9llo?= test"),
            from: [carla], sender: [carla],
            replyTo: [carla], to: [a(nil, "bob", "example.com"), a("Q, X", "q", "x.org")],
            messageID: bytes("<B27397-0100000@cac.washington.edu>"))
        let ab = a(nil, "a", "b")
        let inner = Envelope(subject: bytes("inner"), from: [ab], sender: [ab], replyTo: [ab])
        let usascii = [BodyParameter("charset", "us-ascii")]
        let structure = BodyStructure.multipart(
            .init(
                parts: [
                    .single(
                        .init(
                            type: "text", subtype: "plain", parameters: usascii, size: 18, kind: .text(lines: 1))),
                    .single(
                        .init(
                            type: "message", subtype: "rfc822", size: 39,
                            kind: .message(
                                inner,
                                .single(
                                    .init(
                                        type: "text", subtype: "plain", parameters: usascii, size: 10,
                                        kind: .text(lines: 0))), lines: 3))),
                    .single(
                        .init(
                            type: "application", subtype: "octet-stream",
                            parameters: [BodyParameter("name", "a b.bin")], id: bytes("<id1>"),
                            description: bytes("desc"), encoding: "base64", size: 4, kind: .basic,
                            ext: BodyExtension(
                                disposition: BodyDisposition(
                                    kind: "attachment", parameters: [BodyParameter("filename", "a b.bin")]),
                                language: ["en"]))),
                ],
                subtype: "mixed", parameters: [BodyParameter("boundary", "xx")]))
        var fetch = FetchResponseWriter(sequence: 3)
        fetch.item(.flags([.flagged, .recent, .keyword("$Label1")]))
        fetch.item(.internalDate(IMAPDateTime("17-Jul-1996 09:44:25 +0000")!))
        fetch.item(.rfc822Size(665))
        fetch.item(.uid(3))
        fetch.item(.envelope(envelope))
        fetch.item(.bodyStructure(structure))
        fetch.item(.body(structure))
        fetch.end()
        let expected =
            "* 3 FETCH (FLAGS (\\Flagged \\Recent $Label1) INTERNALDATE \"17-Jul-1996 09:44:25 +0000\" RFC822.SIZE 665 UID 3 ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"=?utf-8?q?h=C3=A9llo?= test\" ((\"Carla Smith\" NIL \"carla\" \"example.org\")) ((\"Carla Smith\" NIL \"carla\" \"example.org\")) ((\"Carla Smith\" NIL \"carla\" \"example.org\")) ((NIL NIL \"bob\" \"example.com\")(\"Q, X\" NIL \"q\" \"x.org\")) NIL NIL NIL \"<B27397-0100000@cac.washington.edu>\") BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 18 1 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 39 (NIL \"inner\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)(\"application\" \"octet-stream\" (\"name\" \"a b.bin\") \"<id1>\" \"desc\" \"base64\" 4 NIL (\"attachment\" (\"filename\" \"a b.bin\")) (\"en\") NIL) \"mixed\" (\"boundary\" \"xx\") NIL NIL NIL) BODY ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 18 1)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 39 (NIL \"inner\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0) 3)(\"application\" \"octet-stream\" (\"name\" \"a b.bin\") \"<id1>\" \"desc\" \"base64\" 4) \"mixed\"))\r\n"
        #expect(String(decoding: fetch.take(), as: UTF8.self) == expected)
    }

    /// Dovecot's body data: always a literal, the section echoed with upper-case field names, the origin only.
    @Test func streamedBodyData() {
        var w = FetchResponseWriter(sequence: 3)
        w.beginStreamedItem(.bodySection(BodySection(part: [1]), origin: nil), byteCount: 18)
        var out = w.take()
        out += bytes("hello world\r\nline2")
        w.item(
            .bodySection(
                BodySection(kind: .headerFields(["Subject", "From"])), origin: nil,
                data: bytes("From: x\r\n\r\n")))
        w.item(
            .bodySection(BodySection(kind: .headerFieldsNot(["Subject"])), origin: 0, data: bytes("From"))
        )
        w.item(.bodySection(BodySection(part: [3], kind: .mime), origin: nil, data: []))
        w.item(.rfc822Text(nil))
        w.item(.binarySize(BodySection(part: [1]), size: 4))
        w.end()
        out += w.take()
        #expect(
            String(decoding: out, as: UTF8.self)
                == "* 3 FETCH (BODY[1] {18}\r\nhello world\r\nline2 BODY[HEADER.FIELDS (SUBJECT FROM)] {11}\r\nFrom: x\r\n\r\n BODY[HEADER.FIELDS.NOT (SUBJECT)]<0> {4}\r\nFrom BODY[3.MIME] {0}\r\n RFC822.TEXT NIL BINARY.SIZE[1] 4)\r\n"
        )
    }

    /// Parsing the items a FETCH asked for and echoing their names gives back what the client sent.
    @Test func sectionNamesRoundTrip() {
        for spec in [
            "", "1", "1.2.3", "HEADER", "TEXT", "2.MIME", "1.HEADER.FIELDS (A B)",
            "HEADER.FIELDS.NOT (X-SPAM)",
        ] {
            let command = command("a FETCH 1 BODY[\(spec)]")
            guard case .fetch(_, let attributes, _, _, _)? = command,
                case .bodySection(let section, _, _) = attributes.first
            else {
                Issue.record("no parse for \(spec)")
                continue
            }
            #expect(section.text == spec)
        }
    }

    @Test func envelopeGroupsAndEightBit() {
        let group = [
            EnvelopeAddress(name: nil, mailbox: "undisclosed", host: nil),
            EnvelopeAddress(name: nil, mailbox: nil, host: nil),
        ]
        var w = IMAPWriter()
        Envelope(subject: [0x68, 0xC3, 0xA9], to: group).encode(into: &w)
        #expect(
            String(decoding: w.bytes, as: UTF8.self)
                == "(NIL {3}\r\nhé NIL NIL NIL ((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"
        )
    }
}
