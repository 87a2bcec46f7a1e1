import Testing

@testable import TernSMTP

@Suite struct SMTPLineFramerTests {
    private func frame(_ input: String, limit: Int = 2048, chunk: Int? = nil) -> [FramedLine] {
        var framer = SMTPLineFramer(lineLengthLimit: limit)
        var out: [FramedLine] = []
        let bytes = Array(input.utf8)
        let size = chunk ?? max(bytes.count, 1)
        var start = 0
        while start < bytes.count {
            framer.append(bytes[start..<min(start + size, bytes.count)])
            while let line = framer.next() { out.append(line) }
            start += size
        }
        return out
    }

    @Test func crlfBareLfAndExtraCRs() {
        #expect(
            frame("NOOP\r\nRSET\nQUIT\r\r\n")
                == [.line(Array("NOOP".utf8)), .line(Array("RSET".utf8)), .line(Array("QUIT".utf8))])
    }

    @Test func incompleteLineWaits() {
        var framer = SMTPLineFramer()
        framer.append(Array("NOO".utf8))
        #expect(framer.next() == nil)
        framer.append(Array("P\r".utf8))
        #expect(framer.next() == nil)
        framer.append([0x0A])
        #expect(framer.next() == .line(Array("NOOP".utf8)))
    }

    @Test func overlongLineIsTruncatedOnceAndTheNextLineSurvives() {
        let long = "MAIL FROM:<" + String(repeating: "a", count: 5000) + "@client.example>"
        let lines = frame(long + "\r\nNOOP\r\n")
        #expect(lines.count == 2)
        guard case .truncated(let prefix) = lines[0] else {
            Issue.record("expected truncation")
            return
        }
        #expect(prefix.count == 2048)
        #expect(prefix.starts(with: "MAIL FROM:<aaa".utf8))
        #expect(lines[1] == .line(Array("NOOP".utf8)))
    }

    @Test func limitCountsTheCarriageReturn() {
        // 2047 bytes + CRLF fits (smtp_get repairs a CRLF split at the bound); 2048 + CRLF does not.
        let fits = String(repeating: "x", count: 2047)
        #expect(frame(fits + "\r\n") == [.line(Array(fits.utf8))])
        #expect(frame(fits + "\n") == [.line(Array(fits.utf8))])
        let over = String(repeating: "y", count: 2048)
        #expect(frame(over + "\r\n") == [.truncated(Array(over.utf8))])
    }

    @Test func byteByByteEqualsWhole() {
        let input = "EHLO a\r\nMAIL FROM:<" + String(repeating: "b", count: 3000) + ">\r\nRCPT TO:<c@d>\nDATA\r\n"
        #expect(frame(input, chunk: 1) == frame(input))
        #expect(frame(input, chunk: 7) == frame(input))
        #expect(frame(input).count == 4)
    }

    @Test func bufferedBytesAreHandedBack() {
        var framer = SMTPLineFramer()
        framer.append(Array("DATA\r\nSubject: x\r\n\r\nbody".utf8))
        #expect(framer.next() == .line(Array("DATA".utf8)))
        #expect(framer.takeBufferedBytes() == Array("Subject: x\r\n\r\nbody".utf8))
        #expect(framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
    }
}
