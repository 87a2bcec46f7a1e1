import Foundation
import TernIMAP
import TernMailbox
import Testing

/// Dovecot's shared namespace (`type = shared`, `prefix = shared/%%u/`, `list = children`) with the acl plugin
/// and acl_shared_dict: replies as Dovecot 2.3.19 sent them on loopback to alice, whose mailboxes bob shared.
@Suite struct IMAPMailSessionSharedTests {
    /// bob's and alice's Maildirs and the dict file in one temporary directory.
    final class Users {
        let base = NSTemporaryDirectory() + "tern-imap-shared-" + UUID().uuidString
        var bobRoot: String { base + "/bob/Maildir" }
        var aliceRoot: String { base + "/alice/Maildir" }
        var dictPath: String { base + "/shared-mailboxes.db" }

        init() throws {
            for root in [bobRoot, aliceRoot] {
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: base) }

        /// alice's INDEXPVT directory for bob's mailboxes (`INDEXPVT=~/Maildir/shared/%%u`).
        var alicePrivate: String { aliceRoot + "/shared/bob" }

        /// A session of `user`; alice's sees bob's mailboxes under `shared/bob/`, with her own \Seen there when
        /// `privateSeen`.
        func session(_ user: String, privateSeen: Bool = false, quota: [String: String]? = nil) throws
            -> IMAPMailSession
        {
            var settings = MailStoreSettings(root: user == "bob" ? bobRoot : aliceRoot, separator: "/")
            if user == "alice" {
                settings.shared = SharedNamespace(
                    prefix: "shared/", owners: ["bob": bobRoot],
                    privateIndexes: privateSeen ? ["bob": alicePrivate] : [:])
            }
            var configuration = IMAPMailSession.Configuration(user: user, clock: { 0 })
            configuration.acl = ACLSettings(sharedDictPath: dictPath)
            configuration.quota = try quota.map { try QuotaSettings.roots($0) } ?? []
            return IMAPMailSession(store: MailStore(settings: settings), configuration: configuration)
        }

        var dict: String { (try? String(contentsOfFile: dictPath, encoding: .utf8)) ?? "" }
    }

    static func send(_ session: IMAPMailSession, _ text: String) -> String {
        String(decoding: session.receive(Array(text.utf8)).bytes, as: UTF8.self)
    }

    /// bob's side of the transcript: three mailboxes, alice may look up and read INBOX and Shared (and set
    /// \Seen there), Shared/Sub only read (not look up), Private nothing.
    func bobShares(_ users: Users, quota: [String: String]? = nil) throws -> IMAPMailSession {
        let bob = try users.session("bob", quota: quota)
        for command in [
            "b1 CREATE Shared", "b2 CREATE Shared/Sub", "b3 CREATE Private", "b4 SETACL Shared alice lrs",
            "b5 SETACL INBOX alice lr", "b6 SETACL Shared/Sub alice r",
        ] {
            #expect(Self.send(bob, command + "\r\n").contains(" OK "))
        }
        #expect(Self.send(bob, "b7 APPEND Shared {12+}\r\nSubject: x\r\n\r\n").contains("b7 OK [APPENDUID"))
        #expect(Self.send(bob, "b8 APPEND Shared/Sub {12+}\r\nSubject: y\r\n\r\n").contains("b8 OK [APPENDUID"))
        return bob
    }

    /// SETACL writes acl_shared_dict as Dovecot does: one key per grantee with the lookup right, value 1.
    @Test func setACLWritesTheSharedDictAsDovecot() throws {
        let users = try Users()
        let bob = try bobShares(users)
        #expect(users.dict == "shared/shared-boxes/user/alice/bob\n1\n")
        #expect(Self.send(bob, "c SETACL Shared carol l\r\n") == "c OK Setacl complete" + done)
        #expect(users.dict == "shared/shared-boxes/user/alice/bob\n1\nshared/shared-boxes/user/carol/bob\n1\n")
        // alice still looks up INBOX: her key stays (as in Dovecot); carol's goes with her last l.
        #expect(Self.send(bob, "d DELETEACL Shared alice\r\n") == "d OK Deleteacl complete" + done)
        #expect(Self.send(bob, "e DELETEACL Shared carol\r\n") == "e OK Deleteacl complete" + done)
        #expect(users.dict == "shared/shared-boxes/user/alice/bob\n1\n")
        #expect(Self.send(bob, "f DELETEACL INBOX alice\r\n") == "f OK Deleteacl complete" + done)
        #expect(users.dict == "")
        // Other owners' keys are left alone; the file reads back through the dict.
        try Data("shared/shared-boxes/user/alice/carol\n1\nshared/shared-boxes/group/staff/dave\n1\n".utf8)
            .write(to: URL(fileURLWithPath: users.dictPath))
        #expect(Self.send(bob, "g SETACL INBOX alice l\r\n") == "g OK Setacl complete" + done)
        let dict = SharedMailboxesDictionary(path: users.dictPath)
        #expect(try dict.owners(user: "alice", groups: []) == ["bob", "carol"])
        #expect(try dict.owners(user: "erin", groups: ["staff"]) == ["dave"])
    }

    /// alice's side, as Dovecot answered it (Tern lists INBOX first and the shared namespace last, and its
    /// SELECT reports HIGHESTMODSEQ and OBJECTID's MAILBOXID as for any mailbox).
    @Test func namespaceListAndSelectAsDovecot() throws {
        let users = try Users()
        _ = try bobShares(users)
        let alice = try users.session("alice")
        #expect(
            Self.send(alice, "c0 NAMESPACE\r\n")
                == "* NAMESPACE ((\"\" \"/\")) ((\"shared/\" \"/\")) NIL\r\nc0 OK Namespace completed" + done)
        #expect(
            Self.send(alice, "c1 LIST \"\" *\r\n")
                == "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\Noselect \\HasChildren) \"/\" shared\r\n"
                + "* LIST (\\HasChildren) \"/\" shared/bob\r\n* LIST (\\HasNoChildren) \"/\" shared/bob/Shared\r\n"
                + "c1 OK List completed" + done)
        #expect(
            Self.send(alice, "c2 LIST \"\" %\r\n")
                == "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\Noselect \\HasChildren) \"/\" shared\r\n"
                + "c2 OK List completed" + done)
        #expect(
            Self.send(alice, "c2b LIST \"\" shared/%\r\n")
                == "* LIST (\\HasChildren) \"/\" shared/bob\r\nc2b OK List completed" + done)
        #expect(
            Self.send(alice, "d8 LIST \"\" shared* RETURN (CHILDREN)\r\n")
                == "* LIST (\\NonExistent \\HasChildren) \"/\" shared\r\n* LIST (\\HasChildren) \"/\" shared/bob\r\n"
                + "* LIST (\\HasNoChildren) \"/\" shared/bob/Shared\r\nd8 OK List completed" + done)
        let bobShared = try MailStore(settings: MailStoreSettings(root: users.bobRoot, separator: "/"))
            .openMailbox("Shared", readOnly: true)
        let validity = bobShared.uidValidity
        #expect(
            Self.send(alice, "c4 SELECT shared/bob/Shared\r\n")
                == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                + "* OK [PERMANENTFLAGS (\\Seen)] Flags permitted.\r\n* 1 EXISTS\r\n* 1 RECENT\r\n"
                + "* OK [UNSEEN 1] First unseen.\r\n* OK [UIDVALIDITY \(validity)] UIDs valid\r\n"
                + "* OK [UIDNEXT 2] Predicted next UID\r\n* OK [HIGHESTMODSEQ \(bobShared.highestModSeq)] Highest\r\n"
                + "* OK [MAILBOXID (\(bobShared.guid))] Ok\r\nc4 OK [READ-WRITE] Select completed" + done)
        #expect(Self.send(alice, "c5 FETCH 1 (FLAGS)\r\n") == "* 1 FETCH (FLAGS (\\Recent))\r\nc5 OK Fetch completed" + done)
        // Only \Seen may change (s); \Flagged (w) is dropped.
        #expect(
            Self.send(alice, "c6 STORE 1 +FLAGS (\\Seen \\Flagged)\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\nc6 OK Store completed" + done)
        #expect(
            Self.send(alice, "c7 MYRIGHTS shared/bob/Shared\r\n")
                == "* MYRIGHTS shared/bob/Shared lrs\r\nc7 OK Myrights completed" + done)
        // Read without lookup: STATUS and EXAMINE work, LIST leaves it out (above).
        #expect(
            Self.send(alice, "c8 STATUS shared/bob/Shared/Sub (MESSAGES)\r\n")
                == "* STATUS shared/bob/Shared/Sub (MESSAGES 1)\r\nc8 OK Status completed" + done)
        #expect(Self.send(alice, "c9 EXAMINE shared/bob/Shared/Sub\r\n").contains("c9 OK [READ-ONLY] Examine completed"))
        #expect(
            Self.send(alice, "c10 SELECT shared/bob/Private\r\n")
                == "* OK [CLOSED] Previous mailbox closed.\r\n"
                + "c10 NO Mailbox doesn't exist: shared/bob/Private" + done)
        #expect(
            Self.send(alice, "c11 STATUS shared/bob/INBOX (MESSAGES UNSEEN)\r\n")
                == "* STATUS shared/bob/INBOX (MESSAGES 0 UNSEEN 0)\r\nc11 OK Status completed" + done)
        #expect(
            Self.send(alice, "c12 APPEND shared/bob/Shared {12+}\r\nSubject: z\r\n\r\n")
                == "c12 NO [NOPERM] Permission denied" + done)
        #expect(
            Self.send(alice, "c13 GETACL shared/bob/Shared\r\n")
                == "c13 NO [NOPERM] You lack administrator privileges on this mailbox" + done)
        #expect(
            Self.send(alice, "c16 SELECT shared/nobody/INBOX\r\n")
                == "c16 NO Mailbox doesn't exist: shared/nobody/INBOX" + done)
        #expect(Self.send(alice, "c17 MYRIGHTS shared/bob\r\n") == "* MYRIGHTS shared/bob lr\r\nc17 OK Myrights completed" + done)
        // The \Seen alice set is on bob's message (no INDEXPVT: flags are not private).
        let bobAfter = try MailStore(settings: MailStoreSettings(root: users.bobRoot, separator: "/"))
            .openMailbox("Shared", readOnly: true)
        #expect(bobAfter.messages.first?.flags.contains(.seen) == true)
    }

    /// Rights granted later apply at once; without l on the INBOX `shared/bob` is `\Noselect`, and with
    /// nothing visible bob is not listed at all.
    @Test func rightsDecideWhatIsListedAndAllowed() throws {
        let users = try Users()
        let bob = try bobShares(users)
        let alice = try users.session("alice")
        #expect(Self.send(bob, "x SETACL Shared alice lrwi\r\n") == "x OK Setacl complete" + done)
        #expect(Self.send(alice, "a APPEND shared/bob/Shared {12+}\r\nSubject: z\r\n\r\n").contains("a OK [APPENDUID"))
        #expect(Self.send(alice, "b SELECT INBOX\r\n").contains("b OK [READ-WRITE]"))
        #expect(Self.send(alice, "c APPEND INBOX {12+}\r\nSubject: w\r\n\r\n").contains("c OK [APPENDUID"))
        #expect(Self.send(alice, "d COPY 1 shared/bob/Shared\r\n").contains("d OK [COPYUID"))
        #expect(
            Self.send(alice, "e STATUS shared/bob/Shared (MESSAGES)\r\n")
                == "* STATUS shared/bob/Shared (MESSAGES 3)\r\ne OK Status completed" + done)
        #expect(Self.send(bob, "y DELETEACL INBOX alice\r\n") == "y OK Deleteacl complete" + done)
        #expect(
            Self.send(alice, "f LIST \"\" shared/*\r\n")
                == "* LIST (\\Noselect \\HasChildren) \"/\" shared/bob\r\n"
                + "* LIST (\\HasNoChildren) \"/\" shared/bob/Shared\r\nf OK List completed" + done)
        #expect(
            Self.send(alice, "g SELECT shared/bob\r\n")
                == "* OK [CLOSED] Previous mailbox closed.\r\ng NO Mailbox doesn't exist: shared/bob" + done)
        #expect(Self.send(bob, "z DELETEACL Shared alice\r\n") == "z OK Deleteacl complete" + done)
        #expect(
            Self.send(alice, "h LIST \"\" *\r\n") == "* LIST (\\HasNoChildren) \"/\" INBOX\r\nh OK List completed" + done)
        #expect(Self.send(alice, "i DELETE shared/bob/Shared\r\n") == "i NO [NONEXISTENT] Mailbox doesn't exist: shared/bob/Shared" + done)
    }

    /// INDEXPVT: alice's \Seen in bob's mailbox is her own, as in Dovecot 2.3.19 (transcript on loopback):
    /// every message starts unseen for her whatever bob's \Seen, her STORE of \Seen leaves bob's flags alone,
    /// and FETCH, SEARCH, STATUS and SELECT's [UNSEEN] all see her flags; the other flags stay bob's.
    @Test func privateSeenWithIndexPVT() throws {
        let users = try Users()
        let bob = try bobShares(users)
        #expect(Self.send(bob, "b1 SETACL Shared alice lrsw\r\n") == "b1 OK Setacl complete" + done)
        #expect(Self.send(bob, "b2 APPEND Shared (\\Seen) {12+}\r\nSubject: s\r\n\r\n").contains("b2 OK [APPENDUID"))
        let alice = try users.session("alice", privateSeen: true)
        #expect(Self.send(alice, "a1 SELECT shared/bob/Shared\r\n").contains("* OK [UNSEEN 1] First unseen.\r\n"))
        #expect(
            Self.send(alice, "a2 FETCH 1:* (FLAGS)\r\n")
                == "* 1 FETCH (FLAGS (\\Recent))\r\n* 2 FETCH (FLAGS (\\Recent))\r\na2 OK Fetch completed" + done)
        #expect(
            Self.send(alice, "a3 STORE 2 +FLAGS (\\Seen \\Flagged)\r\n")
                == "* 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent))\r\na3 OK Store completed" + done)
        #expect(Self.send(alice, "a4 SEARCH UNSEEN\r\n") == "* SEARCH 1\r\na4 OK Search completed" + done)
        #expect(Self.send(alice, "a5 SEARCH SEEN\r\n") == "* SEARCH 2\r\na5 OK Search completed" + done)
        #expect(
            Self.send(alice, "a6 STORE 1 FLAGS (\\Seen)\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\na6 OK Store completed" + done)
        #expect(Self.send(alice, "a7 STORE 1 -FLAGS (\\Seen)\r\n").contains("a7 OK Store completed"))
        // bob's own flags: his \Seen on 2 stays, alice's \Flagged is his (a shared flag), her \Seen is not.
        let bobView = try MailStore(settings: MailStoreSettings(root: users.bobRoot, separator: "/"))
            .openMailbox("Shared", readOnly: true)
        #expect(bobView.messages.map(\.flags) == [[], [.seen, .flagged]])
        #expect(
            Self.send(bob, "b3 STATUS Shared (MESSAGES UNSEEN)\r\n")
                == "* STATUS Shared (MESSAGES 2 UNSEEN 1)\r\nb3 OK Status completed" + done)
        // A new session of alice reads her flags back from tern.pvt under INDEXPVT.
        #expect(
            FileManager.default.fileExists(atPath: users.alicePrivate + "/.Shared/" + "tern.pvt"))
        let again = try users.session("alice", privateSeen: true)
        #expect(
            Self.send(again, "c1 STATUS shared/bob/Shared (MESSAGES UNSEEN)\r\n")
                == "* STATUS shared/bob/Shared (MESSAGES 2 UNSEEN 1)\r\nc1 OK Status completed" + done)
        #expect(Self.send(again, "c2 EXAMINE shared/bob/Shared\r\n").contains("* OK [UNSEEN 1] First unseen.\r\n"))
        #expect(
            Self.send(again, "c3 FETCH 1:* (FLAGS)\r\n")
                == "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Flagged \\Seen))\r\nc3 OK Fetch completed" + done)
        // The first session picks up the second's change at its next sync.
        #expect(Self.send(again, "c4 CLOSE\r\n").contains("c4 OK"))
        #expect(Self.send(again, "c5 SELECT shared/bob/Shared\r\n").contains("c5 OK"))
        #expect(
            Self.send(again, "c6 STORE 1 +FLAGS.SILENT (\\Seen)\r\n") == "c6 OK Store completed" + done)
        #expect(
            Self.send(alice, "a8 NOOP\r\n")
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\na8 OK NOOP completed" + done)
        // APPEND and COPY with \Seen: the flag is alice's, the others bob's (Dovecot 2.3.19 did the same).
        #expect(Self.send(bob, "b4 SETACL Shared alice lrswi\r\n") == "b4 OK Setacl complete" + done)
        let third = try users.session("alice", privateSeen: true)
        #expect(
            Self.send(third, "d1 APPEND shared/bob/Shared (\\Seen \\Flagged) {12+}\r\nSubject: n\r\n\r\n")
                .contains("d1 OK [APPENDUID"))
        #expect(Self.send(third, "d2 APPEND INBOX (\\Seen) {12+}\r\nSubject: o\r\n\r\n").contains("d2 OK [APPENDUID"))
        #expect(Self.send(third, "d3 SELECT INBOX\r\n").contains("d3 OK"))
        #expect(Self.send(third, "d4 COPY 1 shared/bob/Shared\r\n").contains("d4 OK [COPYUID"))
        #expect(Self.send(third, "d5 EXAMINE shared/bob/Shared\r\n").contains("d5 OK [READ-ONLY]"))
        #expect(
            Self.send(third, "d6 FETCH 3:4 (FLAGS)\r\n")
                == "* 3 FETCH (FLAGS (\\Flagged \\Seen \\Recent))\r\n* 4 FETCH (FLAGS (\\Seen \\Recent))\r\n"
                + "d6 OK Fetch completed" + done)
        let bobNow = try MailStore(settings: MailStoreSettings(root: users.bobRoot, separator: "/"))
            .openMailbox("Shared", readOnly: true)
        #expect(bobNow.messages.map(\.flags) == [[], [.seen, .flagged], [.flagged], []])
    }

    /// SUBSCRIBE to another user's mailboxes (`subscriptions = no`: they go to alice's own file): the file,
    /// LSUB and LIST (SUBSCRIBED) as Dovecot 2.3.19 wrote and answered them (`shared/bob` is written
    /// `shared/bob/INBOX`; no children attributes; nothing for `%` above the owner level).
    @Test func subscriptionsToSharedMailboxesAsDovecot() throws {
        let users = try Users()
        _ = try bobShares(users)
        let alice = try users.session("alice")
        #expect(Self.send(alice, "a1 SUBSCRIBE shared/bob/Shared\r\n") == "a1 OK Subscribe completed" + done)
        #expect(Self.send(alice, "a2 SUBSCRIBE shared/bob\r\n") == "a2 OK Subscribe completed" + done)
        let file = try String(contentsOfFile: users.aliceRoot + "/subscriptions", encoding: .utf8)
        #expect(file == "V\t2\n\nshared/bob/Shared\nshared/bob/INBOX\n")
        #expect(
            Self.send(alice, "a3 LSUB \"\" *\r\n")
                == "* LSUB () \"/\" shared/bob/Shared\r\n* LSUB () \"/\" shared/bob\r\na3 OK Lsub completed" + done)
        #expect(
            Self.send(alice, "a4 LIST (SUBSCRIBED) \"\" *\r\n")
                == "* LIST (\\Subscribed) \"/\" shared/bob/Shared\r\n* LIST (\\Subscribed) \"/\" shared/bob\r\n"
                + "a4 OK List completed" + done)
        #expect(Self.send(alice, "a5 LSUB \"\" %\r\n") == "a5 OK Lsub completed" + done)
        #expect(
            Self.send(alice, "a6 LSUB \"\" shared/%\r\n")
                == "* LSUB () \"/\" shared/bob\r\na6 OK Lsub completed" + done)
        #expect(Self.send(alice, "a7 UNSUBSCRIBE shared/bob\r\n") == "a7 OK Unsubscribe completed" + done)
        #expect(
            try String(contentsOfFile: users.aliceRoot + "/subscriptions", encoding: .utf8)
                == "V\t2\n\nshared/bob/Shared\n")
    }

    /// APPEND and COPY into another user's mailbox count on the owner's usage (bob's maildirsize) against the
    /// session user's limits: what Dovecot 2.3.19 did with quota = maildir (alice's own usage and bob's limits
    /// play no part).
    @Test func quotaOfSavesIntoSharedMailboxes() throws {
        let users = try Users()
        let bob = try bobShares(users, quota: ["quota": "maildir:User quota", "quota_rule": "*:messages=10"])
        #expect(Self.send(bob, "b1 SETACL Shared alice lrsi\r\n") == "b1 OK Setacl complete" + done)
        let alice = try users.session("alice", quota: ["quota": "maildir:User quota", "quota_rule": "*:messages=2"])
        // bob has 2 messages (1 in Shared, 1 in Shared/Sub): at alice's limit.
        #expect(
            Self.send(alice, "a1 APPEND shared/bob/Shared {12+}\r\nSubject: z\r\n\r\n")
                == "a1 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)" + done)
        #expect(Self.send(alice, "a2 APPEND INBOX {12+}\r\nSubject: w\r\n\r\n").contains("a2 OK [APPENDUID"))
        #expect(Self.send(alice, "a3 APPEND INBOX {12+}\r\nSubject: w\r\n\r\n").contains("a3 OK [APPENDUID"))
        #expect(Self.send(alice, "a4 SELECT INBOX\r\n").contains("a4 OK"))
        #expect(
            Self.send(alice, "a5 COPY 1 shared/bob/Shared\r\n")
                == "a5 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)" + done)
        // Below alice's limit on bob's usage, the save counts in bob's maildirsize.
        #expect(Self.send(bob, "b2 SELECT Shared/Sub\r\n").contains("b2 OK"))
        #expect(Self.send(bob, "b3 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n").contains("b3 OK"))
        #expect(Self.send(bob, "b4 EXPUNGE\r\n").contains("b4 OK"))
        #expect(Self.send(alice, "a6 COPY 1 shared/bob/Shared\r\n").contains("a6 OK [COPYUID"))
        let usage = try MailQuota(
            settings: #require(try QuotaSettings.parse(["quota": "maildir:User quota", "quota_rule": "*:messages=10"])),
            store: MailStore(settings: MailStoreSettings(root: users.bobRoot, separator: "/"))
        ).usage()
        #expect(usage.messages == 2)
    }
}
