import TernIMAP
import TernMailbox
import Testing

@Suite struct IMAPMailSessionBasicTests {
    @Test func loggedInCarriesTheCapabilities() throws {
        let f = try SessionFixture()
        let line = String(decoding: f.session.loggedIn(tag: "a"), as: UTF8.self)
        #expect(line == "a OK [CAPABILITY " + IMAPReplyText.postLoginCapabilities.joined(separator: " ") + "] Logged in\r\n")
    }

    @Test func anyStateCommands() throws {
        let f = try SessionFixture()
        #expect(
            f.send("b CAPABILITY\r\n")
                == "* CAPABILITY " + IMAPReplyText.postLoginCapabilities.joined(separator: " ") + "\r\n"
                + "b OK Capability completed" + done)
        #expect(f.send("c NOOP\r\n") == "c OK NOOP completed" + done)
        #expect(f.send("d ID NIL\r\n") == "* ID (\"name\" \"Dovecot\")\r\nd OK ID completed" + done)
        #expect(f.send("e NAMESPACE\r\n") == "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\ne OK Namespace completed" + done)
        #expect(f.send("f ENABLE CONDSTORE FOO\r\n") == "* ENABLED CONDSTORE\r\nf OK Enabled" + done)
    }

    @Test func logoutSaysByeAndCloses() throws {
        let f = try SessionFixture()
        let output = f.session.receive(Array("z LOGOUT\r\n".utf8))
        #expect(String(decoding: output.bytes, as: UTF8.self) == "* BYE Logging out\r\nz OK Logout completed" + done)
        #expect(output.close)
        #expect(f.session.statistics.inBytes == 10)
        #expect(f.session.statistics.outBytes == output.bytes.count)
    }

    @Test func preLoginCommandsAreUnknownAfterLogin() throws {
        let f = try SessionFixture()
        #expect(f.send("a LOGIN x y\r\n") == "a BAD Error in IMAP command LOGIN: Unknown command" + done)
        #expect(f.send("b AUTHENTICATE PLAIN\r\n") == "b BAD Error in IMAP command AUTHENTICATE: Unknown command" + done)
        #expect(f.send("c STARTTLS\r\n") == "c BAD Error in IMAP command STARTTLS: Unknown command" + done)
        #expect(f.send("d FOO\r\n") == "d BAD Error in IMAP command FOO: Unknown command" + done)
    }

    @Test func selectedStateCommandsNeedAMailbox() throws {
        let f = try SessionFixture()
        for command in ["FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "SEARCH ALL", "EXPUNGE", "CLOSE", "CHECK", "UNSELECT",
            "COPY 1 INBOX", "MOVE 1 INBOX", "UID EXPUNGE 1"]
        {
            #expect(f.send("t \(command)\r\n") == "t BAD No mailbox selected" + done)
        }
    }

    @Test func parserErrorsAreDovecotsTexts() throws {
        let f = try SessionFixture()
        try f.selectThree()
        #expect(f.send("a FETCH x FLAGS\r\n") == "a BAD Error in IMAP command FETCH: Invalid messageset" + done)
        #expect(f.send("b FETCH 4 FLAGS\r\n") == "b BAD Error in IMAP command FETCH: Invalid messageset" + done)
        #expect(f.send("c STORE 9 +FLAGS (\\Seen)\r\n") == "c BAD Error in IMAP command STORE: Invalid messageset" + done)
        #expect(f.send("\r\n") == "* BAD Error in IMAP tag: Invalid tag" + done)
    }

    @Test func literalTooLargeEndsTheSession() throws {
        let f = try SessionFixture()
        let output = f.session.receive(Array("a SELECT {999999999}\r\n".utf8))
        #expect(String(decoding: output.bytes, as: UTF8.self) == "* BYE Literal size too large\r\n")
        #expect(output.close)
    }

    @Test func tooManyBadCommandsEndTheSession() throws {
        let f = try SessionFixture()
        let output = f.send(String(repeating: "a FOO\r\n", count: 20))
        #expect(output.hasSuffix("* BYE Too many invalid IMAP commands.\r\n"))
    }

    @Test func literalArgumentSplitAcrossReceives() throws {
        let f = try SessionFixture()
        #expect(f.send("a CREATE {3}\r\n") == "+ OK\r\n")
        #expect(f.send("F") == "")
        #expect(f.send("oo\r") == "")
        let created = f.send("\n")
        #expect(created == "a OK [MAILBOXID (\(try f.mailboxID("Foo")))] Create completed" + done)
        #expect(f.store.exists("Foo"))
    }
}
