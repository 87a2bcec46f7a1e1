import Foundation
import TernIMAP
import TernMailbox
import Testing

/// A session on `mbox:<dir>/mail:INBOX=<dir>/spool/tuser`, with the fixture clock of `SessionFixture`.
final class MboxSessionFixture {
    let base: String
    let inbox: String
    let store: MailStore
    let session: IMAPMailSession

    init(acl: ACLSettings? = nil, metadata: Bool = false) throws {
        base = NSTemporaryDirectory() + "tern-imap-mbox-" + UUID().uuidString
        inbox = base + "/spool/tuser"
        try FileManager.default.createDirectory(atPath: base + "/spool", withIntermediateDirectories: true)
        store = MailStore(
            settings: MailStoreSettings(format: .mbox, root: base + "/mail", inboxPath: inbox, separator: "/"))
        var configuration = IMAPMailSession.Configuration(user: "tuser", clock: { 0 })
        configuration.acl = acl
        if metadata { configuration.metadataPath = base + "/dovecot-attributes" }
        session = IMAPMailSession(store: store, configuration: configuration)
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    @discardableResult
    func send(_ text: String) -> String {
        String(decoding: session.receive(Array(text.utf8)).bytes, as: UTF8.self)
    }

    /// What Postfix's local(8) appends to the spool file.
    func deliver(_ text: String) throws {
        if !FileManager.default.fileExists(atPath: inbox) {
            FileManager.default.createFile(atPath: inbox, contents: nil)
        }
        let handle = try #require(FileHandle(forWritingAtPath: inbox))
        handle.seekToEndOfFile()
        handle.write(Data(("From ann@example.org  Mon Nov 30 11:12:35 2026\n" + text + "\n").utf8))
        handle.closeFile()
    }

    func file() throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: inbox)), as: UTF8.self)
    }
}

@Suite struct IMAPMailSessionMboxTests {
    @Test func selectFetchStoreExpunge() throws {
        let f = try MboxSessionFixture()
        try f.deliver("Subject: alpha\n\nfirst body\n")
        try f.deliver("Subject: beta\n\n>From quoted\n")
        let selected = f.send("s SELECT INBOX\r\n")
        let validity = try f.store.openMailbox("INBOX", readOnly: true).uidValidity
        let id = try f.store.openMailbox("INBOX", readOnly: true).guid
        #expect(
            selected
                == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
                + "* 2 EXISTS\r\n* 2 RECENT\r\n* OK [UNSEEN 1] First unseen.\r\n"
                + "* OK [UIDVALIDITY \(validity)] UIDs valid\r\n* OK [UIDNEXT 3] Predicted next UID\r\n"
                + "* OK [HIGHESTMODSEQ 1] Highest\r\n* OK [MAILBOXID (\(id))] Ok\r\n"
                + "s OK [READ-WRITE] Select completed" + done)
        #expect(
            f.send("a FETCH 2 (UID RFC822.SIZE BODY.PEEK[])\r\n")
                == "* 2 FETCH (UID 2 RFC822.SIZE 31 BODY[] {31}\r\nSubject: beta\r\n\r\n>From quoted\r\n)\r\n"
                + "a OK Fetch completed" + done)
        #expect(
            f.send("b STORE 1 +FLAGS (\\Deleted $Junk)\r\n")
                == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)\r\n"
                + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk \\*)] Flags permitted.\r\n"
                + "* 1 FETCH (FLAGS (\\Deleted \\Recent $Junk))\r\nb OK Store completed" + done)
        #expect(f.send("x NOOP\r\n") == "x OK NOOP completed" + done)
        #expect(try f.file().contains("X-UID: 1\nStatus: O\nX-Status: D\nX-Keywords: $Junk\n"))
        #expect(f.send("c EXPUNGE\r\n") == "* 1 EXPUNGE\r\n* 1 RECENT\r\nc OK Expunge completed" + done)
        #expect(!(try f.file().contains("alpha")))
        #expect(
            f.send("d UID FETCH 2 FLAGS\r\n") == "* 1 FETCH (UID 2 FLAGS (\\Recent))\r\nd OK Fetch completed" + done)
    }

    @Test func newMailIsNoticedByNoopAndIdle() throws {
        let f = try MboxSessionFixture()
        try f.deliver("Subject: one\n\nbody\n")
        f.send("s SELECT INBOX\r\n")
        try f.deliver("Subject: two\n\nbody\n")
        #expect(f.send("a NOOP\r\n") == "* 2 EXISTS\r\n* 2 RECENT\r\na OK NOOP completed" + done)
        #expect(f.send("b IDLE\r\n") == "+ idling\r\n")
        try f.deliver("Subject: three\n\nbody\n")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* 3 EXISTS\r\n* 3 RECENT\r\n")
        #expect(f.send("DONE\r\n") == "b OK Idle completed" + done)
        #expect(try f.file().contains("X-UID: 3\n"))
    }

    /// SORT's cache is keyed by message: every mbox message has its own key (its UID).
    @Test func sortOverAnMbox() throws {
        let f = try MboxSessionFixture()
        try f.deliver("Subject: beta\n\nb\n")
        try f.deliver("Subject: alpha\n\na\n")
        try f.deliver("Subject: gamma\n\nc\n")
        f.send("s SELECT INBOX\r\n")
        #expect(f.send("a SORT (SUBJECT) UTF-8 ALL\r\n") == "* SORT 2 1 3\r\na OK Sort completed" + done)
        #expect(f.send("b SORT (REVERSE SUBJECT) UTF-8 ALL\r\n") == "* SORT 3 1 2\r\nb OK Sort completed" + done)
    }

    @Test func appendCopyMoveAndList() throws {
        let f = try MboxSessionFixture()
        let created = f.send("a CREATE Archive/2024\r\n")
        let id = try f.store.openMailbox("Archive/2024", readOnly: true).guid
        #expect(created == "a OK [MAILBOXID (\(id))] Create completed" + done)
        let archive = try f.store.openMailbox("Archive/2024", readOnly: true).uidValidity
        #expect(
            f.send("b APPEND Archive/2024 (\\Seen) {23+}\r\nSubject: kept\r\n\r\nbody\r\n\r\n")
                == "b OK [APPENDUID \(archive) 1] Append completed" + done)
        #expect(
            f.send("c LIST \"\" \"*\"\r\n")
                == "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\Noselect \\HasChildren) \"/\" Archive\r\n"
                + "* LIST (\\NoInferiors) \"/\" Archive/2024\r\nc OK List completed" + done)
        try f.deliver("Subject: move me\n\nbody\n")
        f.send("s SELECT INBOX\r\n")
        #expect(
            f.send("d MOVE 1 Archive/2024\r\n")
                == "* OK [COPYUID \(archive) 1 2] Moved UIDs.\r\n* 1 EXPUNGE\r\n* 0 RECENT\r\nd OK Move completed"
                + done)
        #expect(f.send("e EXAMINE Archive/2024\r\n").contains("* 2 EXISTS\r\n"))
        #expect(
            f.send("f FETCH 1:2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent) BODY[HEADER.FIELDS (SUBJECT)] {17}\r\nSubject: kept\r\n\r\n)\r\n"
                + "* 2 FETCH (FLAGS (\\Recent) BODY[HEADER.FIELDS (SUBJECT)] {20}\r\nSubject: move me\r\n\r\n)\r\n"
                + "f OK Fetch completed" + done)
        #expect(f.send("g DELETE Archive\r\n") == "g NO Mailbox has children, delete them first" + done)
        #expect(f.send("h SELECT Archive\r\n").hasSuffix("h NO Mailbox isn't selectable" + done))
    }
}
