import Glibc
import TernCore
import Testing
@testable import TernQueue

@Suite struct QueueRecoveryTests {
    /// A crash at any point before commit leaves a file without its completion mark; at restart it is
    /// removed, while committed files (incoming and active) survive and are scheduled again.
    @Test func crashBeforeCommitIsRemovedCommittedMailKept() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let committed = try t.write()
        let inFlight = try t.write()
        try t.queue.move(inFlight, from: .incoming, to: .active)
        // Simulate the crash: a committed file cut short, as the kernel may leave it.
        let crashed = try t.write()
        let crashedPath = t.queue.filePath(.incoming, crashed)
        let bytes = t.readFile(crashedPath)
        t.writeFile(crashedPath, Array(bytes.dropLast(10)))

        let report = try t.queue.recover()
        #expect(report.removed == [crashed])
        #expect(report.kept == [committed])
        #expect(report.requeued == [inFlight])
        #expect(report.corrupt.isEmpty)
        #expect(t.queue.locate(crashed) == nil)
        #expect(Set(try t.queue.list(.incoming)) == [committed, inFlight])
    }

    @Test func deliveredRecipientsStayDeliveredAcrossRecovery() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        try t.queue.move(id, from: .incoming, to: .active)
        try QueueFile.open(path: t.queue.filePath(.active, id)).markRecipient(0, .delivered)
        _ = try t.queue.recover()
        let file = try QueueFile.open(path: t.queue.filePath(.incoming, id))
        #expect(file.pendingRecipients == [1])
    }

    @Test func youngIncompleteFilesAreLeftToTheirWriter() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let writer = try QueueFileWriter.create(in: t.queue)
        try writer.writeEnvelope(TestQueue.envelope())
        try writer.append(Array("Subject: x\n".utf8))
        let report = try t.queue.recover(minimumAge: 3600)
        #expect(report.removed.isEmpty)
        try writer.commit()
        #expect(try QueueFile.open(path: writer.path).contentLength == 11)
    }

    @Test func corruptFilesGoToCorrupt() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        let path = t.queue.filePath(.incoming, id)
        var bytes = t.readFile(path)
        bytes[0] = UInt8(ascii: "X")  // magic gone, trailer intact
        t.writeFile(path, bytes)
        let report = try t.queue.recover()
        #expect(report.corrupt == [id])
        #expect(t.queue.locate(id, in: [.corrupt]) == .corrupt)
    }
}
