import Testing

@testable import TernPOP3

@Suite struct POP3MessageEncoderTests {
    private func encode(_ text: String, bodyLines: Int? = nil, pieceSize: Int = 3) -> String {
        var encoder = POP3MessageEncoder(bodyLines: bodyLines)
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            out += encoder.encode(bytes[start..<min(bytes.count, start + pieceSize)])
            start += pieceSize
        }
        out += encoder.finish()
        return String(decoding: out, as: UTF8.self)
    }

    @Test func retrDotStuffsAndUsesCRLF() {
        let message = "Subject: one\nFrom: a@b\n\nbody one\n.dot\n"
        #expect(encode(message) == "Subject: one\r\nFrom: a@b\r\n\r\nbody one\r\n..dot\r\n.\r\n")
        #expect(encode(message, pieceSize: 1) == encode(message, pieceSize: 100))
        #expect(encode("A: b\r\n\r\nx\r\n") == "A: b\r\n\r\nx\r\n.\r\n", "CRLF input stays CRLF")
        #expect(encode("A: b\n\nno newline") == "A: b\r\n\r\nno newline\r\n.\r\n")
    }

    @Test func topSendsTheHeaderAndTheFirstBodyLines() {
        let message = "Subject: second\n\n.leading dot line\n..two dots\nline3\nline4\n"
        #expect(encode(message, bodyLines: 0) == "Subject: second\r\n\r\n.\r\n")
        #expect(encode(message, bodyLines: 2) == "Subject: second\r\n\r\n..leading dot line\r\n...two dots\r\n.\r\n")
        #expect(encode(message, bodyLines: 99) == encode(message))
    }

    @Test func bareCarriageReturnsAndPieceBoundariesDoNotChangeTheOutput() {
        let message = "A: b\r\r\n\r\nx\ry\r\n.\r\n..\rz\n" + String(repeating: "long line ", count: 5000) + "\n.end"
        let expected = "A: b\r\r\n\r\nx\ry\r\n..\r\n...\rz\r\n" + String(repeating: "long line ", count: 5000)
            + "\r\n..end\r\n.\r\n"
        for pieceSize in [1, 2, 3, 7, 4096, 100_000] {
            #expect(encode(message, pieceSize: pieceSize) == expected, "piece size \(pieceSize)")
        }
    }
}
