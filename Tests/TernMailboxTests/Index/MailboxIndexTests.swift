import Foundation
import Testing

@testable import TernMailbox

@Suite struct MailboxIndexTests {
    @Test func newMessagesGetIncreasingModSeqsThatPersist() throws {
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        #expect(box.highestModSeq == 1)
        try dir.deliver("a\n", name: "100.Q1R0N0.host", mtime: 1_700_000_100)
        try dir.deliver("b\n", name: "200.Q2R0N0.host", mtime: 1_700_000_200)
        try box.sync()
        #expect(box.messages.map(\.modSeq) == [2, 3])
        #expect(box.highestModSeq == 3)
        let lines = dir.read("tern.index").split(separator: "\n")
        #expect(lines == ["tern-index 2 V\(box.uidValidity) H3 E1", "1 2 2 1700000100 -", "2 3 2 1700000200 -"])

        let reopened = try MaildirMailbox(path: dir.path)
        #expect(reopened.messages.map(\.modSeq) == [2, 3])
        #expect(reopened.highestModSeq == 3)
    }

    @Test func storeRaisesModSeqOnlyOfChangedMessages() throws {
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        #expect(box.highestModSeq == 1)
        let first = try box.append("a\n")
        let second = try box.append("b\n", flags: [.seen])
        try box.sync()
        #expect(box.messages.map(\.modSeq) == [2, 3])
        let updated = try box.updateFlags(uids: [first, second], .add, flags: [.seen], keywords: ["Work"])
        #expect(updated.map(\.modSeq) == [4, 5])
        let unchanged = try box.updateFlags(uids: [first], .add, flags: [.seen])
        #expect(unchanged.map(\.modSeq) == [4])
        #expect(box.highestModSeq == 5)
        #expect(dir.read("tern.index").contains("\n1 4 2 "))
        #expect(dir.read("tern.index").contains(" S Work\n"))
        #expect(try box.sync().isEmpty)
    }

    @Test func expungeRaisesHighestModSeq() throws {
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        let uid = try box.append("a\n")
        try box.sync()
        let before = box.highestModSeq
        try box.expunge(uids: [uid])
        #expect(box.highestModSeq == before + 1)
        #expect(try MaildirMailbox(path: dir.path).highestModSeq == before + 1)
    }

    /// Dovecot or another process renames a file's `:2,` flags: the next sync gives it a new MODSEQ.
    @Test func externalFlagChangeGetsNewModSeq() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("a\n", name: "100.Q1R0N0.host")
        let box = try MaildirMailbox(path: dir.path)
        let old = box.messages[0].modSeq
        try FileManager.default.moveItem(
            atPath: dir.path + "/cur/100.Q1R0N0.host:2,", toPath: dir.path + "/cur/100.Q1R0N0.host:2,FS")
        let changes = try box.sync()
        #expect(changes.flagsChanged == [1])
        #expect(box.messages[0].flags == [.flagged, .seen])
        #expect(box.messages[0].modSeq == old + 1)
        #expect(box.highestModSeq == old + 1)
    }

    /// One process's change is seen by another at its next sync, with the same MODSEQ.
    @Test func twoProcessesShareModSeqs() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("a\n", name: "100.Q1R0N0.host")
        let one = try MaildirMailbox(path: dir.path)
        let two = try MaildirMailbox(path: dir.path)
        let updated = try one.updateFlags(uids: [1], .add, flags: [.answered])
        let changes = try two.sync()
        #expect(changes.flagsChanged == [1])
        #expect(two.messages[0].modSeq == updated[0].modSeq)
        #expect(two.highestModSeq == one.highestModSeq)
        _ = try two.updateFlags(uids: [1], .add, flags: [.flagged])
        try one.sync()
        #expect(one.messages[0].flags == [.answered, .flagged])
        #expect(one.highestModSeq == two.highestModSeq)
    }

    @Test func rebuildsMissingIndexAboveWhatWasReported() throws {
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        try dir.deliver("a\n", name: "100.Q1R0N0.host")
        try dir.deliver("b\n", name: "200.Q2R0N0.host")
        try box.sync()
        #expect(box.highestModSeq == 3)
        try FileManager.default.removeItem(atPath: dir.path + "/tern.index")
        // A fresh process starts over at 1 ...
        let fresh = try MaildirMailbox(path: dir.path)
        #expect(fresh.messages.map(\.modSeq) == [1, 1])
        #expect(fresh.highestModSeq == 1)
        // ... but one that reported 3 never goes back: everything is newer than 3 for its clients.
        try box.sync()
        #expect(box.messages.map(\.modSeq) == [4, 4])
        #expect(box.highestModSeq == 4)
    }

    @Test func rebuildsCorruptIndex() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("a\n", name: "100.Q1R0N0.host")
        let validity = try MaildirMailbox(path: dir.path).uidValidity
        let header = "tern-index 1 V\(validity) "
        for garbage in [header + "H1", header + "H1\n1 9 2 0 -\n", "junk\n", header + "H5\n1 2 2 0 Q\n"] {
            try Data(garbage.utf8).write(to: URL(fileURLWithPath: dir.path + "/tern.index"))
            let box = try MaildirMailbox(path: dir.path)
            #expect(box.messages.map(\.modSeq) == [1])
            #expect(dir.read("tern.index").hasPrefix("tern-index 2 V\(box.uidValidity) H1 E1\n"))
        }
    }

    @Test func newUIDValidityRestartsModSeqs() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("a\n", name: "100.Q1R0N0.host")
        let box = try MaildirMailbox(path: dir.path)
        _ = try box.updateFlags(uids: [1], .add, flags: [.seen])
        #expect(box.highestModSeq == 2)
        try FileManager.default.removeItem(atPath: dir.path + "/dovecot-uidlist")
        let changes = try box.sync()
        #expect(changes.uidValidityChanged)
        #expect(box.messages.map(\.modSeq) == [1])
        #expect(box.highestModSeq == 1)
        #expect(dir.read("tern.index").hasPrefix("tern-index 2 V\(box.uidValidity) H1 E1\n"))
    }

    @Test func indexFileIsNoMailbox() throws {
        let dir = try TemporaryMaildir()
        let store = MailStore(settings: MailStoreSettings(root: dir.path))
        try store.createMailbox("Work")
        _ = try store.openMailbox("INBOX")
        _ = try store.openMailbox("Work")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/tern.index"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/.Work/tern.index"))
        #expect(try store.listMailboxes().map(\.name) == ["INBOX", "Work"])
    }

    @Test func formatRoundTrips() throws {
        var index = MailboxIndex(uidValidity: 7, highestModSeq: 9, expungedSince: 4)
        index.entries[3] = .init(modSeq: 9, flags: [.seen, .draft], keywords: ["$Junk", "a"], size: 5, internalDate: 1)
        index.entries[1] = .init(modSeq: 2, flags: [], keywords: [], size: 0, internalDate: -1)
        index.expunged = [2: 6, 4: 6, 5: 6, 8: 9]
        let text = String(decoding: index.serialized(), as: UTF8.self)
        #expect(text == "tern-index 2 V7 H9 E4\n1 2 0 -1 -\n3 9 5 1 DS $Junk a\n- 6 2,4:5\n- 9 8\n")
        #expect(MailboxIndex.parse(index.serialized()) == index)
        #expect(index.expungedUIDs(since: 5) == [2, 4, 5, 8])
        #expect(index.expungedUIDs(since: 6) == [8])
        #expect(index.expungedUIDs(since: 4) == nil)
        // Expunges at or below E, above H, or uncountable make the file unusable.
        for bad in ["- 4 1", "- 10 1", "- 6 0", "- 6 3:1", "- 6 1:4294967295", "- 6"] {
            #expect(MailboxIndex.parse(Array("tern-index 2 V7 H9 E4\n\(bad)\n".utf8)) == nil, "\(bad)")
        }
    }

    /// QRESYNC needs the UIDs expunged since a MODSEQ (RFC 7162 §3.2.5): expunges by this process and ones
    /// found by a sync (Dovecot or the MTA removed the file) both go into the history, which persists.
    @Test func expungeHistoryPersists() throws {
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        for text in ["a\n", "b\n", "c\n", "d\n"] { _ = try box.append(text) }
        try box.sync()
        let state = box.highestModSeq
        #expect(box.expungedUIDs(since: state) == [])
        try box.expunge(uids: [1, 3])
        #expect(dir.read("tern.index").hasSuffix("\n- \(state + 1) 1,3\n"))
        let other = try MaildirMailbox(path: dir.path)
        let file = dir.files("cur").first { $0.hasPrefix(other.messages[1].baseName) }!
        try FileManager.default.removeItem(atPath: dir.path + "/cur/" + file)
        try other.sync()
        #expect(other.highestModSeq == state + 2)
        let reopened = try MaildirMailbox(path: dir.path)
        #expect(reopened.expungedUIDs(since: state) == [1, 3, 4])
        #expect(reopened.expungedUIDs(since: state + 1) == [4])
        // Before the history began: unknown.
        #expect(reopened.expungedUIDs(since: 1) == nil)
    }

    /// A version-1 file (before the history) is still read: MODSEQs stay, the history starts at its
    /// HIGHESTMODSEQ, and the next write is version 2.
    @Test func readsVersionOneIndex() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("a\n", name: "100.Q1R0N0.host", mtime: 1_700_000_100)
        try dir.deliver("b\n", name: "200.Q2R0N0.host", mtime: 1_700_000_200)
        let validity = try MaildirMailbox(path: dir.path).uidValidity
        let v1 = "tern-index 1 V\(validity) H7\n1 5 2 1700000100 -\n2 7 2 1700000200 -\n"
        try Data(v1.utf8).write(to: URL(fileURLWithPath: dir.path + "/tern.index"))
        let box = try MaildirMailbox(path: dir.path)
        #expect(box.messages.map(\.modSeq) == [5, 7])
        #expect(box.highestModSeq == 7)
        #expect(box.expungedUIDs(since: 7) == nil)
        try box.expunge(uids: [1])
        #expect(dir.read("tern.index") == "tern-index 2 V\(validity) H8 E7\n2 7 2 1700000200 -\n- 8 1\n")
        #expect(try MaildirMailbox(path: dir.path).expungedUIDs(since: 8) == [])
    }

    /// Past `maxExpunged` UIDs the oldest MODSEQs are dropped; E rises past what was dropped.
    @Test func expungeHistoryIsBounded() {
        var index = MailboxIndex(uidValidity: 7, highestModSeq: 1)
        index.recordExpunges(Array(1...50_000))
        index.recordExpunges(Array(50_001...UInt32(MailboxIndex.maxExpunged + 2)))
        #expect(index.expungedSince == 2)
        #expect(index.expunged.count == MailboxIndex.maxExpunged + 2 - 50_000)
        #expect(index.expungedUIDs(since: 2) == nil)
        #expect(index.expungedUIDs(since: 3) == [])
    }
}
