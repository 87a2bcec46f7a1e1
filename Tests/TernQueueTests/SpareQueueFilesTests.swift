import Foundation
import Glibc
import Testing
import TernCore
@testable import TernQueue

/// Queue files made ahead of time in spare/: a new incoming file is a rename of one; left-overs go at start.
@Suite struct SpareQueueFilesTests {
    func spareCount(_ queue: QueueDirectory) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: queue.spareDirectory)) ?? []).count
    }

    func waitForSpares(_ queue: QueueDirectory, _ count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while spareCount(queue) < count && Date() < deadline { usleep(10_000) }
        return spareCount(queue) == count
    }

    @Test func aNewQueueFileIsARenamedSpareAndTheSparesAreRefilled() throws {
        let test = try TestQueue()
        defer { test.cleanup() }
        try "stale".write(toFile: test.queue.spareDirectory + "/1.1", atomically: false, encoding: .utf8)
        let spares = SpareQueueFiles(directory: test.queue, target: 2)
        #expect(waitForSpares(test.queue, 2), "the stale one removed, two made")
        #expect(!FileManager.default.fileExists(atPath: test.queue.spareDirectory + "/1.1"))

        let writer = try QueueFileWriter.create(in: test.queue, spares: spares)
        #expect(spareCount(test.queue) <= 2)
        try writer.writeEnvelope(TestQueue.envelope())
        try writer.append(Array("Subject: spare\n\nbody\n".utf8))
        try writer.commit()
        #expect(try test.queue.list(.incoming) == [writer.queueID])
        let file = try QueueFile.open(path: test.queue.filePath(.incoming, writer.queueID), writable: false)
        #expect(file.envelope.sender.text == "alice@client.example")
        #expect(waitForSpares(test.queue, 2), "refilled")
    }

    /// Without spares (none made yet, or another queue) files are created as before.
    @Test func otherQueuesAndModesDoNotUseSpares() throws {
        let test = try TestQueue()
        defer { test.cleanup() }
        let spares = SpareQueueFiles(directory: test.queue, target: 1)
        #expect(waitForSpares(test.queue, 1))
        let maildrop = try QueueFileWriter.create(in: test.queue, queue: .maildrop, mode: 0o644, spares: spares)
        maildrop.abort()
        #expect(spareCount(test.queue) == 1)
    }

    /// smtpd does not fsync incoming/ when it commits a spare: a crash may leave the committed file under its
    /// spare/ name. The startup recovery moves it to incoming/ (same ID); an unfinished one is removed.
    @Test func aCommittedSpareLeftBehindByACrashIsRecoveredIntoIncoming() throws {
        let test = try TestQueue()
        defer { test.cleanup() }
        let writer = try QueueFileWriter.create(in: test.queue)
        try writer.writeEnvelope(TestQueue.envelope())
        try writer.append(Array("Subject: crash\n\nbody\n".utf8))
        try writer.commit()
        // As if the rename into incoming/ had not reached the disk.
        let spare = test.queue.spareDirectory + "/" + writer.queueID.value
        #expect(rename(test.queue.filePath(.incoming, writer.queueID), spare) == 0)
        try "partial".write(toFile: test.queue.spareDirectory + "/B0B0B0B0B0", atomically: false, encoding: .utf8)

        let report = try test.queue.recover()
        #expect(report.kept == [writer.queueID])
        #expect(try test.queue.list(.incoming) == [writer.queueID])
        _ = SpareQueueFiles(directory: test.queue, target: 0)
        #expect(spareCount(test.queue) == 0, "the unfinished spare is removed")
    }
}
