import Testing

@testable import TernSMTP

@Suite struct SMTPReplyTests {
    @Test func singleLineWithEnhancedCode() {
        #expect(SMTPReply.senderOk.encodedString == "250 2.1.0 Ok\r\n")
        #expect(SMTPReply.bye.encodedString == "221 2.0.0 Bye\r\n")
        #expect(SMTPReply.startData.encodedString == "354 End data with <CR><LF>.<CR><LF>\r\n")
    }

    @Test func multiLineUsesDashUntilTheLastLine() {
        let reply = SMTPReply(code: 250, lines: ["mail.example", "PIPELINING", "SIZE 10240000"])
        #expect(reply.encodedString == "250-mail.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n")
    }

    @Test func parsesRestrictionText() throws {
        let reply = try #require(
            SMTPReply(parsing: "550 5.1.1 <x@y>: Recipient address rejected: User unknown in local recipient table"))
        #expect(reply.code == 550)
        #expect(reply.enhancedStatus == "5.1.1")
        #expect(reply.lines == ["<x@y>: Recipient address rejected: User unknown in local recipient table"])
        let plain = try #require(SMTPReply(parsing: "459 <a.b>: service unavailable"))
        #expect(plain.enhancedStatus == nil)
        #expect(plain.encodedString == "459 <a.b>: service unavailable\r\n")
        // a class digit that differs from the code is not an enhanced status code
        #expect(SMTPReply(parsing: "250 5.1.1 x")?.enhancedStatus == nil)
        #expect(SMTPReply(parsing: "ok") == nil)
    }

    @Test func classPredicates() {
        #expect(SMTPReply.ok.isPositive)
        #expect(SMTPReply.tooManyRecipients.isTransientFailure)
        #expect(SMTPReply.needMail.isPermanentFailure)
    }
}
