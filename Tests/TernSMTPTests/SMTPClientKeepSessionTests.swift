import Testing

@testable import TernSMTP

/// The client machine with `keepSession` (Postfix's connection cache): no QUIT after a transaction that
/// leaves the session usable, and on reuse RSET (the liveness check) before MAIL FROM.
@Suite struct SMTPClientKeepSessionTests {
    private func reply(_ text: String) throws -> SMTPReply {
        var parser = SMTPReplyParser()
        let replies = try parser.receive(Array((text + "\r\n").utf8))
        return try #require(replies.first)
    }

    private let envelope = SMTPClientStateMachine.Envelope(sender: "s@example.org", recipients: ["a@example.com"])

    @Test func deliveredThenIdle() throws {
        var machine = SMTPClientStateMachine(heloName: "h.example", envelope: envelope)
        machine.keepSession = true
        _ = machine.received(try reply("220 mx ESMTP"))
        _ = machine.received(try reply("250-mx\r\n250 PIPELINING"))
        _ = machine.received(try reply("250 2.1.0 Ok"))
        _ = machine.received(try reply("250 2.1.5 Ok"))
        #expect(machine.received(try reply("354 go")) == [.sendContent])
        #expect(machine.received(try reply("250 2.0.0 Ok: queued")) == [.idle])
        #expect(machine.stage == .done)
        guard case .delivered? = machine.outcomes[0] else {
            Issue.record("\(machine.outcomes)")
            return
        }
        #expect(machine.endSession() == [.send("QUIT\r\n")])
        #expect(machine.received(try reply("221 2.0.0 Bye")) == [.close])
    }

    @Test func aRecipientLevelRefusalStillKeepsTheSession() throws {
        var machine = SMTPClientStateMachine(heloName: "h.example", envelope: envelope)
        machine.keepSession = true
        _ = machine.received(try reply("220 mx ESMTP"))
        #expect(machine.received(try reply("250 mx")) == [.send("MAIL FROM:<s@example.org>\r\n")])
        #expect(machine.received(try reply("250 2.1.0 Ok")) == [.send("RCPT TO:<a@example.com>\r\n")])
        #expect(machine.received(try reply("550 5.1.1 unknown")) == [.idle])
    }

    @Test func fourTwentyOneEndsTheSession() throws {
        var machine = SMTPClientStateMachine(heloName: "h.example", envelope: envelope)
        machine.keepSession = true
        _ = machine.received(try reply("220 mx ESMTP"))
        _ = machine.received(try reply("250 mx"))
        #expect(machine.received(try reply("421 4.3.2 shutting down")) == [.send("QUIT\r\n")])

        var other = SMTPClientStateMachine(heloName: "h.example", envelope: envelope)
        other.keepSession = true
        _ = other.received(try reply("220 mx ESMTP"))
        _ = other.received(try reply("250 mx"))
        _ = other.received(try reply("250 Ok"))
        #expect(other.received(try reply("450 4.2.0 later")) == [.idle], "a recipient-level deferral keeps it")
    }

    @Test func greetingFailuresQuitEvenWhenKeeping() throws {
        var machine = SMTPClientStateMachine(heloName: "h.example", envelope: envelope)
        machine.keepSession = true
        #expect(machine.received(try reply("554 go away")) == [.send("QUIT\r\n")])
    }

    @Test func aResumedSessionChecksWithRSETThenStartsAtMail() throws {
        var machine = SMTPClientStateMachine(
            heloName: "h.example", envelope: SMTPClientStateMachine.Envelope(
                sender: "s@example.org", recipients: ["a@example.com", "b@example.com"], size: 10),
            security: .init(tls: .required))
        #expect(machine.resume(extensions: ["PIPELINING": "", "SIZE": "1000"], tlsActive: true) == [.send("RSET\r\n")])
        #expect(machine.stage == .rset)
        #expect(
            machine.received(try reply("250 2.0.0 Ok")) == [
                .send("MAIL FROM:<s@example.org> SIZE=10\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
            ])
        #expect(machine.tlsActive, "no second STARTTLS on a cached TLS session")
        #expect(machine.stage == .mail)
        #expect(machine.resume(extensions: [:], tlsActive: false) == [], "only once, before anything else")
    }

    @Test func aFailedRSETFailsTheRecipientsWithoutATransaction() throws {
        var machine = SMTPClientStateMachine(heloName: "h.example", envelope: envelope)
        _ = machine.resume(extensions: [:], tlsActive: false)
        #expect(machine.received(try reply("421 4.4.2 timeout")) == [.send("QUIT\r\n")])
        guard case .failed(let failed, let command)? = machine.outcomes[0] else {
            Issue.record("\(machine.outcomes)")
            return
        }
        #expect(failed.code == 421 && command == "RSET")
    }
}
