import Foundation
import TernMailbox
import Testing

/// dovecot-acl files as Dovecot 2.3.19's vfile backend writes and reads them, and the rights it works out
/// from them (each case checked with MYRIGHTS against a real Dovecot).
@Suite struct MailboxACLTests {
    /// Written by Dovecot after SETACL/DELETEACL on a hand-written file (rights sorted by name, owner before users).
    static let dovecotWritten = "authenticated i\ngroup=staff w\nowner akxeilprwts\nuser=bob lrw\n-user=bob r\n"

    @Test func readsAndWritesDovecotsFile() {
        let acl = MailboxACL(fileText: Self.dovecotWritten)
        #expect(acl.entries.count == 4)
        #expect(acl.entries[3] == MailboxACL.Entry(kind: .user, name: "bob", rights: [.lookup, .read, .write], negative: .read))
        #expect(acl.fileText == Self.dovecotWritten)
    }

    @Test func sortsHandWrittenFilesAsDovecotDoes() {
        let acl = MailboxACL(
            fileText: "# comment\n\nuser=bob rl\nanyone lr\n-user=bob r\nauthenticated i\ngroup=staff w\nowner lrwstipekxa\n")
        #expect(
            acl.fileText
                == "anyone lr\nauthenticated i\ngroup=staff w\nowner akxeilprwts\nuser=bob lr\n-user=bob r\n")
    }

    @Test func emptyRightsStayAnEntry() {
        var acl = MailboxACL()
        acl.update(kind: .user, name: "bob", negative: false, .replace([]))
        #expect(acl.fileText == "user=bob \n")
        #expect(MailboxACL(fileText: "user=bob \n").entries == [MailboxACL.Entry(kind: .user, name: "bob", rights: [])])
        acl.update(kind: .user, name: "bob", negative: false, .remove([.lookup]))
        #expect(acl.fileText == "user=bob \n")
        acl.update(kind: .user, name: "bob", negative: false, .clear)
        #expect(acl.entries.isEmpty)
    }

    @Test func updatesOneHalfOfAnIdentifier() {
        var acl = MailboxACL(fileText: "user=bob lr\n")
        acl.update(kind: .user, name: "bob", negative: false, .add(.insert))
        acl.update(kind: .user, name: "carol", negative: true, .replace(.write))
        #expect(acl.fileText == "user=bob ilr\n-user=carol w\n")
        acl.update(kind: .user, name: "carol", negative: true, .clear)
        #expect(acl.fileText == "user=bob ilr\n")
    }

    /// The rights of alice (the owner) and carol (another user) for files Dovecot was given, and what
    /// Dovecot's MYRIGHTS answered.
    @Test(arguments: [
        ("", "alice", "lrwstipekxa"),
        ("user=alice lr\n", "alice", "lr"),
        ("anyone lrs\n", "alice", "lrwstipekxa"),
        ("user=alice lrwi\n-user=alice w\n", "alice", "lri"),
        ("owner lr\nuser=alice i\n", "alice", "i"),
        ("anyone lr\nuser=alice i\n", "alice", "i"),
        ("anyone l\nauthenticated r\nuser=carol i\n", "alice", "lrwstipekxa"),
        ("anyone l\nauthenticated r\nuser=carol i\n", "carol", "i"),
        ("anyone lrw\n-authenticated r\nuser=carol i\n", "carol", "i"),
        ("anyone lr\nuser=alice i\n", "carol", "lr"),
        ("-anyone r\nuser=carol lrw\n", "carol", "lw"),
        ("anyone lr\nauthenticated i\n", "carol", "i"),
        ("", "carol", ""),
    ])
    func rightsAsDovecotWorksThemOut(file: String, user: String, expected: String) {
        let rights = MailboxACL(fileText: file).rights(of: user, isOwner: user == "alice")
        #expect(rights.imapLetters(sorted: false).filter { $0 != "c" && $0 != "d" } == expected)
    }

    /// `group=` entries match the userdb's acl_groups; group-override ones come after the user's own entry.
    @Test func groups() {
        let acl = MailboxACL(fileText: "group=staff lr\nuser=carol l\ngroup-override=audit r\n")
        #expect(acl.rights(of: "bob", isOwner: false, groups: ["staff"]) == [.lookup, .read])
        #expect(acl.rights(of: "bob", isOwner: false) == [])
        #expect(acl.rights(of: "carol", isOwner: false, groups: ["staff"]) == .lookup)
        #expect(acl.rights(of: "carol", isOwner: false, groups: ["audit"]) == .read)
    }

    @Test func imapLettersWithTheObsoleteOnes() throws {
        #expect(try ACLRights(imapLetters: "lrc").imapLetters(sorted: true) == "kxlrc")
        #expect(try ACLRights(imapLetters: "lrd").imapLetters(sorted: true) == "elrtd")
        #expect(ACLRights.all.imapLetters(sorted: false) == "lrwstipekxacd")
        // Dovecot's GETACL for `SETACL bob lrwsti`, `carol le`, `dave lx`, `erin lk`.
        #expect(try ACLRights(imapLetters: "lrwsti").imapLetters(sorted: true) == "ilrwtsd")
        #expect(try ACLRights(imapLetters: "le").imapLetters(sorted: true) == "eld")
        #expect(try ACLRights(imapLetters: "lx").imapLetters(sorted: true) == "xlc")
        #expect(try ACLRights(imapLetters: "lk").imapLetters(sorted: true) == "klc")
        #expect(ACLRights.all.imapLetters(sorted: true) == "akxeilprwtscd")
        #expect(throws: ACLRights.InvalidRight.self) { try ACLRights(imapLetters: "lrz") }
    }

    @Test func storeKeepsTheFileInTheMailboxAndChildrenInheritIt() throws {
        let root = NSTemporaryDirectory() + "tern-acl-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = MailStore(settings: MailStoreSettings(root: root, separator: "/"))
        try store.createMailbox("Shared")
        try store.updateACL("Shared") { $0.update(kind: .user, name: "bob", negative: false, .replace([.lookup, .read])) }
        #expect(try String(contentsOfFile: root + "/.Shared/dovecot-acl", encoding: .utf8) == "user=bob lr\n")
        #expect(store.myRights("Shared", user: "alice") == .all)
        // A mailbox that does not exist yet has no ACL, but CREATE asks its parent's, and it gets a copy.
        #expect(try store.acl("Shared/Sub") == MailboxACL())
        #expect(try store.acl("Shared/Sub", creating: true) == store.acl("Shared"))
        try store.createMailbox("Shared/Sub")
        store.inheritACL("Shared/Sub")
        #expect(try String(contentsOfFile: root + "/.Shared.Sub/dovecot-acl", encoding: .utf8) == "user=bob lr\n")
        try store.updateACL("INBOX") { $0.update(kind: .owner, name: "", negative: false, .replace([.lookup, .read, .admin])) }
        #expect(try String(contentsOfFile: root + "/dovecot-acl", encoding: .utf8) == "owner alr\n")
        #expect(store.myRights("INBOX", user: "alice") == [.lookup, .read, .admin])
        #expect(throws: MailboxError.nonexistent("Nope")) {
            try store.updateACL("Nope") { $0.update(kind: .anyone, name: "", negative: false, .replace(.lookup)) }
        }
    }

    /// A global ACL file: `mailbox-pattern identifier rights` lines, `*` and `?` wildcards.
    @Test func globalACLFile() throws {
        let root = NSTemporaryDirectory() + "tern-acl-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = MailStore(settings: MailStoreSettings(root: root + "/Maildir", separator: "/"))
        try FileManager.default.createDirectory(atPath: root + "/Maildir", withIntermediateDirectories: true)
        try store.createMailbox("Lists/Tern")
        try Data("* user=admin lra\nLists/* owner lr\nList? anyone l\n".utf8).write(to: URL(fileURLWithPath: root + "/global"))
        let acl = try store.acl("Lists/Tern", global: root + "/global")
        #expect(acl.entries.map(\.fileIdentifier) == ["owner", "user=admin"])
        #expect(acl.entries.allSatisfy { $0.global })
        #expect(store.myRights("Lists/Tern", user: "u", global: root + "/global") == [.lookup, .read])
        #expect(store.myRights("INBOX", user: "u", global: root + "/global") == .all)
        #expect(acl.fileText.isEmpty, "global entries are never written")
    }

    /// mbox keeps each ACL in Dovecot's control directory beside the mailbox file, with Tern's index; RENAME of
    /// the mailbox or its parent directory takes it along, DELETE drops it.
    @Test func mboxControlDirectories() throws {
        let mbox = try TemporaryMbox()
        let bob: (inout MailboxACL) -> Void = {
            $0.update(kind: .user, name: "bob", negative: false, .replace(.lookup))
        }
        try mbox.store.createMailbox("A/B")
        try mbox.store.updateACL("A/B", bob)
        try mbox.store.updateACL("INBOX", bob)
        #expect(try String(contentsOfFile: mbox.root + "/A/.imap/B/dovecot-acl", encoding: .utf8) == "user=bob l\n")
        #expect(try String(contentsOfFile: mbox.root + "/.imap/INBOX/dovecot-acl", encoding: .utf8) == "user=bob l\n")
        _ = try mbox.store.openMailbox("A/B", readOnly: false)
        #expect(FileManager.default.fileExists(atPath: mbox.root + "/A/.imap/B/tern.index"))
        try mbox.store.renameMailbox("A", to: "C")
        try mbox.store.renameMailbox("C/B", to: "D")
        #expect(try mbox.store.acl("D").entries.map(\.name) == ["bob"])
        #expect(try String(contentsOfFile: mbox.root + "/.imap/D/dovecot-acl", encoding: .utf8) == "user=bob l\n")
        try mbox.store.deleteMailbox("D")
        try mbox.store.createMailbox("D")
        #expect(try mbox.store.acl("D") == MailboxACL())
        #expect(throws: MailboxError.nonexistent("C")) { try mbox.store.updateACL("C", bob) }
    }
}
