import Testing

@testable import TernSMTP

@Suite struct DataReceiverTests {
    /// Feeds `input` in chunks of `chunk` bytes; returns content (LF line ends), the end, and records.
    private func run(_ input: [UInt8], chunk: Int? = nil, lineLimit: Int = 2048, sizeLimit: Int = 10_240_000)
        -> (content: [UInt8], end: DataReceiver.End?, records: [DataReceiver.Record])
    {
        var receiver = DataReceiver(lineLengthLimit: lineLimit, messageSizeLimit: sizeLimit)
        var records: [DataReceiver.Record] = []
        var end: DataReceiver.End?
        let size = chunk ?? max(input.count, 1)
        var start = 0
        while start < input.count, end == nil {
            let output = receiver.receive(input[start..<min(start + size, input.count)])
            records += output.records
            end = output.end
            start += size
        }
        if var e = end, start < input.count {
            e.remaining += input[start...]
            end = e
        }
        var content: [UInt8] = []
        for r in records {
            content += r.bytes
            if !r.continues { content.append(0x0A) }
        }
        return (content, end, records)
    }

    private func run(_ input: String, chunk: Int? = nil, lineLimit: Int = 2048, sizeLimit: Int = 10_240_000)
        -> (content: String, end: DataReceiver.End?, records: [DataReceiver.Record])
    {
        let r = run(Array(input.utf8), chunk: chunk, lineLimit: lineLimit, sizeLimit: sizeLimit)
        return (String(decoding: r.content, as: UTF8.self), r.end, r.records)
    }

    @Test func dotStuffingIsUndone() {
        let r = run("Subject: t\r\n\r\n..leading dot\r\n...two dots\r\n..\r\nlast line\r\n.\r\n")
        #expect(r.content == "Subject: t\n\n.leading dot\n..two dots\n.\nlast line\n")
        #expect(r.end?.remaining == [])
        #expect(r.end?.sizeExceeded == false)
    }

    @Test func pipelinedCommandsAfterTheDotAreReturned() {
        let r = run("Subject: x\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
        #expect(r.content == "Subject: x\n\nbody\n")
        #expect(r.end?.remaining == Array("RSET\r\nNOOP\r\nQUIT\r\n".utf8))
    }

    @Test func bareLFEndsLinesAndData() {
        let r = run("Subject: t\n\nbare lf\n.\nNOOP\r\n")
        #expect(r.content == "Subject: t\n\nbare lf\n")
        #expect(r.end?.remaining == Array("NOOP\r\n".utf8))
        // Extra CRs before LF are dropped, a CR elsewhere stays.
        let cr = run("a\rb\r\r\n.\r\r\n")
        #expect(cr.content == "a\rb\n")
        #expect(cr.end != nil)
    }

    @Test func terminatorSplitAcrossChunksAndByteByByte() {
        let input =
            "Subject: s\r\n\r\nline one\r\n..dot\r\n" + String(repeating: "z", count: 5000) + "\r\n.\r\nQUIT\r\n"
        let whole = run(input)
        for chunk in [1, 2, 3, 5, 13, 2047, 2048, 4096] {
            let piecewise = run(input, chunk: chunk)
            #expect(piecewise.content == whole.content, "chunk \(chunk)")
            #expect(piecewise.end == whole.end, "chunk \(chunk)")
            #expect(piecewise.records == whole.records, "chunk \(chunk)")
        }
        #expect(whole.end?.remaining == Array("QUIT\r\n".utf8))
    }

    @Test func longLinesAreSplitAndADotAfterTheSplitIsData() {
        // A line of 2048 'a' followed by ".\r\n" on the same line: the dot starts a continuation record.
        let line = String(repeating: "a", count: 2048) + "."
        let r = run(line + "\r\n.\r\n")
        #expect(r.records.count == 2)
        #expect(r.records[0].continues)
        #expect(r.records[1] == DataReceiver.Record(Array(".".utf8)))
        #expect(r.content == line + "\n")
        #expect(r.end?.size == 2048 + 2 + 1 + 2)
    }

    @Test(arguments: [nil, 1, 3])
    func lineLengthLimitWithCRAtTheBoundary(chunk: Int?) {
        // Limit 4: a CR as the 4th byte waits for the next byte; before LF it is the line end, otherwise
        // it stays in the split-off piece.
        let r = run("abc\r\nabcd\r\nabc\rX\r\n.\r\n", chunk: chunk, lineLimit: 4)
        #expect(
            r.records == [
                .init(Array("abc".utf8)), .init(Array("abcd".utf8), continues: true), .init([]),
                .init(Array("abc\r".utf8), continues: true), .init(Array("X".utf8)),
            ])
        #expect(r.end?.remaining == [])
    }

    @Test func sizeLimitKeepsReadingToTheEnd() {
        let body = String(repeating: String(repeating: "x", count: 78) + "\r\n", count: 50)
        let r = run(body + ".\r\nNOOP\r\n", sizeLimit: 3000)
        #expect(r.end?.sizeExceeded == true)
        #expect(r.end?.remaining == Array("NOOP\r\n".utf8))
        #expect(r.content.utf8.count <= 3000)
        let fits = run(String(repeating: "y", count: 98) + "\r\n.\r\n", sizeLimit: 100)
        #expect(fits.end?.sizeExceeded == false)
        #expect(fits.end?.size == 100)
        let over = run(String(repeating: "y", count: 99) + "\r\n.\r\n", sizeLimit: 100)
        #expect(over.end?.sizeExceeded == true)
    }

    @Test func mailboxFromLineAndLeadingWhitespace() {
        #expect(
            run("From someone Mon Jan 1\r\nSubject: x\r\n\r\nb\r\n.\r\n").content
                == "X-Mailbox-Line: From someone Mon Jan 1\nSubject: x\n\nb\n")
        #expect(run(" folded\r\nSubject: x\r\n.\r\n").content == "\n folded\nSubject: x\n")
        #expect(run(".\r\n").content == "")
    }

    @Test func afterTheEndEverythingIsRemaining() {
        var receiver = DataReceiver()
        let first = receiver.receive(Array(".\r\n".utf8))
        #expect(first.end != nil)
        #expect(receiver.isFinished)
        #expect(receiver.receive(Array("MAIL".utf8)).end?.remaining == Array("MAIL".utf8))
    }
}
