import TernCore
import Testing

@testable import TernSMTP

/// Conversations against the state machine; reply texts are those of Postfix 3.7.11.
@Suite struct SMTPServerStateMachineTests {
    @Test func bannerAndEHLO() {
        var c = SMTPServerConversation.standard()
        #expect(c.output == ["220 mail.acc.test ESMTP Tern\r\n"])
        #expect(
            c.command("EHLO client.example") == [
                "250-mail.acc.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
                    + "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n"
            ])
        #expect(c.reply("HELO client.example") == "250 mail.acc.test")
        #expect(c.reply("HELO") == "501 Syntax: HELO hostname")
        #expect(c.reply("EHLO") == "501 Syntax: EHLO hostname")
        #expect(c.machine.heloName == "client.example")
    }

    @Test func ehloExtrasAndDisabledVRFY() {
        var c = SMTPServerConversation.standard {
            $0.disableVRFY = true
            $0.messageSizeLimit = 0
            $0.tls = SMTPServerTLSPolicy(offered: true, available: true)
            $0.extraEHLOLines = ["AUTH PLAIN LOGIN"]
            $0.ehloKeywords.remove(.smtpUTF8)
        }
        let lines = c.command("EHLO x").first!.split(separator: "\r\n").map(String.init)
        #expect(
            lines == [
                "250-mail.acc.test", "250-PIPELINING", "250-SIZE", "250-ETRN", "250-STARTTLS", "250-AUTH PLAIN LOGIN",
                "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250 DSN",
            ])
        #expect(c.reply("VRFY accuser1") == "502 5.5.1 VRFY command is disabled")
    }

    @Test func fullTransaction() throws {
        var c = SMTPServerConversation.standard()
        c.command("EHLO client.example")
        #expect(c.reply("MAIL FROM:<sender@client.example> SIZE=100 BODY=8BITMIME") == "250 2.1.0 Ok")
        #expect(c.reply("RCPT TO:<accuser1@acc.test> NOTIFY=FAILURE") == "250 2.1.5 Ok")
        #expect(
            c.reply("RCPT TO:<nobody@acc.test>")
                == "550 5.1.1 <nobody@acc.test>: Recipient address rejected: User unknown")
        #expect(c.reply("DATA") == "354 End data with <CR><LF>.<CR><LF>")
        #expect(c.send("Subject: hi\r\n\r\n..dot\r\nhello\r\n.\r\n") == ["250 2.0.0 Ok: queued as 0C261A1F1A\r\n"])
        #expect(c.reply("QUIT") == "221 2.0.0 Bye")
        #expect(c.closed)
        let (transaction, content) = try #require(c.queued.first)
        #expect(transaction.sender == MailAddress("sender@client.example"))
        #expect(transaction.parameters.size == 100)
        #expect(transaction.recipients.map(\.address.text) == ["accuser1@acc.test"])
        #expect(transaction.recipients[0].parameters.notify == .failure)
        #expect(String(decoding: content, as: UTF8.self) == "Subject: hi\n\n.dot\nhello\n")
        #expect(c.machine.disconnectLogText == "ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5/6")
    }

    @Test func pipelinedCommandsAreAnsweredInOrder() {
        var c = SMTPServerConversation.standard()
        c.command("EHLO client.example")
        let first = c.send(
            "MAIL FROM:<pipe@client.example>\r\nRCPT TO:<accuser1@acc.test>\r\nRCPT TO:<accuser2@acc.test>\r\nDATA\r\n")
        #expect(first.map { $0.prefix(3) } == ["250", "250", "250", "354"])
        let second = c.send("Subject: p\r\n\r\npipelined\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
        #expect(
            second == [
                "250 2.0.0 Ok: queued as 0C261A1F1A\r\n", "250 2.0.0 Ok\r\n", "250 2.0.0 Ok\r\n", "221 2.0.0 Bye\r\n",
            ])
        #expect(c.queued.first?.0.recipients.count == 2)
        // Everything in one packet, including the message, works too.
        var d = SMTPServerConversation.standard()
        let all = d.send(
            "EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<root>\r\nDATA\r\nbody\n.\n"
                + "MAIL FROM:<c@d.example>\r\nQUIT\r\n")
        #expect(all.map { $0.prefix(3) } == ["250", "250", "250", "354", "250", "250", "221"])
    }

    @Test func sequenceErrors() {
        var c = SMTPServerConversation.standard()
        c.command("EHLO x")
        #expect(c.reply("RCPT TO:<accuser1@acc.test>") == "503 5.5.1 Error: need MAIL command")
        #expect(c.reply("DATA") == "503 5.5.1 Error: need RCPT command")
        #expect(c.reply("MAIL FROM:<a@client.example>") == "250 2.1.0 Ok")
        #expect(c.reply("MAIL FROM:<b@client.example>") == "503 5.5.1 Error: nested MAIL command")
        #expect(c.reply("DATA") == "554 5.5.1 Error: no valid recipients")
        #expect(c.reply("ETRN example.com") == "503 Error: MAIL transaction in progress")
        #expect(c.reply("RSET x") == "501 5.5.4 Syntax: RSET")
        #expect(c.reply("RSET") == "250 2.0.0 Ok")
        #expect(c.reply("MAIL FROM:<a@client.example>") == "250 2.1.0 Ok")
        #expect(c.reply("EHLO again").hasPrefix("250-mail.acc.test"))
        #expect(c.reply("RCPT TO:<root>") == "503 5.5.1 Error: need MAIL command")  // EHLO reset the transaction
        #expect(c.reply("MAIL FROM:<a@client.example>") == "250 2.1.0 Ok")
        #expect(c.reply("RCPT TO:<root>") == "250 2.1.5 Ok")
        #expect(c.reply("DATA x") == "501 5.5.4 Syntax: DATA")
    }

    @Test func unknownEmptyAndMiscCommands() {
        var c = SMTPServerConversation.standard()
        c.command("EHLO x")
        #expect(c.reply("FOOBAR baz") == "500 5.5.2 Error: command not recognized")
        #expect(c.reply("HELP") == "500 5.5.2 Error: command not recognized")
        #expect(c.reply("") == "500 5.5.2 Error: bad syntax")
        #expect(c.reply("   ") == "500 5.5.2 Error: bad syntax")
        #expect(c.reply("  noop  extra") == "250 2.0.0 Ok")
        #expect(c.reply("STARTTLS") == "502 5.5.1 Error: command not implemented")
        #expect(c.reply("AUTH PLAIN") == "503 5.5.1 Error: authentication not enabled")
        #expect(c.reply("XCLIENT A=B") == "550 5.7.0 Error: insufficient authorization")
        #expect(c.reply("VRFY root") == "252 2.0.0 root")
        #expect(c.reply("VRFY <root>") == "252 2.0.0 <root>")
        #expect(c.reply("VRFY nosuch") == "550 5.1.1 <nosuch>: Recipient address rejected: User unknown")
        #expect(c.reply("VRFY") == "501 5.5.4 Syntax: VRFY address [SMTPUTF8]")
        #expect(c.reply("VRFY a@b x") == "501 5.1.3 Bad recipient address syntax")
        #expect(c.reply("ETRN") == "500 Syntax: ETRN domain")
        #expect(c.reply("ETRN a..b") == "501 Error: invalid parameter syntax")
        #expect(c.reply("ETRN @a.b") == "459 <a.b>: service unavailable")
        #expect(c.reply("QUIT now") == "221 2.0.0 Bye")
        #expect(
            c.machine.disconnectLogText
                == "ehlo=1 xclient=0/1 starttls=0/1 auth=0/1 noop=1 vrfy=2/5 etrn=0/3 quit=1 unknown=0/2 commands=5/16")
    }

    @Test func forbiddenAndHeaderLinesHangUp() {
        for line in ["Subject: hi", "+", "GET / HTTP/1.0", "CONNECT host:25"] {
            var c = SMTPServerConversation.standard()
            #expect(c.reply(line) == "221 2.7.0 Error: I can break rules, too. Goodbye.")
            #expect(c.closed)
            #expect(c.machine.disconnectLogText == "unknown=0/1 commands=0/1")
        }
    }

    @Test func bdatWithoutChunkingHangsUp() {
        var c = SMTPServerConversation.standard()
        c.command("EHLO x")
        #expect(c.reply("BDAT 10 LAST") == "521 5.5.1 Error: command not implemented")
        #expect(c.closed)
        #expect(c.command("NOOP") == [])
    }

    @Test func heloRequired() {
        var c = SMTPServerConversation.standard { $0.heloRequired = true }
        #expect(c.reply("MAIL FROM:<a@b.example>") == "503 5.5.1 Error: send HELO/EHLO first")
        #expect(c.reply("ETRN a.b") == "503 Error: send HELO/EHLO first")
        #expect(c.reply("VRFY root") == "252 2.0.0 root")
        #expect(c.reply("HELO client") == "250 mail.acc.test")
        #expect(c.reply("MAIL FROM:<a@b.example>") == "250 2.1.0 Ok")
    }

    @Test func overlongCommandGetsOneReply() {
        var c = SMTPServerConversation.standard()
        c.command("EHLO client.example")
        let replies = c.send("MAIL FROM:<" + String(repeating: "a", count: 5000) + "@client.example>\r\nNOOP\r\n")
        #expect(replies == ["501 5.1.7 Bad sender address syntax\r\n", "250 2.0.0 Ok\r\n"])
        #expect(c.warnings == [.requestTooLong(limit: 2048, start: "MAIL FROM:<aaaaaaaaaaaaaaaaaaa")])
        #expect(
            c.warnings[0].logText(client: "localhost[127.0.0.1]")
                == "warning: localhost[127.0.0.1]: request longer than 2048: MAIL FROM:<aaaaaaaaaaaaaaaaaaa...")
    }

    @Test func sizeLimits() {
        var c = SMTPServerConversation.standard { $0.messageSizeLimit = 3000 }
        c.command("EHLO x")
        #expect(c.reply("MAIL FROM:<a@b.example> SIZE=3001") == "552 5.3.4 Message size exceeds fixed limit")
        #expect(c.reply("MAIL FROM:<a@b.example> SIZE=3000") == "250 2.1.0 Ok")
        #expect(c.reply("RCPT TO:<root>") == "250 2.1.5 Ok")
        #expect(c.reply("DATA").hasPrefix("354"))
        let big = String(repeating: String(repeating: "x", count: 78) + "\r\n", count: 50)
        #expect(c.send(big + ".\r\nNOOP\r\n") == ["552 5.3.4 Error: message file too big\r\n", "250 2.0.0 Ok\r\n"])
        #expect(c.queued.isEmpty)
        #expect(c.reply("RCPT TO:<root>") == "503 5.5.1 Error: need MAIL command")
        #expect(c.machine.counters.count(.data) == (0, 1))
    }

    @Test func recipientLimit() {
        var c = SMTPServerConversation.standard { $0.recipientLimit = 2 }
        c.command("EHLO x")
        c.command("MAIL FROM:<a@b.example>")
        #expect(c.reply("RCPT TO:<accuser1@acc.test>") == "250 2.1.5 Ok")
        #expect(c.reply("RCPT TO:<accuser2@acc.test>") == "250 2.1.5 Ok")
        #expect(c.reply("RCPT TO:<root>") == "452 4.5.3 Error: too many recipients")
        #expect(c.reply("RCPT TO:<root> NOTIFY=FOO") == "501 5.5.4 Error: Bad NOTIFY parameter syntax")
        #expect(c.reply("RCPT TO:<nosuch@acc.test>") == "452 4.5.3 Error: too many recipients")
        // Over-limit recipients count as successful commands and are not errors (Postfix: rcpt=4/5).
        #expect(c.machine.counters.count(.rcpt) == (4, 5))
        #expect(c.machine.errorCount == 1)
    }

    @Test func tooManyErrorsEndsTheSession() {
        var c = SMTPServerConversation.standard {
            $0.softErrorLimit = 2
            $0.hardErrorLimit = 3
        }
        #expect(c.reply("FOO") == "500 5.5.2 Error: command not recognized")
        #expect(c.pauses == 0)
        c.command("BAR")
        #expect(c.pauses == 0)
        let last = c.command("BAZ")
        #expect(
            last == [
                "500 5.5.2 Error: command not recognized\r\n", "421 4.7.0 mail.acc.test Error: too many errors\r\n",
            ])
        #expect(c.pauses == 2)
        #expect(c.closed)
        #expect(c.warnings == [.tooManyErrors(after: "UNKNOWN")])
        #expect(
            c.warnings.first?.logText(client: "localhost[127.0.0.1]")
                == "too many errors after UNKNOWN from localhost[127.0.0.1]")
    }

    /// smtpd_delay_reject = no refused the client at connect (Postfix 3.7.11 with smtpd_hard_error_limit = 3:
    /// two 503 replies, then 421, `too many errors after CONNECT`, `ehlo=0/1 noop=0/1 commands=0/2`).
    @Test func aClientRefusedAtConnectGetsAccessDeniedUntilTheHardLimit() {
        var c = SMTPServerConversation.standard { $0.hardErrorLimit = 3 }
        let denied = SMTPReply(code: 503, enhancedStatus: "5.7.0", "Error: access denied for localhost[127.0.0.1]")
        c.machine.refuseCommands(with: denied)
        #expect(c.reply("EHLO x") == "503 5.7.0 Error: access denied for localhost[127.0.0.1]")
        #expect(
            c.send("NOOP\r\nNOOP\r\n") == [
                "503 5.7.0 Error: access denied for localhost[127.0.0.1]\r\n",
                "421 4.7.0 mail.acc.test Error: too many errors\r\n",
            ])
        #expect(c.closed)
        #expect(c.warnings == [.tooManyErrors(after: "CONNECT")])
        #expect(c.machine.disconnectLogText == "ehlo=0/1 noop=0/1 commands=0/2")

        var quits = SMTPServerConversation.standard()
        quits.machine.refuseCommands(with: denied)
        #expect(quits.reply("QUIT") == "221 2.0.0 Bye")
    }

    @Test func successfulDeliveryForgivesErrors() {
        var c = SMTPServerConversation.standard { $0.hardErrorLimit = 3 }
        c.command("EHLO x")
        c.command("FOO")
        c.command("BAR")
        c.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<root>\r\nDATA\r\nx\r\n.\r\n")
        #expect(c.machine.errorCount == 0)
        c.command("FOO")
        c.command("BAR")
        #expect(!c.closed)
    }

    @Test func startTLSRestartsTheSession() {
        var c = SMTPServerConversation.standard { $0.tls = SMTPServerTLSPolicy(offered: true, available: true) }
        c.command("EHLO x")
        #expect(c.reply("STARTTLS") == "220 2.0.0 Ready to start TLS")
        #expect(c.machine.isTLSActive)
        #expect(c.machine.heloName == nil)
        #expect(c.reply("STARTTLS") == "554 5.5.1 Error: TLS already active")
    }
}
