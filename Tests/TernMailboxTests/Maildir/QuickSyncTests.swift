import Foundation
import Glibc
import Testing

@testable import TernMailbox

/// `quickSync()`, the sync after FETCH/STORE/SEARCH (Dovecot's MAILBOX_SYNC_FLAG_FAST).
@Suite struct QuickSyncTests {
    private func twoSessions() throws -> (TemporaryMaildir, MaildirMailbox, MaildirMailbox) {
        let dir = try TemporaryMaildir()
        let writer = try MaildirMailbox(path: dir.path)
        for n in 1...3 { _ = try writer.append("Subject: \(n)\n\nbody \(n)\n") }
        try writer.sync()
        return (dir, writer, try MaildirMailbox(path: dir.path))
    }

    @Test func takesAnotherSessionsFlagChangesFromTheIndex() throws {
        let (dir, writer, reader) = try twoSessions()
        defer { withExtendedLifetime(dir) {} }
        _ = try writer.updateFlags(uids: [2], .add, flags: [.seen, .flagged], keywords: ["$Forwarded"])
        let changes = try reader.quickSync()
        #expect(changes.flagsChanged == [2])
        let message = try #require(reader.message(uid: 2))
        #expect(message.flags == [.seen, .flagged])
        #expect(message.keywords == ["$Forwarded"])
        #expect(message.modSeq == writer.message(uid: 2)?.modSeq)
        #expect(reader.highestModSeq == writer.highestModSeq)
        // The file name is the one the writer gave it, so reading needs no search of the directory.
        #expect(message.fileName == writer.message(uid: 2)?.fileName)
        #expect(try reader.readAll(uid: 2) == "Subject: 2\n\nbody 2\n")
        // Nothing more to report, by either sync.
        #expect(try reader.quickSync().isEmpty)
        #expect(try reader.sync().isEmpty)
    }

    @Test func newMailAndExpungesNeedTheFullSync() throws {
        let (dir, writer, reader) = try twoSessions()
        _ = try dir.deliver("Subject: new\n\nx\n", name: "1700000100.M1P1.host")
        // A delivery in the same clock tick as the last sync could leave new/'s mtime as it was.
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, dir.path + "/new", &times, 0) == 0)
        #expect(try reader.quickSync().added.count == 1)
        _ = try writer.sync()
        _ = try writer.expunge(uids: [1])
        #expect(try reader.quickSync().expunged == [1])
    }

    @Test func renamesOutsideTernWaitForTheFullSync() throws {
        let (dir, _, reader) = try twoSessions()
        let message = try #require(reader.message(uid: 3))
        // Dovecot or a MUA sets \Seen: a rename tern.index does not know about.
        let cur = dir.path + "/cur/"
        #expect(rename(cur + message.fileName, cur + message.baseName + ":2,S") == 0)
        #expect(try reader.quickSync().isEmpty)
        #expect(try reader.sync().flagsChanged == [3])
        #expect(reader.message(uid: 3)?.flags == [.seen])
    }

    @Test func fallsBackToTheFullSyncAfterTheInterval() throws {
        let (dir, _, reader) = try twoSessions()
        let message = try #require(reader.message(uid: 1))
        let cur = dir.path + "/cur/"
        #expect(rename(cur + message.fileName, cur + message.baseName + ":2,F") == 0)
        reader.lastFullSync -= MaildirMailbox.quickSyncInterval
        #expect(try reader.quickSync().flagsChanged == [1])
    }
}
