import TernCore
import Foundation
import Testing

@testable import TernMailbox

@Suite struct MailStoreTests {
    func store(_ dir: TemporaryMaildir, separator: Character = "/") -> MailStore {
        MailStore(
            settings: MailStoreSettings(
                root: dir.path, separator: separator,
                mailboxes: [
                    MailboxSettings(name: "Sent", specialUse: ["\\Sent"], auto: .subscribe),
                    MailboxSettings(name: "Trash", specialUse: ["\\Trash"], auto: .create),
                    MailboxSettings(name: "Drafts", specialUse: ["\\Drafts"]),
                ]))
    }

    @Test func listsDovecotMaildirLikeDovecot() throws {
        let dir = try TemporaryMaildir(fixture: true)
        let entries = try store(dir).listMailboxes()
        let lines = entries.map { "(\($0.imapAttributes.joined(separator: " "))) \(ModifiedUTF7.encode($0.name))" }
        #expect(
            lines == [
                "(\\Subscribed \\HasChildren) INBOX",
                "(\\Noselect \\HasChildren) Archive",
                "(\\Noselect \\HasChildren) Archive/2024",
                "(\\HasNoChildren) Archive/2024/Q1",
                "(\\Subscribed \\HasNoChildren) Caf&AOk-",
                "(\\HasNoChildren) INBOX/sub",
                "(\\Noselect \\HasChildren) Renamed",
                "(\\Noselect \\HasChildren) Renamed/Y",
                "(\\HasNoChildren) Renamed/Y/Z",
                "(\\Subscribed \\HasNoChildren \\Sent) Sent",
            ])
        #expect(try store(dir).subscriptions() == ["INBOX", "Sent", "Drafts/Sub", "Café"])
        let lsub = try store(dir).listSubscribed().map(\.name)
        #expect(lsub == ["INBOX", "Sent", "Drafts/Sub", "Café"])
        #expect(try store(dir).listSubscribed()[2].attributes.contains(.nonExistent))
    }

    @Test func createRenameDelete() throws {
        let dir = try TemporaryMaildir()
        let store = store(dir)
        try store.createMailbox("Work/Projects/Tern")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/.Work.Projects.Tern/maildirfolder"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/.Work.Projects.Tern/cur"))
        #expect(throws: MailboxError.alreadyExists("Work/Projects/Tern")) {
            try store.createMailbox("Work/Projects/Tern/")
        }
        #expect(throws: MailboxError.self) { try store.createMailbox("a.b") }
        #expect(throws: MailboxError.alreadyExists("INBOX")) { try store.createMailbox("inbox") }
        try store.createMailbox("Work")
        try store.createMailbox("Café")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/.Caf&AOk-"))
        try store.subscribe("Work/Projects/Tern")
        try store.subscribe("Work/Projects/Tern")

        try store.renameMailbox("Work", to: "Job")
        #expect(try store.listMailboxes().map(\.name) == ["INBOX", "Café", "Job", "Job/Projects", "Job/Projects/Tern"])
        #expect(try store.subscriptions() == ["Job/Projects/Tern"])
        #expect(dir.read("subscriptions") == "V\t2\n\nJob\tProjects\tTern\n")
        #expect(throws: MailboxError.self) { try store.renameMailbox("INBOX", to: "Old") }
        #expect(throws: MailboxError.alreadyExists("Café")) { try store.renameMailbox("Job", to: "Café") }

        try store.deleteMailbox("Job")
        let job = try #require(try store.listMailboxes().first { $0.name == "Job" })
        #expect(job.attributes == [.noSelect, .hasChildren])
        #expect(throws: MailboxError.nonexistent("Job")) { try store.deleteMailbox("Job") }
        #expect(throws: MailboxError.cannotDeleteInbox) { try store.deleteMailbox("INBOX") }
        #expect(throws: MailboxError.nonexistent("Job")) { try store.openMailbox("Job") }
        try store.unsubscribe("Job/Projects/Tern")
        #expect(try store.subscriptions().isEmpty)
    }

    @Test func autoMailboxesAndDotSeparator() throws {
        let dir = try TemporaryMaildir()
        let slash = store(dir)
        try slash.applyAutoSettings()
        #expect(try slash.subscriptions() == ["Sent"])
        #expect(try slash.listMailboxes().map(\.name) == ["INBOX", "Sent", "Trash"])
        #expect(try slash.listMailboxes()[2].specialUse == ["\\Trash"])

        let dot = store(dir, separator: ".")
        try dot.createMailbox("INBOX.Lists.Swift")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/.INBOX.Lists.Swift"))
        #expect(try dot.listMailboxes().map(\.name).contains("INBOX.Lists.Swift"))
        #expect(try dot.listMailboxes().first?.attributes.contains(.hasChildren) == true)
        let appender = try dot.beginAppend(to: "inbox.Lists.Swift", flags: [.seen])
        try appender.write(Array("hello\n".utf8))
        #expect(try appender.commit() == 1)
        #expect(try dot.openMailbox("INBOX.Lists.Swift").messages.count == 1)
    }
}
