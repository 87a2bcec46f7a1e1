import Foundation
import Synchronization
import TernIMAP
import TernMailbox
import Testing

/// A mailbox shared after the login shows in the same session, as in Dovecot: acl_shared_dict is read again
/// when it changed, and owners new in it are looked up in the userdb (here a lookup the test counts).
@Suite struct IMAPMailSessionSharedLaterTests {
    typealias Users = IMAPMailSessionSharedTests.Users

    /// The userdb of the test: bob's home, nobody else's; counts the lookups by owner.
    final class Userdb: Sendable {
        let homes: [String: String]
        let lookups = Mutex<[String]>([])

        init(homes: [String: String]) { self.homes = homes }

        var lookup: SharedOwnerDirectory.HomeLookup {
            { owner in
                self.lookups.withLock { $0.append(owner) }
                return self.homes[owner]
            }
        }
    }

    /// alice's session, logged in while the dict named nobody: her shared namespace starts empty.
    static func aliceSession(_ users: Users, _ userdb: Userdb) -> IMAPMailSession {
        var settings = MailStoreSettings(root: users.aliceRoot, separator: "/")
        let build: SharedOwnerDirectory.Builder = { homes in
            SharedNamespace(prefix: "shared/", owners: homes.mapValues { $0 + "/Maildir" })
        }
        settings.shared = build([:])
        settings.sharedOwners = SharedOwnerDirectory(
            dictPath: users.dictPath, user: "alice", groups: [], homes: [:], lookupHome: userdb.lookup, build: build)
        var configuration = IMAPMailSession.Configuration(user: "alice", clock: { 0 })
        configuration.acl = ACLSettings(sharedDictPath: users.dictPath)
        return IMAPMailSession(store: MailStore(settings: settings), configuration: configuration)
    }

    /// LIST "" * of alice with nothing shared.
    static let inboxOnly = "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"

    static func send(_ session: IMAPMailSession, _ text: String) -> String {
        IMAPMailSessionSharedTests.send(session, text)
    }

    @Test func listShowsAMailboxSharedDuringTheSession() throws {
        let users = try Users()
        let userdb = Userdb(homes: ["bob": users.base + "/bob"])
        let alice = Self.aliceSession(users, userdb)
        let bob = try users.session("bob")
        #expect(Self.send(bob, "b1 CREATE Shared\r\n").contains("b1 OK"))
        #expect(Self.send(alice, "a1 LIST \"\" *\r\n") == Self.inboxOnly + "a1 OK List completed" + done)
        #expect(userdb.lookups.withLock { $0 }.isEmpty)

        #expect(Self.send(bob, "b2 SETACL Shared alice lr\r\n") == "b2 OK Setacl complete" + done)
        let shared =
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\Noselect \\HasChildren) \"/\" shared\r\n"
            + "* LIST (\\Noselect \\HasChildren) \"/\" shared/bob\r\n"
            + "* LIST (\\HasNoChildren) \"/\" shared/bob/Shared\r\n"
        #expect(Self.send(alice, "a2 LIST \"\" *\r\n") == shared + "a2 OK List completed" + done)
        #expect(Self.send(alice, "a3 LIST \"\" *\r\n") == shared + "a3 OK List completed" + done)
        // bob is looked up once; the dict's next change (another grantee) looks nobody up again.
        #expect(userdb.lookups.withLock { $0 } == ["bob"])
        #expect(Self.send(bob, "b3 SETACL Shared carol l\r\n") == "b3 OK Setacl complete" + done)
        #expect(
            Self.send(alice, "a4 LIST \"\" shared/bob/%\r\n")
                == "* LIST (\\HasNoChildren) \"/\" shared/bob/Shared\r\na4 OK List completed" + done)
        #expect(userdb.lookups.withLock { $0 } == ["bob"])

        // Taken back: the next LIST no longer shows it.
        #expect(Self.send(bob, "b4 DELETEACL Shared alice\r\n") == "b4 OK Deleteacl complete" + done)
        #expect(Self.send(alice, "a5 LIST \"\" *\r\n") == Self.inboxOnly + "a5 OK List completed" + done)
    }

    /// SELECT and STATUS of a mailbox shared during the session work before any LIST.
    @Test func selectAndStatusFindANewOwnerWithoutList() throws {
        let users = try Users()
        let userdb = Userdb(homes: ["bob": users.base + "/bob"])
        let alice = Self.aliceSession(users, userdb)
        let bob = try users.session("bob")
        #expect(Self.send(bob, "b1 CREATE Shared\r\n").contains("b1 OK"))
        #expect(
            Self.send(alice, "a1 STATUS shared/bob/Shared (MESSAGES)\r\n")
                == "a1 NO Mailbox doesn't exist: shared/bob/Shared" + done)
        #expect(Self.send(bob, "b2 SETACL Shared alice lr\r\n") == "b2 OK Setacl complete" + done)
        #expect(Self.send(bob, "b3 APPEND Shared {12+}\r\nSubject: x\r\n\r\n").contains("b3 OK [APPENDUID"))
        #expect(
            Self.send(alice, "a2 STATUS shared/bob/Shared (MESSAGES)\r\n")
                == "* STATUS shared/bob/Shared (MESSAGES 1)\r\na2 OK Status completed" + done)
        #expect(Self.send(alice, "a3 EXAMINE shared/bob/Shared\r\n").contains("* 1 EXISTS\r\n"))
    }

    /// An owner the userdb does not know is left out, as at login.
    @Test func ownerUnknownToTheUserdbIsLeftOut() throws {
        let users = try Users()
        let userdb = Userdb(homes: [:])
        let alice = Self.aliceSession(users, userdb)
        let bob = try users.session("bob")
        #expect(Self.send(bob, "b1 CREATE Shared\r\n").contains("b1 OK"))
        #expect(Self.send(bob, "b2 SETACL Shared alice lr\r\n") == "b2 OK Setacl complete" + done)
        #expect(Self.send(alice, "a1 LIST \"\" *\r\n") == Self.inboxOnly + "a1 OK List completed" + done)
        #expect(userdb.lookups.withLock { $0 } == ["bob"])
    }
}
