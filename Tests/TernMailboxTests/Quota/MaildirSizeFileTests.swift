import Foundation
import Testing

@testable import TernMailbox

/// `maildirsize` as Dovecot 2.3.19's maildir quota backend writes and reads it (files captured from one).
@Suite struct MaildirSizeFileTests {
    @Test func parsesDovecotsFile() throws {
        // After a recalculation, an expunge and an APPEND.
        let contents = try #require(MaildirSizeFile.parse(Array("1024S,5C\n1186 2\n-593 -1\n293 1\n".utf8)))
        #expect(contents.limits == .init(bytes: 1024, messages: 5))
        #expect(contents.usage == QuotaAmount(bytes: 886, messages: 2))
        #expect(contents.lineCount == 3)
        // A last line without LF is not counted; negative totals, NUL bytes and junk lines are broken files.
        #expect(MaildirSizeFile.parse(Array("0S\n10 1\n5 1".utf8))?.usage == QuotaAmount(bytes: 10, messages: 1))
        #expect(MaildirSizeFile.parse(Array("0S\n-5 -1\n".utf8)) == nil)
        #expect(MaildirSizeFile.parse(Array("0S\nabc\n".utf8)) == nil)
        #expect(MaildirSizeFile.parse([0x30, 0x53, 0x0A, 0, 0x0A]) == nil)
        #expect(MaildirSizeFile.parse(Array(repeating: UInt8(ascii: "\n"), count: 6000)) == nil)
    }

    @Test func writesDovecotsFormat() {
        #expect(MaildirSizeFile.text(limits: .init(bytes: 1024, messages: 5), usage: .init(bytes: 1186, messages: 2)) == "1024S,5C\n1186 2\n")
        #expect(MaildirSizeFile.text(limits: .init(bytes: 0, messages: 1000), usage: .init()) == "1000C\n0 0\n")
        #expect(MaildirSizeFile.text(limits: .init(), usage: .init(bytes: 3, messages: 1)) == "0S\n3 1\n")
    }

    @Test func recalculatesFromTheMaildir() throws {
        let maildir = try TemporaryMaildir()
        let root = maildir.path
        try FileManager.default.createDirectory(atPath: root + "/.Trash/cur", withIntermediateDirectories: true)
        try Data(count: 7).write(to: URL(fileURLWithPath: root + "/new/1.M1P1.host,S=593,W=596"))
        try Data(count: 7).write(to: URL(fileURLWithPath: root + "/.Trash/cur/2.M1P1.host,S=593:2,S"))
        // No ,S=: the file's size.
        try Data(count: 42).write(to: URL(fileURLWithPath: root + "/cur/3.M1P1.host:2,"))
        let limits = QuotaAmount(bytes: 1024, messages: 5)
        #expect(try MaildirSizeFile.recalculate(root: root, limits: limits) == QuotaAmount(bytes: 1228, messages: 3))
        #expect(try String(contentsOfFile: root + "/maildirsize", encoding: .utf8) == "1024S,5C\n1228 3\n")
        // Over quota with one line and fresh: trusted; with more lines: recounted.
        #expect(MaildirSizeFile.read(root: root, limits: limits, now: Int(time(nil))) == QuotaAmount(bytes: 1228, messages: 3))
        MaildirSizeFile.record(root: root, bytes: 10, count: 1)
        #expect(try String(contentsOfFile: root + "/maildirsize", encoding: .utf8) == "1024S,5C\n1228 3\n10 1\n")
        #expect(MaildirSizeFile.read(root: root, limits: limits, now: Int(time(nil))) == nil)
        // Other limits than the configured ones: recounted.
        #expect(MaildirSizeFile.read(root: root, limits: .init(bytes: 4096), now: Int(time(nil))) == nil)
    }

    @Test func savesAndExpungesAreRecordedWhenTheFileExists() throws {
        let maildir = try TemporaryMaildir()
        let store = MailStore(settings: MailStoreSettings(root: maildir.path))
        let appender = try store.beginAppend(to: "INBOX")
        try appender.write(Array("a\r\n".utf8))
        _ = try appender.commit()
        // No file: nothing is recorded (the next quota check counts the Maildir).
        #expect(!FileManager.default.fileExists(atPath: maildir.path + "/maildirsize"))
        let quota = MailQuota(
            settings: try #require(try QuotaSettings.parse(["quota": "maildir:q", "quota_rule": "*:storage=1M"])),
            store: store)
        #expect(try quota.usage() == QuotaAmount(bytes: 3, messages: 1))
        let second = try store.beginAppend(to: "INBOX")
        try second.write(Array("bb\r\n".utf8))
        _ = try second.commit()
        let mailbox = try store.openMailbox("INBOX")
        _ = try store.copy(uids: [1], from: mailbox, to: "INBOX")
        try mailbox.sync()
        try mailbox.expunge(uids: [2])
        #expect(try String(contentsOfFile: maildir.path + "/maildirsize", encoding: .utf8) == "1048576S\n3 1\n4 1\n3 1\n-4 -1\n")
        #expect(try quota.usage() == QuotaAmount(bytes: 6, messages: 2))
    }
}
