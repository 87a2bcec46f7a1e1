import TernIMAP
import Testing

@Suite struct MessageStructureParserTests {
    /// The message appended to Dovecot 2.3 in the capture; its FETCH answer is below.
    static let message =
        "From: Carla Smith <carla@example.org>\r\nTo: bob@example.com, \"Q, X\" <q@x.org>\r\n"
        + "Subject: =?utf-8?q?h=C3=A9llo?= test\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
        + "Message-ID: <B27397-0100000@cac.washington.edu>\r\n"
        + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\npreamble\r\n--xx\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n\r\nhello world\r\nline2\r\n--xx\r\nContent-Type: message/rfc822\r\n\r\n"
        + "Subject: inner\r\nFrom: a@b\r\n\r\ninner body\r\n--xx\r\n"
        + "Content-Type: application/octet-stream; name=\"a b.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
        + "Content-Disposition: attachment; filename=\"a b.bin\"\r\nContent-ID: <id1>\r\nContent-Description: desc\r\n"
        + "Content-Language: en\r\n\r\nAAAA\r\n--xx--\r\n"

    static let dovecotEnvelope =
        "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"=?utf-8?q?h=C3=A9llo?= test\" ((\"Carla Smith\" NIL \"carla\" \"example.org\")) ((\"Carla Smith\" NIL \"carla\" \"example.org\")) ((\"Carla Smith\" NIL \"carla\" \"example.org\")) ((NIL NIL \"bob\" \"example.com\")(\"Q, X\" NIL \"q\" \"x.org\")) NIL NIL NIL \"<B27397-0100000@cac.washington.edu>\")"
    static let dovecotBodyStructure =
        "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 18 1 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 39 (NIL \"inner\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)(\"application\" \"octet-stream\" (\"name\" \"a b.bin\") \"<id1>\" \"desc\" \"base64\" 4 NIL (\"attachment\" (\"filename\" \"a b.bin\")) (\"en\") NIL) \"mixed\" (\"boundary\" \"xx\") NIL NIL NIL)"

    func parse(_ text: String, chunk: Int) -> MessageStructure {
        var parser = MessageStructureParser()
        let data = bytes(text)
        var index = 0
        while index < data.count {
            let end = min(index + chunk, data.count)
            parser.append(data[index..<end])
            index = end
        }
        return parser.finish()
    }

    func text(_ encode: (inout IMAPWriter) -> Void) -> String {
        var w = IMAPWriter()
        encode(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test(arguments: [1, 5, 64, 100_000]) func dovecotMultipart(chunk: Int) {
        let structure = parse(Self.message, chunk: chunk)
        #expect(structure.size == 665)
        #expect(text { structure.envelope.encode(into: &$0) } == Self.dovecotEnvelope)
        #expect(
            text { structure.body.encode(into: &$0, extensible: true) } == Self.dovecotBodyStructure)
    }

    /// A message without MIME headers: Dovecot's FETCH 1 FULL gave `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)`
    /// and ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) for the 5-byte message `hello` (all header, no body).
    @Test func headerOnly() {
        let structure = parse("hello", chunk: 2)
        #expect(
            text { structure.body.encode(into: &$0, extensible: false) }
                == "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)")
        #expect(
            text { structure.envelope.encode(into: &$0) } == "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)")
        #expect(structure.headerSize == 5)
    }

    @Test func groupsAndNestedMultipart() {
        let message =
            "To: undisclosed-recipients:;\r\nCc: Team: a@x.org, \"B\" <b@y.org>;, c@z\r\nContent-Type: multipart/alternative; boundary=outer\r\n\r\n"
            + "--outer\r\nContent-Type: multipart/related; boundary=inner\r\n\r\n--inner\r\n\r\nx\r\n--inner--\r\n--outer\r\nContent-Type: text/html\r\n\r\n<p>\r\n--outer--\r\n"
        let structure = parse(message, chunk: 3)
        #expect(
            text { structure.envelope.encode(into: &$0) }
                == "(NIL NIL NIL NIL NIL ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) ((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"x.org\")(\"B\" NIL \"b\" \"y.org\")(NIL NIL NIL NIL)(NIL NIL \"c\" \"z\")) NIL NIL NIL)"
        )
        #expect(
            text { structure.body.encode(into: &$0, extensible: false) }
                == "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) \"related\")(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0) \"alternative\")"
        )
    }
}

@Suite struct MessageStructureParserFuzzTests {
    /// Mutated MIME messages and random bytes: no crash, sizes add up, and the result encodes.
    @Test func fuzz() {
        var rng = SplitMix(seed: 0xB0D1)
        let seed = bytes(MessageStructureParserTests.message)
        let alphabet = bytes("-\r\n:;=\"xX ")
        for round in 0..<500 {
            var input = seed
            if round % 5 == 0 {
                input = (0..<Int(rng.next() % 400)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                for _ in 0..<Int(rng.next() % 12) {
                    let at = Int(rng.next() % UInt64(input.count))
                    input[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                }
            }
            var parser = MessageStructureParser(maxDepth: 5)
            var offset = 0
            while offset < input.count {
                let n = min(Int(rng.next() % 50) + 1, input.count - offset)
                parser.append(input[offset..<offset + n])
                offset += n
            }
            let result = parser.finish()
            #expect(result.size == input.count)
            #expect(result.headerSize <= input.count)
            var writer = IMAPWriter()
            result.body.encode(into: &writer, extensible: true)
            result.envelope.encode(into: &writer)
            #expect(!writer.bytes.isEmpty)
        }
    }
}
