import Foundation
import Testing

@testable import TernMailbox

/// Sessions of one process opening the same Maildir share the state of the latest settled sync.
@Suite struct MailboxSnapshotTests {
    /// Sets the mtime of new/, cur/ and the control files two seconds back, so the sync fingerprint counts as
    /// settled (a change younger than a second is never trusted).
    private func settle(_ dir: TemporaryMaildir) throws {
        let past = Date().addingTimeInterval(-3)
        for name in ["new", "cur", "dovecot-uidlist", "dovecot-keywords", MailboxIndex.fileName]
        where FileManager.default.fileExists(atPath: dir.path + "/" + name) {
            try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: dir.path + "/" + name)
        }
    }

    @Test func secondSessionTakesTheSharedMessageList() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("Subject: one\n\nbody\n", name: "100.M1P1.host", mtime: 1_700_000_000)
        try dir.deliver("Subject: two\n\nbody\n", name: "101.M2P1.host", mtime: 1_700_000_001)
        let first = try MaildirMailbox(path: dir.path)
        #expect(first.recentCount == 2)
        try settle(dir)
        try first.sync()
        let fingerprint = try #require(first.lastSync)
        #expect(MailboxSnapshots.shared.holds(first.folder.path, fingerprint: fingerprint))

        let second = try MaildirMailbox(path: dir.path)
        #expect(second.lastSync == fingerprint)
        #expect(second.messages.map(\.uid) == first.messages.map(\.uid))
        #expect(second.messages.map(\.internalDate) == [1_700_000_000, 1_700_000_001])
        #expect(second.uidValidity == first.uidValidity && second.nextUID == 3)
        // \Recent stays with the session that moved the messages out of new/.
        #expect(second.recentCount == 0)
        #expect(first.recentCount == 2)
    }

    @Test func changedFilesAreReadAgainNotTakenFromTheSnapshot() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("Subject: one\n\nbody\n", name: "100.M1P1.host", mtime: 1_700_000_000)
        let first = try MaildirMailbox(path: dir.path)
        try settle(dir)
        try first.sync()
        let uid = try #require(first.messages.first?.uid)
        _ = try first.updateFlags(uids: [uid], .add, flags: [.flagged])
        try dir.deliver("Subject: two\n\nbody\n", name: "101.M2P1.host", mtime: 1_700_000_001)
        try settle(dir)

        let second = try MaildirMailbox(path: dir.path)
        #expect(second.messages.count == 2)
        #expect(second.message(uid: uid)?.flags.contains(.flagged) == true)
        #expect(second.recentCount == 1)
    }

    @Test func oldestPathIsDroppedBeyondCapacity() throws {
        let cache = MailboxSnapshots(capacity: 2)
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        let fingerprint = SyncFingerprint(box.folder, indexPath: box.indexPath)
        let snapshot = MailboxSnapshot(
            fingerprint: fingerprint, uidValidity: 1, nextUID: 1, guid: "", messages: [], keywords: KeywordList(),
            records: [:], uidlistStamp: nil, index: nil, indexStamp: nil, highestModSeq: 0, modSeqUIDValidity: 0)
        for path in ["/a", "/b", "/a", "/c"] { cache.store(snapshot, for: path) }
        #expect(cache.holds("/a", fingerprint: fingerprint))
        #expect(cache.holds("/c", fingerprint: fingerprint))
        #expect(!cache.holds("/b", fingerprint: fingerprint))
    }
}
