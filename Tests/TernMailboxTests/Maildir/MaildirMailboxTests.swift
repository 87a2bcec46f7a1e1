import Foundation
import Testing

@testable import TernMailbox

@Suite struct DovecotMaildirTests {
    @Test func readsDovecotUIDsFlagsAndKeywords() throws {
        let dir = try TemporaryMaildir(fixture: true)
        let inbox = try MaildirMailbox(path: dir.path)
        #expect(inbox.uidValidity == 1_796_056_493)
        #expect(inbox.nextUID == 7)
        #expect(inbox.guid == "de507f22aba50d6bd819000083ecc375")
        #expect(inbox.messages.map(\.uid) == [1, 2, 3, 5, 6])
        #expect(inbox.messages.map(\.flags) == [[.flagged, .seen], [], [.answered, .seen, .draft], [], [.seen]])
        #expect(inbox.messages.map(\.keywords) == [[], ["todo", "$Label1"], ["done"], [], []])
        #expect(inbox.definedKeywords == ["todo", "$Label1", "done"])
        #expect(try inbox.virtualSize(uid: 1) == 51)
        #expect(try inbox.virtualSize(uid: 5) == 41)
        #expect(inbox.message(uid: 5)?.size == 36)
        #expect(inbox.pop3UIDL(uid: 5) == "000000056B0DA5AD")
        #expect(try inbox.readAll(uid: 6) == "From: x@y\nSubject: mta2\n\nhello\n")
        // Nothing changed on disk: same uidlist.
        #expect(
            dir.read("dovecot-uidlist")
                == String(decoding: try TemporaryMaildir.fixture("dovecot-maildir/dovecot-uidlist"), as: UTF8.self))
    }

    @Test func givesUIDToFileInNewAndMovesItToCur() throws {
        let dir = try TemporaryMaildir(fixture: true)
        let sent = try MaildirMailbox(path: dir.path + "/.Sent", root: dir.path, name: "Sent")
        // The fixture's Sent has an empty uidlist header from Dovecot and one message still in new/.
        #expect(sent.messages.map(\.uid) == [1])
        #expect(sent.messages[0].isRecent)
        #expect(dir.files(".Sent/new").isEmpty)
        #expect(dir.files(".Sent/cur") == ["1796056494.M61023P7002.vm,S=30,W=34:2,"])
        #expect(try sent.virtualSize(uid: 1) == 34)
    }
}

@Suite struct MaildirMailboxTests {
    @Test func assignsUIDsOldestFirstAndCachesSizes() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("b\n", name: "200.Q2R0N0.host", mtime: 1_700_000_200)
        try dir.deliver("Subject: a\n\nline\n", name: "100.Q1R0N0.host", mtime: 1_700_000_100)
        let box = try MaildirMailbox(path: dir.path)
        #expect(box.messages.map(\.baseName) == ["100.Q1R0N0.host", "200.Q2R0N0.host"])
        #expect(box.messages.map(\.uid) == [1, 2])
        #expect(box.messages.map(\.internalDate) == [1_700_000_100, 1_700_000_200])
        #expect(box.messages.filter(\.isRecent).count == 2)
        #expect(box.uidValidity != 0)
        #expect(dir.files("cur") == ["100.Q1R0N0.host:2,", "200.Q2R0N0.host:2,"])
        var lines = dir.read("dovecot-uidlist").split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("3 V\(box.uidValidity) N3 G"))
        #expect(lines[1] == "1 S17 :100.Q1R0N0.host")
        #expect(try box.virtualSize(uid: 1) == 20)
        #expect(try box.sync().isEmpty)
        lines = dir.read("dovecot-uidlist").split(separator: "\n")
        #expect(lines[1] == "1 S17 W20 :100.Q1R0N0.host")
        // dovecot-uidvalidity and its marker as Dovecot keeps them.
        #expect(dir.read("dovecot-uidvalidity") == UIDValidityAllocator.hex8(box.uidValidity))
        #expect(
            FileManager.default.fileExists(
                atPath: dir.path + "/dovecot-uidvalidity." + UIDValidityAllocator.hex8(box.uidValidity)))
    }

    @Test func appendCopyAndExpunge() throws {
        let dir = try TemporaryMaildir()
        let store = MailStore(settings: MailStoreSettings(root: dir.path, separator: "/"))
        try store.createMailbox("Archive")
        let inbox = try store.openMailbox("INBOX")
        let uid = try inbox.append("Subject: hi\n\nbody\n", flags: [.seen], keywords: ["work"], date: 1_600_000_000)
        #expect(uid == 1)
        // In new/ with its flags, so that the session that moves it to cur/ has it as \Recent.
        let saved = try #require(dir.files("new").first)
        #expect(saved.hasSuffix(",S=18,W=21:2,Sa"))
        #expect(saved.contains("P\(getpid())."))
        #expect(dir.read("dovecot-keywords") == "0 work\n")
        let plain = try inbox.append("x\n")
        #expect(plain == 2)
        #expect(dir.files("new").count == 2)
        let changes = try inbox.sync()
        #expect(dir.files("new").isEmpty)
        let name = try #require(dir.files("cur").first { $0.hasSuffix(":2,Sa") })
        #expect(name == saved)
        #expect(changes.added == [1, 2])
        #expect(inbox.message(uid: 1)?.internalDate == 1_600_000_000)
        #expect(inbox.message(uid: 1)?.keywords == ["work"])
        #expect(inbox.message(uid: 1)?.knownVirtualSize == 21)

        let copied = try store.copy(uids: [1, 2, 99], from: inbox, to: "Archive")
        #expect(copied.map(\.0) == [1, 2])
        #expect(copied.map(\.1) == [1, 2])
        let archive = try store.openMailbox("Archive")
        #expect(archive.messages.map(\.flags) == [[.seen], []])
        #expect(archive.messages[0].keywords == ["work"])
        #expect(try archive.readAll(uid: 1) == "Subject: hi\n\nbody\n")
        let source = try FileManager.default.attributesOfItem(atPath: dir.path + "/cur/" + name)
        #expect((source[.referenceCount] as? Int) == 2)  // hard link

        _ = try inbox.updateFlags(uids: [2], .add, flags: [.deleted])
        #expect(try inbox.expungeDeleted() == [2])
        #expect(inbox.messages.map(\.uid) == [1])
        #expect(dir.files("new").isEmpty && dir.files("cur").count == 1)
        #expect(throws: MailboxError.self) { try store.copy(uids: [1], from: inbox, to: "Nope") }
    }

    @Test func flagChangesRenameTheFile() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("m\n", name: "1.Q1R0N0.h")
        let box = try MaildirMailbox(path: dir.path)
        var updated = try box.updateFlags(uids: [1], .add, flags: [.seen, .flagged], keywords: ["$Forwarded", "x"])
        #expect(updated.first?.flags == [.seen, .flagged])
        #expect(dir.files("cur") == ["1.Q1R0N0.h:2,FSab"])
        updated = try box.updateFlags(uids: [1], .remove, flags: [.flagged], keywords: ["$forwarded"])
        #expect(dir.files("cur") == ["1.Q1R0N0.h:2,Sb"])
        #expect(updated.first?.keywords == ["x"])
        _ = try box.updateFlags(uids: [1], .replace, flags: [.answered])
        #expect(dir.files("cur") == ["1.Q1R0N0.h:2,R"])
        let examine = try MaildirMailbox(path: dir.path, readOnly: true)
        #expect(throws: MailboxError.readOnly) { try examine.updateFlags(uids: [1], .add, flags: [.seen]) }
    }

    @Test func twoSessionsSeeEachOthersChanges() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("one\n", name: "1.Q1R0N0.h")
        try dir.deliver("two\n", name: "2.Q2R0N0.h")
        let first = try MaildirMailbox(path: dir.path)
        let second = try MaildirMailbox(path: dir.path)
        #expect(first.messages.map(\.isRecent) == [true, true])
        #expect(second.messages.map(\.isRecent) == [false, false])
        #expect(second.messages.map(\.uid) == [1, 2])

        _ = try first.updateFlags(uids: [1], .add, flags: [.seen])
        _ = try first.expunge(uids: [2])
        try dir.deliver("three\n", name: "3.Q3R0N0.h")
        var changes = try second.sync()
        #expect(changes.flagsChanged == [1])
        #expect(changes.expunged == [2])
        #expect(changes.added == [3])
        #expect(second.message(uid: 1)?.flags == [.seen])
        #expect(second.message(uid: 3)?.isRecent == true)

        // The second session renames the file; the first still reads and updates it.
        _ = try second.updateFlags(uids: [3], .add, flags: [.flagged])
        changes = try first.sync()
        #expect(changes.added == [3])
        #expect(first.message(uid: 3)?.isRecent == false)
        _ = try second.updateFlags(uids: [3], .add, flags: [.seen])  // first's file name is stale now
        _ = try first.updateFlags(uids: [3], .add, flags: [.answered])
        #expect(try first.readAll(uid: 3) == "three\n")
        changes = try first.sync()
        #expect(first.message(uid: 3)?.flags == [.flagged, .answered, .seen])
        changes = try second.sync()
        #expect(changes.flagsChanged == [3])
        #expect(dir.files("cur").contains("3.Q3R0N0.h:2,FRS"))
    }

    @Test func survivesGarbage() throws {
        let dir = try TemporaryMaildir()
        try dir.deliver("a\n", name: "1.Q1R0N0.h")
        try dir.deliver("b\n", name: "2.Q2R0N0.h")
        try Data("3 V77 N2 G00112233445566778899aabbccddeeff\n1 :1.Q1R0N0.h\nthis is garbage\n".utf8)
            .write(to: URL(fileURLWithPath: dir.path + "/dovecot-uidlist"))
        try Data("not a keyword file\n0 \n".utf8).write(to: URL(fileURLWithPath: dir.path + "/dovecot-keywords"))
        try Data().write(to: URL(fileURLWithPath: dir.path + "/cur/.hidden"))
        let box = try MaildirMailbox(path: dir.path)
        #expect(box.uidValidity == 77)
        #expect(box.messages.map(\.uid) == [1, 2])
        #expect(
            dir.read("dovecot-uidlist").hasPrefix(
                "3 V77 N3 G00112233445566778899aabbccddeeff\n1 :1.Q1R0N0.h\n2 S2 :2.Q2R0N0.h\n"))
        // A uidlist that is pure garbage starts a new UIDVALIDITY; the session learns of it.
        try Data([0xFF, 0x00, 0x0A]).write(to: URL(fileURLWithPath: dir.path + "/dovecot-uidlist"))
        let changes = try box.sync()
        #expect(changes.uidValidityChanged)
        #expect(box.uidValidity != 77)
        #expect(box.messages.count == 2)
        #expect(throws: MailboxError.noSuchMessage(99)) { _ = try box.openMessage(uid: 99) }
    }

    @Test func staleLockIsTakenOver() throws {
        let dir = try TemporaryMaildir()
        // A lock left by a dead process on this host, older than Dovecot's 2-second pid check.
        let lock = dir.path + "/dovecot-uidlist.lock"
        try Data("999999:\(Posix.hostname())".utf8).write(to: URL(fileURLWithPath: lock))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -10)], ofItemAtPath: lock)
        try dir.deliver("a\n", name: "1.Q1R0N0.h")
        let box = try MaildirMailbox(path: dir.path)
        #expect(box.messages.count == 1)
        #expect(!FileManager.default.fileExists(atPath: lock))
        // A live holder makes a non-waiting attempt fail.
        try Data("\(getpid() == 1 ? 2 : 1):\(Posix.hostname())".utf8).write(to: URL(fileURLWithPath: lock))
        #expect(throws: MailboxError.lockTimeout(path: lock)) {
            _ = try DotLock.acquire(for: dir.path + "/dovecot-uidlist", timeout: 0, staleTimeout: 120)
        }
    }

    @Test func readsInPiecesAndComputesCRLFSize() throws {
        let dir = try TemporaryMaildir()
        let body = String(repeating: "0123456789abcdef\n", count: 10_000) + "crlf\r\nend"
        try dir.deliver(body, name: "1.Q1R0N0.h")
        let box = try MaildirMailbox(path: dir.path, readOnly: true)
        #expect(dir.files("new").count == 1)  // read-only: not moved
        #expect(box.messages[0].isRecent)
        var reader = try box.openMessage(uid: 1)
        #expect(reader.size == body.utf8.count)
        #expect(try reader.read(at: 17, count: 5) == Array("01234".utf8))
        reader.seek(to: body.utf8.count - 3)
        #expect(try reader.read(upTo: 100) == Array("end".utf8))
        #expect(try box.virtualSize(uid: 1) == body.utf8.count + 10_000)
    }
}
