import Testing

@testable import TernSMTP

@Suite struct SMTPClientStateMachineTests {
    private func reply(_ text: String) throws -> SMTPReply {
        var parser = SMTPReplyParser()
        let replies = try parser.receive(Array((text + "\r\n").utf8))
        return try #require(replies.first)
    }

    private let envelope = SMTPClientStateMachine.Envelope(
        sender: "s@example.org", recipients: ["a@example.com", "b@example.com"], size: 123)

    @Test func pipelinedTransactionWithOneRejectedRecipient() throws {
        var machine = SMTPClientStateMachine(heloName: "mail.example.org", envelope: envelope)
        #expect(machine.received(try reply("220 mx.example.com ESMTP")) == [.send("EHLO mail.example.org\r\n")])
        let ehlo = try reply("250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME")
        #expect(
            machine.received(ehlo) == [
                .send("MAIL FROM:<s@example.org> SIZE=123\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
            ])
        #expect(machine.received(try reply("250 2.1.0 Ok")) == [])
        #expect(machine.received(try reply("550 5.1.1 <a@example.com>: Recipient address rejected")) == [])
        #expect(machine.received(try reply("250 2.1.5 Ok")) == [])
        #expect(machine.received(try reply("354 End data with <CR><LF>.<CR><LF>")) == [.sendContent])
        #expect(machine.isSendingContent)
        #expect(machine.received(try reply("250 2.0.0 Ok: queued as ABC")) == [.send("QUIT\r\n")])
        #expect(machine.received(try reply("221 2.0.0 Bye")) == [.close])
        guard case .failed(let rejected, let command)? = machine.outcomes[0],
            case .delivered(let accepted)? = machine.outcomes[1]
        else {
            Issue.record("unexpected outcomes \(machine.outcomes)")
            return
        }
        #expect(command == "RCPT TO")
        #expect(rejected.enhancedStatus == "5.1.1")
        #expect(rejected.quoted == "550 5.1.1 <a@example.com>: Recipient address rejected")
        #expect(accepted.quoted == "250 2.0.0 Ok: queued as ABC")
    }

    @Test func heloWhenEHLOIsRefusedAndOneCommandAtATime() throws {
        var machine = SMTPClientStateMachine(heloName: "h", envelope: envelope)
        _ = machine.received(try reply("220 old server"))
        #expect(machine.received(try reply("502 5.5.2 Error: command not recognized")) == [.send("HELO h\r\n")])
        #expect(machine.received(try reply("250 old")) == [.send("MAIL FROM:<s@example.org>\r\n")])
        #expect(machine.received(try reply("250 ok")) == [.send("RCPT TO:<a@example.com>\r\n")])
        #expect(machine.received(try reply("250 ok")) == [.send("RCPT TO:<b@example.com>\r\n")])
        #expect(machine.received(try reply("451 4.3.0 try later")) == [.send("DATA\r\n")])
        #expect(machine.received(try reply("354 go")) == [.sendContent])
        #expect(machine.received(try reply("554 5.7.1 no")) == [.send("QUIT\r\n")])
        #expect(machine.outcomes[0] == .failed(try reply("554 5.7.1 no"), inReplyTo: "end of DATA"))
        #expect(machine.outcomes[1] == .failed(try reply("451 4.3.0 try later"), inReplyTo: "RCPT TO"))
    }

    @Test func refusedGreetingFailsEveryRecipient() throws {
        var machine = SMTPClientStateMachine(heloName: "h", envelope: envelope)
        #expect(machine.received(try reply("554 5.7.1 go away")) == [.send("QUIT\r\n")])
        #expect(machine.outcomes.allSatisfy { $0 == .failed(try! reply("554 5.7.1 go away"), inReplyTo: nil) })
        #expect(machine.stage == .quit)
    }

    @Test func lmtpHasOneReplyPerRecipientAfterTheContent() throws {
        var machine = SMTPClientStateMachine(heloName: "h", envelope: envelope, lmtp: true)
        #expect(machine.received(try reply("220 lmtp ready")) == [.send("LHLO h\r\n")])
        let lhlo = try reply("250-lmtp\r\n250 PIPELINING")
        #expect(
            machine.received(lhlo) == [
                .send("MAIL FROM:<s@example.org>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
            ])
        _ = machine.received(try reply("250 2.1.0 Ok"))
        _ = machine.received(try reply("250 2.1.5 Ok"))
        _ = machine.received(try reply("250 2.1.5 Ok"))
        #expect(machine.received(try reply("354 go")) == [.sendContent])
        #expect(machine.received(try reply("250 2.0.0 <a@example.com> Saved")) == [])
        #expect(machine.isSendingContent)
        #expect(machine.received(try reply("552 5.2.2 <b@example.com> Quota exceeded")) == [.send("QUIT\r\n")])
        #expect(machine.outcomes[0] == .delivered(try reply("250 2.0.0 <a@example.com> Saved")))
        #expect(machine.outcomes[1] == .failed(try reply("552 5.2.2 <b@example.com> Quota exceeded"), inReplyTo: "end of DATA"))
    }

    @Test func replyParserRejectsGarbageAndOverlongLines() {
        var parser = SMTPReplyParser(lineLimit: 16)
        #expect(throws: SMTPReplyParser.Failure.self) { try parser.receive(Array("hello\r\n".utf8)) }
        var long = SMTPReplyParser(lineLimit: 16)
        #expect(throws: SMTPReplyParser.Failure.tooLong) { try long.receive(Array(repeating: UInt8(ascii: "2"), count: 40)) }
        var mixed = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Failure.self) { try mixed.receive(Array("250-a\r\n550 b\r\n".utf8)) }
    }
}
