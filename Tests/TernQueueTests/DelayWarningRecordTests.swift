import Glibc
import TernCore
import TernMIME
import Testing

@testable import TernQueue

/// The `W` record: when the delay warning was sent, updated in place so a restart never repeats it (the
/// in-place update itself is tested with the status bytes in QueueFileTests).
@Suite struct DelayWarningRecordTests {
    @Test func fileWithoutTheRecordOpensButCannotRecordAWarning() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        // A file as Tern wrote it before the record existed: the same records without `W`.
        var head = QueueFileFormat.envelopeBytes(TestQueue.envelope()).bytes
        let record = QueueFileFormat.magic.count + QueueFileFormat.record(QueueFileFormat.arrival, [String(TestQueue.arrival)]).count
        #expect(head[record] == QueueFileFormat.delayWarning)
        head.removeSubrange(record..<(record + QueueFileFormat.numberWidth + 3))
        let content = Array("Subject: old\n\nbody\n".utf8)
        let bytes = head + content
            + QueueFileFormat.trailer(contentOffset: head.count, contentLength: content.count, extractedOffset: head.count + content.count)
        let path = t.queue.path + "/incoming/OLDFILE"
        t.writeFile(path, bytes)
        let file = try QueueFile.open(path: path)
        #expect(file.envelope.recipients.count == 2)
        #expect(!file.canRecordDelayWarning)
        #expect(throws: QueueError.self) { try file.markDelayWarningSent(at: 1) }
    }

    @Test func postcatShowsASentWarning() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        let unsent = PostCat.run(arguments: ["-e", "-q", id.value], queue: t.queue, zone: .utc)
        #expect(!unsent.stdoutText.contains("delay_warning_sent"))
        try QueueFile.open(path: t.queue.filePath(.incoming, id)).markDelayWarningSent(at: 1_796_037_500)
        let sent = PostCat.run(arguments: ["-e", "-q", id.value], queue: t.queue, zone: .utc)
        #expect(sent.stdoutText.contains("\ndelay_warning_sent: Mon Nov 30 11:18:20 2026\n"))
    }
}
