import Glibc
import TernCore
import Testing
@testable import TernQueue

@Suite struct QueueFileTests {
    @Test func writeCommitReadRoundTrip() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        var envelope = TestQueue.envelope()
        envelope.senderFullName = "Alice Example"
        envelope.saslMethod = "PLAIN"
        envelope.saslUsername = "alice"
        envelope.envid = "QQ314159"
        envelope.ret = .headers
        envelope.body = .eightBitMIME
        envelope.smtputf8 = true
        envelope.recipients[0].notify = [.success, .failure]
        envelope.attributes = [("rewrite_context", "local")]
        let content = "Subject: hello\n\nbody line\nwith % and spaces \u{e9}\n"
        let id = try t.write(content, envelope: envelope)

        #expect(t.queue.locate(id) == .incoming)
        let file = try QueueFile.open(path: t.queue.filePath(.incoming, id))
        #expect(file.envelope == envelope)
        #expect(file.summary.messageID == "<m1@client.example>")
        #expect(file.contentLength == content.utf8.count)
        #expect(try file.readContent(offset: 0, count: 1 << 20) == Array(content.utf8))
        #expect(try file.readContent(offset: 9, count: 5) == Array("hello".utf8))
        #expect(file.queueID == id)
    }

    @Test func statusAndDelayWarningAreUpdatedInPlaceAndSurviveReopen() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        let path = t.queue.filePath(.incoming, id)
        let before = t.readFile(path)
        do {
            let file = try QueueFile.open(path: path)
            try file.markRecipient(0, .delivered)
            #expect(file.pendingRecipients == [1])
            // The file moves on while open: the descriptor follows it.
            try t.queue.move(id, from: .incoming, to: .active)
            try file.markRecipient(1, .bounced)
            #expect(file.canRecordDelayWarning)
            try file.markDelayWarningSent(at: 1_796_037_500)
        }
        let after = t.readFile(t.queue.filePath(.active, id))
        #expect(after.count == before.count)
        // Exactly the two status bytes and the digits of the delay warning time.
        let warningDigits = zip(QueueFileFormat.fixedWidth(0), QueueFileFormat.fixedWidth(1_796_037_500)).filter { $0 != $1 }
        #expect(zip(before, after).filter { $0 != $1 }.count == 2 + warningDigits.count)
        let reopened = try QueueFile.open(path: t.queue.filePath(.active, id))
        #expect(reopened.envelope.delayWarningSent == 1_796_037_500)
        #expect(reopened.envelope.recipients.map(\.status) == [.delivered, .bounced])
        #expect(reopened.pendingRecipients.isEmpty)
    }

    @Test func fileWithoutCompletionMarkIsNeverOpened() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        let path = t.queue.filePath(.incoming, id)
        let bytes = t.readFile(path)
        // Every truncation a crash could leave behind is refused.
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            t.writeFile(path, Array(bytes[..<cut]))
            #expect(throws: QueueError.self) { try QueueFile.open(path: path) }
        }
        t.writeFile(path, bytes)
        #expect(try QueueFile.open(path: path).envelope.recipients.count == 2)
    }

    @Test func damagedEnvelopeIsReportedCorrupt() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        let path = t.queue.filePath(.incoming, id)
        var bytes = t.readFile(path)
        let r = bytes.firstIndex(of: UInt8(ascii: "R"))!
        bytes[r + 1] = UInt8(ascii: "?")  // not a status
        t.writeFile(path, bytes)
        do {
            _ = try QueueFile.open(path: path)
            Issue.record("opened a corrupt file")
        } catch {
            #expect(error.kind == .corrupt)
        }
    }

    @Test func abortAndDroppedWritersLeaveNothing() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let writer = try QueueFileWriter.create(in: t.queue)
        try writer.writeEnvelope(TestQueue.envelope())
        try writer.append(Array("x\n".utf8))
        writer.abort()
        do {
            let dropped = try QueueFileWriter.create(in: t.queue)
            try dropped.writeEnvelope(TestQueue.envelope())
        }
        #expect(try t.queue.list(.incoming).isEmpty)
    }

    @Test func largeContentIsBufferedAndStreamed() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let line = String(repeating: "x", count: 999) + "\n"
        let writer = try QueueFileWriter.create(in: t.queue)
        try writer.writeEnvelope(TestQueue.envelope())
        for _ in 0..<300 { try writer.append(Array(line.utf8)) }
        try writer.commit()
        let file = try QueueFile.open(path: writer.path)
        #expect(file.contentLength == 300_000)
        #expect(try file.readContent(offset: 299_000, count: 5000) == Array(line.utf8))
    }

    @Test func fieldEscapingRoundTrips() {
        for text in ["", "-", "a b", "100%", "tab\there", "line\nend", "caf\u{e9}", "%2D"] {
            let escaped = QueueFileFormat.escape(text)
            #expect(!escaped.contains(UInt8(ascii: " ")) && !escaped.contains(UInt8(ascii: "\n")))
            #expect(QueueFileFormat.unescape(escaped[...]) == text)
        }
        #expect(QueueFileFormat.unescape(Array("bad%4".utf8)[...]) == nil)
    }
}
