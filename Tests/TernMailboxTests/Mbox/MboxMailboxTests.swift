import Foundation
import Testing

@testable import TernMailbox

/// `mbox:<root>/mail:INBOX=<root>/spool/carla` in a temporary directory.
final class TemporaryMbox {
    let base: String
    let root: String
    let inbox: String
    let store: MailStore

    init(fixture: String? = nil) throws {
        base = NSTemporaryDirectory() + "tern-mbox-" + UUID().uuidString
        root = base + "/mail"
        inbox = base + "/spool/carla"
        try FileManager.default.createDirectory(atPath: base + "/spool", withIntermediateDirectories: true)
        if let fixture { try Data(try TemporaryMaildir.fixture(fixture)).write(to: URL(fileURLWithPath: inbox)) }
        store = MailStore(settings: MailStoreSettings(format: .mbox, root: root, inboxPath: inbox, separator: "/"))
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    /// What Postfix's local(8) appends: From_ line, the message with `>From ` quoting, an empty line.
    func deliver(_ text: String, to path: String? = nil) throws {
        let handle =
            FileHandle(forWritingAtPath: path ?? inbox)
            ?? {
                FileManager.default.createFile(atPath: path ?? inbox, contents: nil)
                return FileHandle(forWritingAtPath: path ?? inbox)!
            }()
        handle.seekToEndOfFile()
        handle.write(Data(("From postfix@example.org  Mon Nov 30 11:12:35 2026\n" + text + "\n").utf8))
        handle.closeFile()
    }

    func file(_ path: String? = nil) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path ?? inbox)), as: UTF8.self)
    }
}

@Suite struct MboxMailboxTests {
    @Test func opensDovecotsINBOX() throws {
        let box = try TemporaryMbox(fixture: "dovecot-mbox/inbox")
        let inbox = try box.store.openMailbox("INBOX")
        #expect(inbox.uidValidity == 1_796_122_148)
        #expect(inbox.nextUID == 5)
        #expect(inbox.messages.map(\.uid) == [1, 2, 3, 4])
        #expect(inbox.messages.map(\.flags) == [[.seen, .flagged], [], [.answered, .draft, .deleted], []])
        #expect(inbox.messages[1].keywords == ["todo", "$Label1"])
        #expect(inbox.definedKeywords == ["todo", "$Label1"])
        #expect(try inbox.virtualSize(uid: 1) == 56)
        #expect(try inbox.readAll(uid: 2) == "From: a@example\nSubject: dovecot 2\n\nline 2\nFrom me\n")
        #expect(inbox.messages[0].internalDate == 1_796_122_146)
        // Dovecot left them without Status O: the session that selects first has them as \Recent.
        #expect(inbox.recentCount == 4)
        #expect(try box.store.openMailbox("INBOX").recentCount == 0)
        #expect(inbox.pop3UIDL(uid: 3) == "000000036B0EA624")
    }

    @Test func newMailFromTheMTAGetsUIDs() throws {
        let box = try TemporaryMbox()
        try box.deliver("Subject: first\n\n>From quoted\n")
        let first = try box.store.openMailbox("INBOX")
        let validity = first.uidValidity
        #expect(first.messages.map(\.uid) == [1])
        #expect(first.messages[0].isRecent)
        #expect(try box.file().contains("X-IMAPbase: \(validity) 0000000002\nX-UID: 1\nStatus: O\n"))
        let second = try box.store.openMailbox("INBOX")
        try box.deliver("Subject: second\n\nbody\n")
        try box.deliver("Subject: third\n\nbody\n")
        var changes = try first.sync()
        #expect(changes.added == [2, 3])
        #expect(first.recentCount == 3)
        changes = try second.sync()
        #expect(changes.added == [2, 3])
        #expect(second.recentCount == 0)
        #expect(try second.readAll(uid: 1) == "Subject: first\n\n>From quoted\n")
        #expect(second.uidValidity == validity)
    }

    @Test func flagsAndExpungesReachOtherSessions() throws {
        let box = try TemporaryMbox()
        for n in 1...3 { try box.deliver("Subject: \(n)\n\nbody \(n)\n") }
        let one = try box.store.openMailbox("INBOX")
        let two = try box.store.openMailbox("INBOX")
        let updated = try one.updateFlags(uids: [1, 2], .add, flags: [.seen, .answered], keywords: ["Work"])
        #expect(updated.map(\.flags) == [[.seen, .answered], [.seen, .answered]])
        // Written lazily, as Dovecot's mbox_lazy_writes: at the next sync (after the command).
        #expect(!(try box.file().contains("X-Status")))
        #expect(try one.sync().isEmpty)
        #expect(try box.file().contains("X-UID: 1\nStatus: RO\nX-Status: A\nX-Keywords: Work\n"))
        #expect(try one.readAll(uid: 1) == "Subject: 1\n\nbody 1\n")
        var changes = try two.sync()
        #expect(changes.flagsChanged == [1, 2])
        #expect(changes.keywordsChanged)
        #expect(two.message(uid: 2)?.keywords == ["Work"])
        _ = try one.updateFlags(uids: [2], .remove, flags: [.answered], keywords: ["work"])
        _ = try one.updateFlags(uids: [3], .add, flags: [.deleted])
        #expect(try one.expungeDeleted() == [3])
        #expect(one.messages.map(\.uid) == [1, 2])
        changes = try two.sync()
        #expect(changes.expunged == [3])
        #expect(two.message(uid: 2)?.flags == .seen)
        #expect(two.message(uid: 2)?.keywords == [])
        #expect(two.highestModSeq > 0)
        #expect(try two.readAll(uid: 2) == "Subject: 2\n\nbody 2\n")
        // The last message gone: Dovecot's pseudo message keeps UIDVALIDITY and UIDNEXT.
        #expect(try one.expunge(uids: [1, 2]) == [1, 2])
        let emptied = try box.file()
        #expect(emptied.contains("X-IMAP: \(one.uidValidity) 0000000004 Work\n"), "\(emptied)")
        let again = try box.store.openMailbox("INBOX")
        #expect(again.messages.isEmpty)
        #expect(again.uidValidity == one.uidValidity)
        #expect(again.nextUID == 4)
        #expect(throws: MailboxError.readOnly) {
            try box.store.openMailbox("INBOX", readOnly: true).updateFlags(uids: [1], .add, flags: .seen)
        }
    }

    /// NOTIFY's selected-delayed: `syncKeepingExpunged` brings new mail but leaves another session's expunge
    /// listed until the next `sync()`, on mbox and on Maildir alike.
    @Test func syncKeepingExpunged() throws {
        let box = try TemporaryMbox()
        for n in 1...2 { try box.deliver("Subject: \(n)\n\nbody \(n)\n") }
        let maildir = try TemporaryMaildir()
        for n in 1...2 { _ = try maildir.deliver("Subject: \(n)\n\nbody \(n)\n", name: "\(n).M1P1.host") }
        let maildirStore = MailStore(settings: MailStoreSettings(root: maildir.path, separator: "/"))
        for store in [box.store, maildirStore] {
            let one = try store.openMailbox("INBOX")
            let two = try store.openMailbox("INBOX")
            #expect(try one.expunge(uids: [1]) == [1])
            var changes = try two.syncKeepingExpunged()
            #expect(changes.expunged.isEmpty)
            #expect(two.messages.map(\.uid) == [1, 2])
            _ = try one.updateFlags(uids: [2], .add, flags: .flagged)
            _ = try one.sync()
            changes = try two.syncKeepingExpunged()
            #expect(changes.flagsChanged == [2])
            #expect(two.messages.map(\.uid) == [1, 2])
            changes = try two.sync()
            #expect(changes.expunged == [1])
            #expect(two.messages.map(\.uid) == [2])
        }
    }

    @Test func appendAndCopy() throws {
        let box = try TemporaryMbox()
        try box.store.createMailbox("Sent")
        let appender = try box.store.beginAppend(
            to: "Sent", flags: [.seen], keywords: ["$Forwarded"], internalDate: 1_700_000_000)
        try appender.write(Array("Subject: hi\r\nX-UID: 99\r\nStatus: RO\r".utf8))
        try appender.write(Array("\n\r\nline\r\n\r\nFrom the body\r\n".utf8))
        #expect(try appender.commit() == 1)
        let text = try box.file(box.root + "/Sent")
        #expect(text.hasPrefix("From MAILER-DAEMON  Tue Nov 14 22:13:20 2023\nSubject: hi\nX-IMAPbase: "))
        #expect(text.contains("X-UID: 1\nStatus: R\nX-Keywords: $Forwarded\nContent-Length: 20\n\nline\n"))
        let sent = try box.store.openMailbox("Sent")
        #expect(sent.messages.map(\.uid) == [1])
        #expect(sent.messages[0].flags == .seen)
        #expect(sent.messages[0].keywords == ["$Forwarded"])
        #expect(sent.messages[0].internalDate == 1_700_000_000)
        #expect(sent.messages[0].isRecent)
        #expect(try sent.readAll(uid: 1) == "Subject: hi\n\nline\n\nFrom the body\n")
        // Opened by a session, it is no longer new: Status O.
        #expect(try box.file(box.root + "/Sent").contains("X-UID: 1\nStatus: RO\nX-Keywords: $Forwarded\n"))

        try box.deliver("Subject: inbox\n\nbody\n")
        let inbox = try box.store.openMailbox("INBOX")
        _ = try inbox.updateFlags(uids: [1], .add, flags: .flagged)
        let pairs = try box.store.copy(uids: [1, 5], from: inbox, to: "Sent")
        #expect(pairs.map(\.0) == [1])
        #expect(pairs.map(\.1) == [2])
        #expect(try sent.sync().added == [2])
        #expect(sent.message(uid: 2)?.flags == .flagged)
        #expect(try sent.readAll(uid: 2) == "Subject: inbox\n\nbody\n")
        #expect(throws: MailboxError.nonexistent("Nope")) { try box.store.copy(uids: [1], from: inbox, to: "Nope") }
    }

    @Test func foldersAsFilesAndDirectories() throws {
        let box = try TemporaryMbox()
        try box.store.createMailbox("Sent")
        try box.store.createMailbox("Archive/2024")
        try box.store.createMailbox("Café")
        #expect(throws: MailboxError.alreadyExists("Sent")) { try box.store.createMailbox("Sent") }
        #expect(throws: MailboxError.invalidName("Sent/Sub", reason: "Mailbox doesn't allow inferior mailboxes")) {
            try box.store.createMailbox("Sent/Sub")
        }
        #expect(FileManager.default.fileExists(atPath: box.root + "/Caf&AOk-"))
        try box.store.subscribe("Sent")
        try box.store.subscribe("INBOX")
        #expect(try box.file(box.root + "/.subscriptions") == "V\t2\n\nSent\nINBOX\n")
        func lines() throws -> [String] {
            try box.store.listMailboxes().map { "(\($0.imapAttributes.joined(separator: " "))) \($0.name)" }
        }
        #expect(
            try lines() == [
                "(\\Subscribed \\HasNoChildren) INBOX", "(\\Noselect \\HasChildren) Archive",
                "(\\NoInferiors) Archive/2024", "(\\NoInferiors) Café", "(\\Subscribed \\NoInferiors) Sent",
            ])
        #expect(throws: MailboxError.hasChildren("Archive")) { try box.store.deleteMailbox("Archive") }
        #expect(throws: MailboxError.notSelectable("Archive")) { try box.store.openMailbox("Archive") }
        try box.store.renameMailbox("Archive", to: "Old/Archive")
        try box.store.renameMailbox("Sent", to: "Sent Items")
        #expect(try box.store.subscriptions() == ["Sent Items", "INBOX"])
        try box.store.deleteMailbox("Old/Archive/2024")
        try box.store.deleteMailbox("Old/Archive")
        #expect(
            try lines() == [
                "(\\Subscribed \\HasNoChildren) INBOX", "(\\NoInferiors) Café", "(\\Noselect \\HasNoChildren) Old",
                "(\\Subscribed \\NoInferiors) Sent Items",
            ])
        #expect(throws: MailboxError.cannotDeleteInbox) { try box.store.deleteMailbox("INBOX") }
        #expect(throws: MailboxError.invalidName(".hidden", reason: "Character not allowed in mailbox name: '.'")) {
            try box.store.createMailbox(".hidden")
        }
        // A created mailbox has its UIDVALIDITY in the file from the start.
        let validity = try box.store.openMailbox("Café", readOnly: true).uidValidity
        #expect(try box.store.openMailbox("Café", readOnly: true).uidValidity == validity)
    }

    @Test func locksExcludeWriters() throws {
        let box = try TemporaryMbox()
        try box.deliver("Subject: x\n\ny\n")
        _ = try box.store.openMailbox("INBOX")
        // A reader's fcntl lock keeps a writer out (also within one process: open-file-description locks).
        let reader = try #require(try MboxLock.read(box.inbox))
        #expect(throws: MailboxError.lockTimeout(path: box.inbox)) {
            try MboxLock.write(box.inbox, privilegedGroup: nil, timeout: 1)
        }
        reader.release()
        // Postfix's dotlock (an empty `<mbox>.lock`, fresh) keeps Tern's writers out too.
        FileManager.default.createFile(atPath: box.inbox + ".lock", contents: nil)
        #expect(throws: MailboxError.lockTimeout(path: box.inbox + ".lock")) {
            try MboxLock.write(box.inbox, privilegedGroup: nil, timeout: 1)
        }
        try FileManager.default.removeItem(atPath: box.inbox + ".lock")
        let writer = try MboxLock.write(box.inbox, privilegedGroup: nil, timeout: 1)
        #expect(FileManager.default.fileExists(atPath: box.inbox + ".lock"))
        writer.release()
        #expect(!FileManager.default.fileExists(atPath: box.inbox + ".lock"))
    }

    @Test func refusesAFileThatIsNotAnMbox() throws {
        let box = try TemporaryMbox()
        try Data("Subject: not an mbox\n\nbody\n".utf8).write(to: URL(fileURLWithPath: box.inbox))
        #expect(throws: MailboxError.invalidMbox(reason: "File isn't in mbox format")) {
            try box.store.openMailbox("INBOX")
        }
    }
}
