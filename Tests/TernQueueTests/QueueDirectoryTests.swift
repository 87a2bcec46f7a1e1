import Glibc
import TernCore
import Testing
@testable import TernQueue

@Suite struct QueueDirectoryTests {
    @Test func layoutAndModes() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        for q in QueueName.allCases {
            var st = stat()
            #expect(stat("\(t.queue.path)/\(q.rawValue)", &st) == 0)
            #expect(UInt32(st.st_mode) & 0o7777 == q.mode)
        }
        let id = QueueID("E93D0F786D2")!
        #expect(t.queue.relativePath(.deferred, id) == "deferred/E/E93D0F786D2")
        #expect(t.queue.relativePath(.defer, id) == "defer/E/E93D0F786D2")
        #expect(t.queue.relativePath(.hold, id) == "hold/E93D0F786D2")
        #expect(t.queue.relativePath(.bounce, id) == "bounce/E93D0F786D2")
    }

    @Test func movesThroughTheQueues() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        try t.queue.move(id, from: .incoming, to: .active)
        try t.queue.move(id, from: .active, to: .deferred)
        #expect(t.queue.locate(id) == .deferred)
        #expect(try t.queue.list(.deferred) == [id])
        #expect(t.readFile(t.queue.filePath(.deferred, id)).count > 0)
        #expect(throws: QueueError.self) { try t.queue.move(id, from: .active, to: .incoming) }

        #expect(try t.queue.hold(id))
        #expect(t.queue.locate(id) == .hold)
        #expect(try !t.queue.hold(id))  // already held
        #expect(try t.queue.release(id))
        #expect(t.queue.locate(id) == .deferred)
        #expect(try t.queue.requeue(id))
        #expect(t.queue.locate(id) == .maildrop)
    }

    @Test func deleteRemovesTheStatusLogs() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        try t.queue.move(id, from: .incoming, to: .deferred)
        let log = DeliveryStatusLog(queue: t.queue, kind: .defer)
        try log.append(.init(recipient: "far@remote.example", recipientIndex: 0, status: "4.3.2", action: "delayed", reason: "deferred transport"), for: id)
        #expect(try log.read(id).count == 1)
        #expect(try t.queue.delete(id))
        #expect(t.queue.locate(id) == nil)
        #expect(try log.read(id).isEmpty)
        #expect(try !t.queue.delete(id))
    }

    @Test func nextAttemptIsTheFileTime() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = try t.write()
        try t.queue.move(id, from: .incoming, to: .deferred)
        try t.queue.setNextAttempt(id, epochSeconds: 2_000_000_000)
        #expect(t.queue.nextAttempt(id) == 2_000_000_000)
    }

    @Test func statusLogKeepsEntriesOnOneLineEach() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let id = QueueID("ABCDEF12345")!
        let log = DeliveryStatusLog(queue: t.queue, kind: .defer)
        try log.append(.init(recipient: "a@x", status: "4.4.1", action: "delayed", reason: "line one\nline two"), for: id)
        try log.append(.init(recipient: "b@x", orcpt: "rfc822;b@x", status: "4.4.1", action: "delayed", reason: "r"), for: id)
        let entries = try log.read(id)
        #expect(entries.map(\.recipient) == ["a@x", "b@x"])
        #expect(entries[0].reason == "line one line two")
        #expect(entries[1].orcpt == "rfc822;b@x")
        #expect(log.path(id).hasSuffix("defer/A/ABCDEF12345"))
        log.remove(id)
        #expect(try log.read(id).isEmpty)
    }
}
