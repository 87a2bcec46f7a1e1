import Foundation
import Testing

@testable import TernMailbox

@Suite struct MailboxIndexTests {
    /// What one sync finds is one change: one MODSEQ for all of it, as Dovecot gives one per transaction.
    @Test func newMessagesOfOneSyncShareAModSeqThatPersists() throws {
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        #expect(box.highestModSeq == 1)
        try dir.deliver("a\n", name: "100.Q1R0N0.host", mtime: 1_700_000_100)
        try dir.deliver("b\n", name: "200.Q2R0N0.host", mtime: 1_700_000_200)
        try box.sync()
        #expect(box.messages.map(\.modSeq) == [2, 2])
        #expect(box.highestModSeq == 2)
        // The file written at the first sync (no messages), then the new messages as log lines.
        let lines = dir.read("tern.index").split(separator: "\n")
        #expect(lines == ["tern-index 3 V\(box.uidValidity) H1 E1", "+ 1 2 2 1700000100 -", "+ 2 2 2 1700000200 -"])

        let reopened = try MaildirMailbox(path: dir.path)
        #expect(reopened.messages.map(\.modSeq) == [2, 2])
        #expect(reopened.highestModSeq == 2)
    }

    /// Each save gets a MODSEQ when it is made; one flag change gives its messages one MODSEQ.
    @Test func storeRaisesModSeqOnlyOfChangedMessages() throws {
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        #expect(box.highestModSeq == 1)
        let first = try box.append("a\n")
        let second = try box.append("b\n", flags: [.seen])
        try box.sync()
        #expect(box.messages.map(\.modSeq) == [2, 3])
        let updated = try box.updateFlags(uids: [first, second], .add, flags: [.seen], keywords: ["Work"])
        #expect(updated.map(\.modSeq) == [4, 4])
        let unchanged = try box.updateFlags(uids: [first], .add, flags: [.seen])
        #expect(unchanged.map(\.modSeq) == [4])
        #expect(box.highestModSeq == 4)
        #expect(dir.read("tern.index").contains("\n+ 1 4 2 "))
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
        #expect(box.highestModSeq == 2)
        try FileManager.default.removeItem(atPath: dir.path + "/tern.index")
        // A fresh process starts over at 1 ...
        let fresh = try MaildirMailbox(path: dir.path)
        #expect(fresh.messages.map(\.modSeq) == [1, 1])
        #expect(fresh.highestModSeq == 1)
        // ... but one that reported 2 never goes back: everything is newer than 2 for its clients.
        try box.sync()
        #expect(box.messages.map(\.modSeq) == [3, 3])
        #expect(box.highestModSeq == 3)
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
            #expect(dir.read("tern.index").hasPrefix("tern-index 3 V\(box.uidValidity) H1 E1\n"))
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
        #expect(dir.read("tern.index").hasPrefix("tern-index 3 V\(box.uidValidity) H1 E1\n"))
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
        #expect(text == "tern-index 3 V7 H9 E4\n1 2 0 -1 -\n3 9 5 1 DS $Junk a\n- 6 2,4:5\n- 9 8\n")
        #expect(MailboxIndex.parse(index.serialized()) == index)
        #expect(index.expungedUIDs(since: 5) == [2, 4, 5, 8])
        #expect(index.expungedUIDs(since: 6) == [8])
        #expect(index.expungedUIDs(since: 4) == nil)
        // Expunges at or below E, or uncountable make the file unusable (one above H is a log line).
        for bad in ["- 4 1", "- 6 0", "- 6 3:1", "- 6 1:4294967295", "- 6"] {
            #expect(MailboxIndex.parse(Array("tern-index 3 V7 H9 E4\n\(bad)\n".utf8)) == nil, "\(bad)")
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
    /// HIGHESTMODSEQ, and changes are logged after it.
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
        #expect(dir.read("tern.index") == v1 + "- 8 1\n")
        #expect(try MaildirMailbox(path: dir.path).expungedUIDs(since: 8) == [])
    }

    /// Log lines (version 3): each with a MODSEQ above all before it; a record or expunge that does not rise, or
    /// a plain record after the log began, makes the file unusable.
    @Test func logLinesFollowTheRecords() throws {
        let base = "tern-index 3 V7 H9 E4\n1 2 0 -1 -\n3 9 5 1 S\n- 6 2\n"
        let index = try #require(MailboxIndex.parse(Array((base + "+ 1 10 0 -1 F $Junk\n- 11 3\n").utf8)))
        #expect(index.highestModSeq == 11)
        #expect(index.headerModSeq == 9)
        #expect(index.entries.keys.sorted() == [1])
        #expect(index.entries[1]?.flags == [.flagged])
        #expect(index.entries[1]?.keywords == ["$Junk"])
        #expect(index.expungedUIDs(since: 9) == [3])
        for bad in ["+ 1 9 0 -1 F", "+ 1 10 0 -1 F\n- 10 3", "+ 1 10 0 -1 F\n4 11 0 0 -", "+1 10 0 -1 F", "+ 1 10"] {
            #expect(MailboxIndex.parse(Array((base + bad + "\n").utf8)) == nil, "\(bad)")
        }
        // What a change appends is what reading it back gives.
        var changed = index
        changed.recordChanges([
            MessageInfo(
                uid: 1, flags: [.seen], keywords: [], isRecent: false, size: 0, knownVirtualSize: nil,
                internalDate: -1, baseName: "1", directory: .cur, fileName: "1:2,S")
        ])
        changed.recordExpunges([5])
        let log = try #require(changed.log(since: index))
        #expect(String(decoding: log, as: UTF8.self) == "+ 1 12 0 -1 S\n- 13 5\n")
        #expect(index.appending(log[...]) == changed)
    }

    /// A second session reads only what the first appended; a file written anew (even on the same inode) is
    /// read whole; past `rewriteSize` the log is folded into a new file.
    @Test func sessionsReadTheLogAndTheRewrite() throws {
        let dir = try TemporaryMaildir()
        let writer = try MaildirMailbox(path: dir.path)
        for text in ["a\n", "b\n"] { _ = try writer.append(text) }
        try writer.sync()
        let reader = try MaildirMailbox(path: dir.path)
        _ = try writer.updateFlags(uids: [1], .add, flags: [.seen])
        #expect(try reader.sync().flagsChanged == [1])
        #expect(reader.message(uid: 1)?.modSeq == writer.message(uid: 1)?.modSeq)
        let path = dir.path + "/tern.index"
        var rounds = 0
        let size = { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        while size() < 60 << 10 {
            _ = try writer.updateFlags(uids: [2], rounds % 2 == 0 ? .add : .remove, flags: [.flagged])
            rounds += 1
        }
        #expect(dir.read("tern.index").hasPrefix("tern-index 3 V\(writer.uidValidity) H1 E1\n"))
        try reader.sync()
        #expect(reader.highestModSeq == writer.highestModSeq)
        while size() >= 60 << 10 {
            _ = try writer.updateFlags(uids: [2], rounds % 2 == 0 ? .add : .remove, flags: [.flagged])
            rounds += 1
        }
        let rewritten = dir.read("tern.index")
        #expect(rewritten.hasPrefix("tern-index 3 V\(writer.uidValidity) H\(writer.highestModSeq) E1\n"))
        #expect(!rewritten.contains("+ "))
        _ = try writer.updateFlags(uids: [1], .add, flags: [.answered])
        let changes = try reader.sync()
        #expect(changes.flagsChanged.sorted() == (rounds % 2 == 0 ? [1] : [1, 2]))
        #expect(reader.highestModSeq == writer.highestModSeq)
        let state = { (box: MaildirMailbox) in box.messages.map { "\($0.uid) \($0.modSeq) \($0.fileName)" } }
        #expect(state(reader) == state(writer))
    }

    /// A writer that died in the middle of a log line leaves it without a newline: readers leave it aside, and
    /// the next change writes the file anew instead of appending to the torn line.
    @Test func tornLogLineIsNotAppendedTo() throws {
        let dir = try TemporaryMaildir()
        let box = try MaildirMailbox(path: dir.path)
        _ = try box.append("a\n")
        try box.sync()
        let handle = try #require(FileHandle(forWritingAtPath: dir.path + "/tern.index"))
        handle.seekToEndOfFile()
        handle.write(Data("+ 1 99 2 17".utf8))
        handle.closeFile()
        let reader = try MaildirMailbox(path: dir.path)
        #expect(reader.highestModSeq == box.highestModSeq)
        _ = try reader.updateFlags(uids: [1], .add, flags: [.seen])
        let text = dir.read("tern.index")
        #expect(text.hasPrefix("tern-index 3 V\(box.uidValidity) H\(reader.highestModSeq) E"))
        #expect(MailboxIndex.parse(Array(text.utf8)) != nil)
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
