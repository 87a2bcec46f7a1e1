import Foundation
import Synchronization
import TernIMAP
import TernMailbox
import Testing

/// RFC 5465 NOTIFY and IDLE's keepalive, with the replies a real Dovecot 2.3.19.1 gave on loopback.
@Suite struct IMAPMailSessionNotifyTests {
    /// Client line and Dovecot's tagged reply (no mailbox selected, no other mailboxes).
    static let replies: [(client: String, server: String)] = [
        ("b NOTIFY NONE", "b OK NOTIFY completed"),
        // RFC 5465 §3's examples leave out the parentheses the grammar requires; Dovecot refuses them.
        ("c NOTIFY SET (selected MessageNew MessageExpunge)", "c BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("d NOTIFY SET (selected (MessageNew MessageExpunge))", "d OK NOTIFY completed"),
        ("f NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))", "f OK NOTIFY completed"),
        (
            "g NOTIFY SET (selected (AnnotationChange))",
            "g BAD Error in IMAP command NOTIFY: FlagChange requires MessageNew and MessageExpunge"
        ),
        ("h NOTIFY SET (personal (MailboxName))", "h OK NOTIFY completed"),
        (
            "m NOTIFY SET (inboxes (MessageNew MessageExpunge)) (subscribed (MailboxName SubscriptionChange))",
            "m OK NOTIFY completed"
        ),
        ("o NOTIFY SET (selected (FooBar))", "o BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("p NOTIFY SET (foo (MessageNew MessageExpunge))", "p BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("q NOTIFY SET (subtree INBOX (MessageNew MessageExpunge))", "q OK NOTIFY completed"),
        ("r NOTIFY SET (mailboxes (INBOX foo) (MessageNew MessageExpunge))", "r OK NOTIFY completed"),
        ("s NOTIFY SET (selected-delayed (MessageNew MessageExpunge))", "s OK NOTIFY completed"),
        (
            "t NOTIFY SET (selected (MailboxMetadataChange ServerMetadataChange))",
            "t NO [BADEVENT MailboxMetadataChange ServerMetadataChange] Unsupported NOTIFY events"
        ),
        ("v NOTIFY SET", "v OK NOTIFY completed"),
        ("w NOTIFY", "w BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("x NOTIFY SET (selected NONE)", "x OK NOTIFY completed"),
        ("y NOTIFY SET (personal NONE)", "y OK NOTIFY completed"),
        (
            "z NOTIFY SET (selected (MessageNew MessageExpunge)) (selected (FlagChange))",
            "z BAD Error in IMAP command NOTIFY: Duplicate selected filter"
        ),
        (
            "d NOTIFY SET (selected (MessageNew (FOO) MessageExpunge))",
            "d BAD Error in IMAP command NOTIFY: Invalid fetch-att list: Unknown parameter: FOO"
        ),
        ("e NOTIFY SET (selected (MessageNew (UID BODY[]<0.10> ENVELOPE) MessageExpunge))", "e OK NOTIFY completed"),
        ("f NOTIFY SET STATUS", "f OK NOTIFY completed"),
        ("g NOTIFY SET (personal ())", "g BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("h NOTIFY SET (subtree (MessageNew))", "h BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("i NOTIFY FOO", "i BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("j NOTIFY SET (personal (AnnotationChange))", "j NO [BADEVENT AnnotationChange] Unsupported NOTIFY events"),
        (
            "k NOTIFY SET (personal (MessageNew AnnotationChange ServerMetadataChange))",
            "k NO [BADEVENT AnnotationChange ServerMetadataChange] Unsupported NOTIFY events"
        ),
        ("l NOTIFY SET (personal (MessageNew FooEvent))", "l BAD Error in IMAP command NOTIFY: Invalid arguments"),
        (
            "m NOTIFY SET (selected (MessageNew MessageExpunge) extra)",
            "m BAD Error in IMAP command NOTIFY: Invalid arguments"
        ),
        ("n NOTIFY SET (selected (MessageNew MessageExpunge)", "n BAD Error in IMAP command NOTIFY: Missing ')'"),
        (
            "o NOTIFY SET (selected (MessageNew))",
            "o BAD Error in IMAP command NOTIFY: MessageNew and MessageExpunge must be together"
        ),
        (
            "p NOTIFY SET (selected (FlagChange MessageExpunge))",
            "p BAD Error in IMAP command NOTIFY: MessageNew and MessageExpunge must be together"
        ),
        (
            "q NOTIFY SET (selected (FlagChange))",
            "q BAD Error in IMAP command NOTIFY: FlagChange requires MessageNew and MessageExpunge"
        ),
        ("x notify set (Personal (messagenew messageexpunge))", "x OK NOTIFY completed"),
        ("y NOTIFY SET (mailboxes \"\" (MessageNew))", "y OK NOTIFY completed"),
        ("z NOTIFY SET (selected (MessageNew (UID) MessageNew (FLAGS) MessageExpunge))", "z OK NOTIFY completed"),
        ("a NOTIFY SET (selected (MessageNew (UID", "a BAD Error in IMAP command NOTIFY: Missing ')'"),
        ("b NOTIFY SET (subtree () (MessageNew))", "b BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("c NOTIFY SET (personal (MessageNew)) extra", "c BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("d NOTIFY SET STATUS extra", "d BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("e NOTIFY SET ()", "e BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("f NOTIFY SET (selected)", "f BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("g NOTIFY SET (selected ())", "g BAD Error in IMAP command NOTIFY: Invalid arguments"),
        ("h NOTIFY SET (personal (MessageNew)", "h BAD Error in IMAP command NOTIFY: Missing ')'"),
        ("i NOTIFY SET (mailboxes \"INBOX\" (MessageNew MailboxName))", "i OK NOTIFY completed"),
        ("j NOTIFY NONE extra", "j OK NOTIFY completed"),
        ("k NOTIFY SET (selected (MessageNew (UID) MessageExpunge)", "k BAD Error in IMAP command NOTIFY: Missing ')'"),
        (
            "l NOTIFY SET (selected (MessageNew MessageExpunge FlagChange AnnotationChange))",
            "l NO [BADEVENT AnnotationChange] Unsupported NOTIFY events"
        ),
    ]

    @Test(arguments: replies.indices) func dovecotReplies(_ index: Int) throws {
        let f = try SessionFixture()
        let (client, server) = Self.replies[index]
        #expect(f.send(client + "\r\n") == server + done, "\(client)")
    }

    /// Dovecot's IMAP_NOTIFY_MAX_NAMES_PER_NS: 100 names in one filter are fine, 101 overflow.
    @Test func tooManyMailboxNames() throws {
        let f = try SessionFixture()
        let names = (0..<101).map { "m\($0)" }
        #expect(
            f.send("a NOTIFY SET (mailboxes (\(names.joined(separator: " "))) (MessageNew))\r\n")
                == "a NO [NOTIFICATIONOVERFLOW] Too many mailbox names" + done)
        #expect(
            f.send("b NOTIFY SET (mailboxes (\(names.dropLast().joined(separator: " "))) (MessageNew))\r\n")
                == "b OK NOTIFY completed" + done)
    }

    /// NOTIFY SET STATUS answers for the covered mailboxes but the selected one; HIGHESTMODSEQ only when
    /// FlagChange is asked for.
    @Test func statusBeforeTheReply() throws {
        let f = try SessionFixture()
        f.send("a CREATE foo\r\n")
        try f.deliver("Subject: x\n\nbody\n", name: "1.M1P1.host", folder: "foo")
        let validity = try f.uidValidity("foo")
        let inbox = try f.uidValidity()
        #expect(
            f.send("b NOTIFY SET STATUS (mailboxes (INBOX foo) (MessageNew MessageExpunge))\r\n")
                == "* STATUS INBOX (MESSAGES 0 UIDNEXT 1 UIDVALIDITY \(inbox) UNSEEN 0)\r\n"
                + "* STATUS foo (MESSAGES 1 UIDNEXT 2 UIDVALIDITY \(validity) UNSEEN 1)\r\nb OK NOTIFY completed" + done
        )
        f.send("c SELECT INBOX\r\n")
        let modSeq = try f.store.openMailbox("foo", readOnly: true).highestModSeq
        #expect(
            f.send("d NOTIFY SET STATUS (personal (FlagChange))\r\n")
                == "* STATUS foo (MESSAGES 1 UIDNEXT 2 UIDVALIDITY \(validity) UNSEEN 1 HIGHESTMODSEQ \(modSeq))\r\n"
                + "d OK NOTIFY completed" + done)
    }

    /// A delivery into another mailbox is a STATUS the next time the driver polls, with no command running;
    /// a \Seen change in it is `UNSEEN` alone; an expunge counts again.
    @Test func otherMailboxEventsAreStatus() throws {
        let f = try SessionFixture()
        f.send("a CREATE foo\r\n")
        try f.selectThree()
        #expect(
            f.send("b NOTIFY SET (personal (MessageNew MessageExpunge FlagChange))\r\n") == "b OK NOTIFY completed"
                + done)
        #expect(f.session.poll() == [])
        try f.deliver("Subject: x\n\nbody\n", name: "1.M1P1.host", folder: "foo")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* STATUS foo (MESSAGES 1 UIDNEXT 2 UNSEEN 1)\r\n")
        let foo = try f.store.openMailbox("foo")
        try foo.updateFlags(uids: [1], .add, flags: .seen, keywords: [])
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* STATUS foo (UNSEEN 0)\r\n")
        try foo.expunge(uids: [1])
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* STATUS foo (MESSAGES 0 UIDNEXT 2 UNSEEN 0)\r\n")
        // The selected mailbox's own changes are not STATUS (and with no selected filter, not EXISTS either).
        try f.deliver("Subject: y\n\nbody\n", name: "2.M1P1.host")
        #expect(f.session.poll() == [])
        #expect(f.send("c NOOP\r\n") == "c OK NOOP completed" + done)
    }

    /// MessageNew alone does not report expunges or flag changes.
    @Test func onlyTheEventsAskedFor() throws {
        let f = try SessionFixture()
        f.send("a CREATE foo\r\n")
        try f.deliver("Subject: x\n\nbody\n", name: "1.M1P1.host", folder: "foo")
        f.send("b NOTIFY SET (mailboxes foo (MessageNew))\r\n")
        let foo = try f.store.openMailbox("foo")
        try foo.updateFlags(uids: [1], .add, flags: .seen, keywords: [])
        #expect(f.session.poll() == [])
        try foo.expunge(uids: [1])
        #expect(f.session.poll() == [])
        try f.deliver("Subject: y\n\nbody\n", name: "2.M1P1.host", folder: "foo")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* STATUS foo (MESSAGES 1 UIDNEXT 3 UNSEEN 1)\r\n")
    }

    /// RFC 5465 §5: no events about mailboxes the ACL hides. Without the lookup right a mailbox gets none at
    /// all (not even MailboxName or SubscriptionChange); without the read right no STATUS (also not for
    /// NOTIFY SET STATUS).
    @Test func eventsNeedTheRights() throws {
        let f = try SessionFixture(acl: ACLSettings())
        for name in ["foo", "hidden", "noread"] { f.send("a CREATE \(name)\r\n") }
        try Data("owner rwstipekxa\n".utf8).write(to: URL(fileURLWithPath: f.root + "/.hidden/dovecot-acl"))
        try Data("owner lwstipekxa\n".utf8).write(to: URL(fileURLWithPath: f.root + "/.noread/dovecot-acl"))
        #expect(
            f.send("b NOTIFY SET STATUS (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))\r\n")
                == "* STATUS INBOX (MESSAGES 0 UIDNEXT 1 UIDVALIDITY \(try f.uidValidity()) UNSEEN 0)\r\n"
                + "* STATUS foo (MESSAGES 0 UIDNEXT 1 UIDVALIDITY \(try f.uidValidity("foo")) UNSEEN 0)\r\n"
                + "b OK NOTIFY completed" + done)
        for (index, name) in ["foo", "hidden", "noread"].enumerated() {
            try f.deliver("Subject: x\n\nbody\n", name: "\(index).M1P1.host", folder: name)
        }
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* STATUS foo (MESSAGES 1 UIDNEXT 2 UNSEEN 1)\r\n")
        try f.store.subscribe("hidden")
        try f.store.subscribe("noread")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST (\\Subscribed) \"/\" noread\r\n")
        // A new mailbox whose ACL leaves out the lookup right is not announced, nor its removal.
        try f.store.createMailbox("hid2")
        try Data("owner rwstipekxa\n".utf8).write(to: URL(fileURLWithPath: f.root + "/.hid2/dovecot-acl"))
        try f.store.createMailbox("bar")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST () \"/\" bar\r\n")
        try f.store.deleteMailbox("hid2")
        #expect(f.session.poll() == [])
    }

    /// MailboxName and SubscriptionChange as Dovecot words them: a new mailbox `()`, a deleted one
    /// `(\NonExistent)`, a renamed one with OLDNAME, a subscription `(\Subscribed)`, its removal `()`.
    @Test func mailboxNameAndSubscriptionChange() throws {
        let f = try SessionFixture()
        f.send("a CREATE foo\r\n")
        #expect(
            f.send("b NOTIFY SET (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))\r\n")
                == "b OK NOTIFY completed" + done)
        try f.store.createMailbox("bar")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST () \"/\" bar\r\n")
        try f.store.subscribe("bar")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST (\\Subscribed) \"/\" bar\r\n")
        try f.store.unsubscribe("bar")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST () \"/\" bar\r\n")
        try f.store.renameMailbox("foo", to: "foo2")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST () \"/\" foo2 (\"OLDNAME\" (foo))\r\n")
        try f.store.deleteMailbox("bar")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST (\\NonExistent) \"/\" bar\r\n")
        // The session's own commands are reported too (Dovecot sees its own list index change).
        f.send("c CREATE a/b\r\n")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST () \"/\" a\r\n* LIST () \"/\" a/b\r\n")
    }

    /// RFC 5465 §5.4: a rename is `* LIST () "/" new ("OLDNAME" (old))` with MailboxName alone (no message
    /// event follows the mailbox), for the session's own RENAME, another's, and the selected mailbox.
    @Test func renameWithMailboxNameAlone() throws {
        let f = try SessionFixture()
        f.send("a CREATE foo\r\n")
        f.send("b CREATE sel\r\n")
        f.send("s SELECT sel\r\n")
        #expect(f.send("c NOTIFY SET (personal (MailboxName))\r\n") == "c OK NOTIFY completed" + done)
        #expect(f.send("d RENAME foo bar\r\n") == "d OK Rename completed" + done)
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST () \"/\" bar (\"OLDNAME\" (foo))\r\n")
        try f.store.renameMailbox("bar", to: "baz")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST () \"/\" baz (\"OLDNAME\" (bar))\r\n")
        try f.store.renameMailbox("sel", to: "sel2")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* LIST () \"/\" sel2 (\"OLDNAME\" (sel))\r\n")
    }

    /// The selected filter with a fetch-att list: new messages are pushed at once as EXISTS and FETCH, flag
    /// changes as FETCH FLAGS, expunges as EXPUNGE (Dovecot's transcript: `* 1 EXISTS`,
    /// `* 1 FETCH (UID 1 FLAGS (\Seen))`, `* 1 EXPUNGE`).
    @Test func selectedMailboxPushesWithFetch() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(
            f.send("b NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))\r\n")
                == "b OK NOTIFY completed" + done)
        try f.deliver("Subject: late\n\nnew\n", name: "2000.M1P1.host")
        #expect(
            String(decoding: f.session.poll(), as: UTF8.self)
                == "* 4 EXISTS\r\n* 4 RECENT\r\n* 4 FETCH (UID 4 FLAGS (\\Recent))\r\n")
        let other = try f.store.openMailbox("INBOX")
        try other.updateFlags(uids: [1], .add, flags: .flagged, keywords: [])
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\n")
        try other.expunge(uids: [2])
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* 2 EXPUNGE\r\n* 3 RECENT\r\n")
    }

    /// RFC 5465 §5.1 `selected-delayed`: between commands only expunges wait. Dovecot 2.3.19's transcript
    /// (another session expunged UID 1, flagged UID 2 and appended UID 4): the flag change and the new message
    /// come with UID 1 still number 1, and `* 1 EXPUNGE` only at the NOOP.
    @Test func selectedDelayedHoldsOnlyExpunges() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("b NOTIFY SET (selected-delayed (MessageNew (UID) MessageExpunge FlagChange))\r\n")
        let other = try f.store.openMailbox("INBOX")
        try other.expunge(uids: [1])
        #expect(f.session.poll() == [])
        try other.updateFlags(uids: [2], .add, flags: .flagged, keywords: [])
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\n")
        try f.deliver("Subject: late\n\nnew\n", name: "2000.M1P1.host")
        #expect(
            String(decoding: f.session.poll(), as: UTF8.self) == "* 4 EXISTS\r\n* 4 RECENT\r\n* 4 FETCH (UID 4)\r\n")
        #expect(f.send("d NOOP\r\n") == "* 1 EXPUNGE\r\n* 3 RECENT\r\nd OK NOOP completed" + done)
        #expect(f.send("e FETCH 1 UID\r\n") == "* 1 FETCH (UID 2)\r\ne OK Fetch completed" + done)
    }

    /// The same with QRESYNC: the held expunge goes out as VANISHED at the next command.
    @Test func selectedDelayedHoldsVanished() throws {
        let f = try SessionFixture()
        try f.selectThree()
        f.send("a ENABLE QRESYNC\r\n")
        f.send("b NOTIFY SET (selected-delayed (MessageNew MessageExpunge))\r\n")
        let other = try f.store.openMailbox("INBOX")
        try other.expunge(uids: [2])
        #expect(f.session.poll() == [])
        #expect(f.send("d NOOP\r\n").hasPrefix("* VANISHED 2\r\n"))
    }

    /// NOTIFY NONE (or no selected filter) stops EXISTS, RECENT and EXPUNGE for the selected mailbox, even on
    /// NOOP, as Dovecot 2.3 does (its transcript: NOOP answers with the tagged OK alone).
    @Test func notifyNoneSilencesTheSelectedMailbox() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(f.send("b NOTIFY NONE\r\n") == "b OK NOTIFY completed" + done)
        try f.deliver("Subject: late\n\nnew\n", name: "2000.M1P1.host")
        let other = try f.store.openMailbox("INBOX")
        try other.expunge(uids: [1])
        #expect(f.send("c NOOP\r\n") == "c OK NOOP completed" + done)
        #expect(f.session.poll() == [])
    }

    /// RFC 5465 §7's first example, with the parentheses its grammar requires: STATUS for the Lists subtree
    /// first, then a new INBOX message comes with the header fields asked for.
    @Test func rfcExampleStatusAndNewMessageHeaders() throws {
        let f = try SessionFixture()
        f.send("a CREATE Lists/ietf\r\n")
        try f.deliver("Subject: list\n\nbody\n", name: "1.M1P1.host", folder: "Lists.ietf")
        try f.selectThree()
        let validity = try f.uidValidity("Lists/ietf")
        #expect(
            f.send(
                "b notify set status (selected (MessageNew (uid body.peek[header.fields (from to subject)]) "
                    + "MessageExpunge)) (subtree Lists (MessageNew))\r\n")
                == "* STATUS Lists/ietf (MESSAGES 1 UIDNEXT 2 UIDVALIDITY \(validity) UNSEEN 1)\r\n"
                + "b OK NOTIFY completed" + done)
        try f.deliver("From: Ann <ann@example.org>\nTo: bob@example.org\nSubject: hi\n\nnew\n", name: "2000.M1P1.host")
        let header = "From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\n"
        #expect(
            String(decoding: f.session.poll(), as: UTF8.self)
                == "* 4 EXISTS\r\n* 4 RECENT\r\n* 4 FETCH (UID 4 BODY[HEADER.FIELDS (FROM TO SUBJECT)] {\(header.utf8.count)}\r\n"
                + header + ")\r\n")
        try f.deliver("Subject: two\n\nbody\n", name: "2.M1P1.host", folder: "Lists.ietf")
        #expect(
            String(decoding: f.session.poll(), as: UTF8.self)
                == "* STATUS Lists/ietf (MESSAGES 2 UIDNEXT 3 UNSEEN 2)\r\n")
    }

    /// IDLE's `* OK Still here` every imap_idle_notify_interval (Dovecot's transcript with 5 secs: three in
    /// 12.5 seconds of IDLE).
    @Test func idleKeepalive() throws {
        let now = Mutex(0.0)
        let f = try SessionFixture(clock: { now.withLock { $0 } }, idleNotifyInterval: 5)
        try f.selectThree()
        #expect(f.send("a IDLE\r\n") == "+ idling\r\n")
        now.withLock { $0 = 4 }
        #expect(f.session.poll() == [])
        now.withLock { $0 = 5 }
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* OK Still here\r\n")
        now.withLock { $0 = 9 }
        #expect(f.session.poll() == [])
        now.withLock { $0 = 10.2 }
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* OK Still here\r\n")
        #expect(f.send("DONE\r\n").hasPrefix("a OK Idle completed"))
        now.withLock { $0 = 100 }
        #expect(f.session.poll() == [])
    }
}
