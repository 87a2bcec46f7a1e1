import Testing

@testable import TernDelivery

@Suite struct MailSessionTests {
    private func message(_ from: String, _ subject: String?, status: String? = nil, size: Int = 406, lines: Int = 14)
        -> FolderMessage
    {
        FolderMessage(
            fromLine: "From \(from)  Mon Nov 30 10:00:00 2026", offset: 0, size: size, lines: lines, contentStart: 0,
            headerEnd: 0, from: nil, subject: subject, status: status)
    }

    private var three: [FolderMessage] {
        var first = message("alice@example.com", "First message")
        first.from = "Alice Example <alice@example.com>"
        var third = message("MAILER-DAEMON", nil, size: 150, lines: 6)
        third.from = "Mail Delivery System <MAILER-DAEMON@host>"
        return [
            first, message("bob@example.org", String(repeating: "x", count: 90), status: "RO", size: 289, lines: 12),
            third,
        ]
    }

    @Test func summaryLinesMatchBsdMailx() {
        let session = MailSession(messages: three, isSystemMailbox: true)
        #expect(session.announcement(name: "/var/mail/nobody") == "\"/var/mail/nobody\": 3 messages 2 new")
        #expect(
            session.headerLine(0, width: 80) == ">N  1 alice@example.com  Mon Nov 30 10:00   14/406   First message")
        #expect(
            session.headerLine(1, width: 80) == "    2 bob@example.org    Mon Nov 30 10:00   12/289   "
                + String(repeating: "x", count: 27))
        #expect(session.headerLine(2, width: 80) == " N  3 MAILER-DAEMON@hos  Mon Nov 30 10:00    6/150   ")
    }

    @Test func messageListsResolveLikeMailx() {
        var session = MailSession(messages: three, isSystemMailbox: false)
        #expect(session.messageList(["1-2"]) == .success([0, 1]))
        #expect(session.messageList(["*"]) == .success([0, 1, 2]))
        #expect(session.messageList(["$", "^"]) == .success([0, 2]))
        #expect(session.messageList(["bob"]) == .success([1]))
        #expect(session.messageList(["/first"]) == .success([0]))
        #expect(session.messageList(["9"]) == .failure(.invalidNumber("9")))
        #expect(session.messageList(["abc"]) == .failure(.noneMatching("abc")))
        session.delete([0])
        #expect(session.dot == 1)
        #expect(session.messageList(["1"]) == .failure(.inappropriate(1)))
        #expect(session.messageList([], deleted: true) == .success([0]))
        #expect(session.messageList(["*"]) == .success([1, 2]))
    }

    @Test func nextStartsAtDotThenSkipsDeletedAndSaved() {
        var session = MailSession(messages: three, isSystemMailbox: false)
        #expect(session.nextMessage(nil) == 0)
        session.sawCommand = true
        session.markSaved([1])
        #expect(session.nextMessage(nil) == 2)
        #expect(session.nextMessage([0, 1]) == 1, "with a list: the first one after dot")
        session.dot = 2
        #expect(session.nextMessage(nil) == nil)
        #expect(session.previousMessage() == 1)
    }

    @Test func quitMovesReadMessagesToMboxOnlyForTheSystemMailbox() {
        var system = MailSession(messages: three, isSystemMailbox: true)
        system.touch(0)
        system.markSaved([2])
        let plan = system.quitPlan()
        #expect(plan.toMbox.map(\.index) == [0])
        #expect(plan.toMbox.map(\.status) == ["RO"])
        #expect(plan.kept.map(\.index) == [1], "untouched messages stay; saved ones leave")
        #expect(plan.changed)

        var folder = MailSession(messages: three, isSystemMailbox: false)
        folder.touch(0)
        folder.markSaved([2])
        let kept = folder.quitPlan()
        #expect(kept.toMbox.isEmpty)
        #expect(kept.kept.map(\.index) == [0, 1, 2])
        #expect(kept.kept.map(\.status) == ["RO", "RO", "RO"])
    }

    @Test func unchangedFolderIsLeftAlone() {
        let session = MailSession(
            messages: [message("a", "s", status: "O"), message("b", "t", status: "RO")], isSystemMailbox: false)
        #expect(!session.quitPlan().changed)
        #expect(session.dot == 0, "no new message: dot is the first unread one")
    }

    @Test func addressesAreSkinnedLikeMailx() {
        #expect(MailAddressText.skin("Alice <alice@example.com>") == "alice@example.com")
        #expect(MailAddressText.skin("bob@example.org (Bob)") == "bob@example.org")
        #expect(
            MailAddressText.fromLineDate("From MAILER-DAEMON  Tue Dec  1 09:05:00 2026") == "Tue Dec  1 09:05:00 2026")
    }
}
