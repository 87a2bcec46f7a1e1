import TernIMAP
import TernMailbox
import Testing

@Suite struct IMAPMailSessionIdleTests {
    @Test func idleReportsNewMailOnPoll() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(f.send("a IDLE\r\n") == "+ idling\r\n")
        #expect(f.session.isIdling)
        #expect(f.session.poll() == [])
        try f.deliver("Subject: late\n\nnew\n", name: "2000.M1P1.host")
        #expect(String(decoding: f.session.poll(), as: UTF8.self) == "* 4 EXISTS\r\n* 4 RECENT\r\n")
        #expect(f.send("DO") == "")
        #expect(f.send("NE\r\n") == "a OK Idle completed" + done)
        #expect(!f.session.isIdling)
    }

    @Test func idleNeedsDone() throws {
        let f = try SessionFixture()
        #expect(f.send("a IDLE\r\nNOTDONE\r\n") == "+ idling\r\na BAD Expected DONE" + done)
    }

    @Test func updatesWaitForACommandThatAllowsThem() throws {
        let f = try SessionFixture()
        try f.selectThree()
        try f.deliver("Subject: late\n\nnew\n", name: "2000.M1P1.host")
        #expect(f.session.poll() == [])
        // FETCH may not report changes (no EXPUNGE during FETCH); NOOP does.
        #expect(f.send("a FETCH 1 UID\r\n") == "* 1 FETCH (UID 1)\r\na OK Fetch completed" + done)
        #expect(f.send("b NOOP\r\n") == "* 4 EXISTS\r\n* 4 RECENT\r\nb OK NOOP completed" + done)
    }

    @Test func expungeByAnotherSessionIsReported() throws {
        let f = try SessionFixture()
        try f.selectThree()
        let other = try f.store.openMailbox("INBOX")
        try other.expunge(uids: [2])
        #expect(f.send("a NOOP\r\n") == "* 2 EXPUNGE\r\n* 2 RECENT\r\na OK NOOP completed" + done)
    }

    /// Dovecot's order (imap-sync.c): flag FETCHes, numbered as the client knew the messages, then EXPUNGE,
    /// EXISTS and RECENT (only when the count changed); in IDLE as after NOOP.
    @Test func flagFetchesComeBeforeExpungesAndExists() throws {
        let f = try SessionFixture()
        try f.selectThree()
        let other = try f.store.openMailbox("INBOX")
        try other.updateFlags(uids: [3], .add, flags: .flagged)
        _ = try other.expunge(uids: [2])
        try f.deliver("Subject: late\n\nnew\n", name: "2000.M1P1.host")
        #expect(
            f.send("a NOOP\r\n")
                == "* 3 FETCH (FLAGS (\\Flagged \\Recent))\r\n* 2 EXPUNGE\r\n* 3 EXISTS\r\na OK NOOP completed" + done)
        #expect(f.send("b IDLE\r\n") == "+ idling\r\n")
        try other.updateFlags(uids: [1], .add, flags: .seen)
        try f.deliver("Subject: later\n\nnew\n", name: "2001.M1P1.host")
        #expect(
            String(decoding: f.session.poll(), as: UTF8.self)
                == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n* 4 EXISTS\r\n* 4 RECENT\r\n")
    }
}
