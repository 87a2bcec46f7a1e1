import Foundation
import Testing

@testable import TernMailbox

/// The checks before a save, as Dovecot 2.3's quota_test_alloc makes them.
@Suite struct MailQuotaTests {
    func quota(_ plugin: [String: String], _ maildir: TemporaryMaildir) throws -> MailQuota {
        MailQuota(
            settings: try #require(try QuotaSettings.parse(plugin)),
            store: MailStore(settings: MailStoreSettings(root: maildir.path)))
    }

    @Test func graceLetsADeliveryEndOverTheLimit() throws {
        let maildir = try TemporaryMaildir()
        try Data(count: 1).write(to: URL(fileURLWithPath: maildir.path + "/new/1.M1P1.host,S=886"))
        let quota = try quota(["quota": "maildir:User quota", "quota_rule": "*:storage=1K"], maildir)
        // 886 + 197 = 1083: over 1024, within 10% grace: Dovecot's LMTP saved it, IMAP would not.
        #expect(throws: MailboxError.overQuota("Quota exceeded (mailbox for user is full)")) {
            try quota.check("INBOX", adding: QuotaAmount(bytes: 197, messages: 1))
        }
        #expect(try quota.check("INBOX", adding: QuotaAmount(bytes: 197, messages: 1), grace: true) == QuotaAmount(bytes: 886, messages: 1))
        #expect(throws: MailboxError.self) { try quota.check("INBOX", adding: QuotaAmount(bytes: 300, messages: 1), grace: true) }
        // Once over the limit, grace gives nothing.
        try Data(count: 1).write(to: URL(fileURLWithPath: maildir.path + "/new/2.M1P1.host,S=197"))
        try quota.recalculate()
        #expect(throws: MailboxError.self) { try quota.check("INBOX", adding: QuotaAmount(bytes: 1, messages: 1), grace: true) }
    }

    @Test func noenforcingKeepsUsageOnly() throws {
        let maildir = try TemporaryMaildir()
        let quota = try quota(["quota": "maildir:User quota:noenforcing", "quota_rule": "*:messages=1"], maildir)
        #expect(try quota.check("INBOX", adding: QuotaAmount(bytes: 1, messages: 5)) == QuotaAmount())
        #expect(FileManager.default.fileExists(atPath: maildir.path + "/maildirsize"))
    }

    @Test func maildirBackendSkipsMbox() throws {
        let maildir = try TemporaryMaildir()
        let store = MailStore(settings: MailStoreSettings(format: .mbox, root: maildir.path + "/mail", inboxPath: maildir.path + "/inbox"))
        let quota = MailQuota(settings: try #require(try QuotaSettings.parse(["quota": "maildir:q", "quota_rule": "*:messages=1"])), store: store)
        #expect(!quota.isActive)
        #expect(try quota.check("INBOX", adding: QuotaAmount(bytes: 1, messages: 5)) == QuotaAmount())
    }

    @Test func warningsCrossInEitherDirection() throws {
        let settings = try #require(
            try QuotaSettings.parse([
                "quota": "maildir:q", "quota_rule": "*:storage=1K", "quota_warning": "storage=50% w up",
                "quota_warning2": "-storage=40% w down",
            ]))
        #expect(MailQuota.crossed(settings.warnings[0], QuotaAmount(bytes: 100), QuotaAmount(bytes: 600)))
        #expect(!MailQuota.crossed(settings.warnings[0], QuotaAmount(bytes: 600), QuotaAmount(bytes: 700)))
        #expect(MailQuota.crossed(settings.warnings[1], QuotaAmount(bytes: 600), QuotaAmount(bytes: 100)))
        #expect(!MailQuota.crossed(settings.warnings[1], QuotaAmount(bytes: 100), QuotaAmount(bytes: 600)))
    }

    /// The count backend counts mbox mailboxes through the store (the maildir backend would skip them).
    @Test func countBackendCountsMbox() throws {
        let maildir = try TemporaryMaildir()
        let base = TemporaryMaildir.parent(maildir.path)
        try FileManager.default.createDirectory(atPath: base + "/mail", withIntermediateDirectories: true)
        let store = MailStore(
            settings: MailStoreSettings(format: .mbox, root: base + "/mail", inboxPath: base + "/inbox", separator: "/"))
        try store.createMailbox("Sent")
        for (name, text) in [("INBOX", "Subject: a\r\n\r\nbody\r\n"), ("Sent", "Subject: b\r\n\r\nx\r\n")] {
            let appender = try store.beginAppend(to: name)
            try appender.write(Array(text.utf8))
            _ = try appender.commit()
        }
        let quota = MailQuota(
            settings: try #require(try QuotaSettings.parse(["quota": "count:q", "quota_rule": "*:messages=2"])), store: store)
        #expect(quota.isActive)
        #expect(try quota.usage().messages == 2)
        #expect(throws: MailboxError.overQuota("Quota exceeded (mailbox for user is full)")) {
            try quota.check("Sent", adding: QuotaAmount(bytes: 1, messages: 1))
        }
    }

    /// Dovecot's dirsize: every file under the mail root (index files too), recounted on each call; a Dovecot
    /// 2.3.19 showed 8 (KB) for 7794 bytes in 10 files.
    @Test func dirsizeSumsEveryFile() throws {
        let maildir = try TemporaryMaildir()
        try Data(count: 3000).write(to: URL(fileURLWithPath: maildir.path + "/new/1.M1P1.host,S=3000"))
        try Data(count: 700).write(to: URL(fileURLWithPath: maildir.path + "/dovecot.index.cache"))
        let quota = try quota(["quota": "dirsize:User quota", "quota_rule": "*:storage=4K"], maildir)
        let before = try quota.usage()
        #expect(before.bytes >= 3700)
        #expect(throws: MailboxError.self) { try quota.check("INBOX", adding: QuotaAmount(bytes: 500, messages: 1)) }
        try Data(count: 96).write(to: URL(fileURLWithPath: maildir.path + "/new/2.M1P1.host,S=96"))
        #expect(try quota.usage() == QuotaAmount(bytes: before.bytes + 96, messages: before.messages + 1))
        #expect(!FileManager.default.fileExists(atPath: maildir.path + "/maildirsize"))
    }
}
