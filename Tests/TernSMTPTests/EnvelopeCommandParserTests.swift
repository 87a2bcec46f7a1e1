import TernCore
import Testing

@testable import TernSMTP

/// MAIL/RCPT argument tables; the replies are the ones Postfix 3.7.11 sent for the same lines.
@Suite struct EnvelopeCommandParserTests {
    private func mail(_ line: String, sizeLimit: Int64 = 10_240_000) -> Result<
        (sender: MailAddress, parameters: MailParameters), SMTPReply
    > {
        var options = EnvelopeParsingOptions()
        options.messageSizeLimit = sizeLimit
        return EnvelopeCommandParser.parseMail(SMTPCommandTokenizer.tokenize(line), options: options)
    }

    private func mailReply(_ line: String) -> String? {
        if case .failure(let reply) = mail(line) { return reply.description }
        return nil
    }

    private func rcpt(_ line: String, dsn: Bool = true) -> Result<RecipientCommand, SMTPReply> {
        var options = EnvelopeParsingOptions()
        options.dsnEnabled = dsn
        return EnvelopeCommandParser.parseRcpt(SMTPCommandTokenizer.tokenize(line), options: options)
    }

    private func rcptReply(_ line: String, dsn: Bool = true) -> String? {
        if case .failure(let reply) = rcpt(line, dsn: dsn) { return reply.description }
        return nil
    }

    @Test(arguments: [
        ("MAIL FROM:", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("MAIL FROM", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("MAIL TO:<a@b>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("MAIL FROM:<a@b", "501 5.1.7 Bad sender address syntax"),
        ("MAIL FROM:<a@b>x", "501 5.1.7 Bad sender address syntax"),
        ("MAIL FROM:<a b@c>", "501 5.1.7 Bad sender address syntax"),
        ("MAIL FROM:<a@b> SIZE=99999999999", "552 5.3.4 Message size exceeds fixed limit"),
        ("MAIL FROM:<a@b> SIZE=99999999999999999999999", "552 5.3.4 Message size exceeds file system imposed limit"),
        ("MAIL FROM:<a@b> SIZE=abc", "501 5.5.4 Bad message size syntax"),
        ("MAIL FROM:<a@b> SIZE=", "501 5.5.4 Bad message size syntax"),
        ("MAIL FROM:<a@b> SIZE=-1", "501 5.5.4 Bad message size syntax"),
        ("MAIL FROM:<a@b> BODY=BINARYMIME", "555 5.5.4 Unsupported option: BODY=BINARYMIME"),
        ("MAIL FROM:<a@b> RET=FOO", "501 5.5.4 Bad RET parameter syntax"),
        ("MAIL FROM:<a@b> RET=HDRS RET=FULL", "501 5.5.4 Bad RET parameter syntax"),
        ("MAIL FROM:<a@b> ENVID=ab+zz", "501 5.5.4 Bad ENVID parameter syntax"),
        ("MAIL FROM:<a@b> ENVID=x ENVID=y", "501 5.5.4 Bad ENVID parameter syntax"),
        ("MAIL FROM:<a@b> FOO=bar", "555 5.5.4 Unsupported option: FOO=bar"),
        ("MAIL FROM:<a@b> XYZ", "555 5.5.4 Unsupported option: XYZ"),
        ("MAIL FROM:<a@b> SMTPUTF8=x", "555 5.5.4 Unsupported option: SMTPUTF8=x"),
        ("MAIL FROM:a b@c", "555 5.5.4 Unsupported option: b@c"),
        ("MAIL FROM:<a@b> <c@d>", "555 5.5.4 Unsupported option: <c@d>"),
        ("MAIL FROM:<a@b> NOTIFY=NEVER", "555 5.5.4 Unsupported option: NOTIFY=NEVER"),
    ])
    func mailFailures(line: String, reply: String) {
        #expect(mailReply(line) == reply)
    }

    @Test func mailParameters() throws {
        let (sender, p) = try mail(
            "mail from: <s@client.example> SIZE=100 BODY=8bitmime RET=hdrs ENVID=abc+2Bdef AUTH=<> SMTPUTF8"
        ).get()
        #expect(sender == MailAddress("s@client.example"))
        #expect(p.size == 100)
        #expect(p.body == .eightBitMIME)
        #expect(p.ret == .headers)
        #expect(p.envelopeID == "abc+def")
        #expect(p.auth == "<>")
        #expect(p.smtpUTF8)
        #expect(try mail("MAIL FROM:<>").get().sender.isNull)
        #expect(try mail("MAIL FROM:<a@b> BODY=8BITMIME BODY=7BIT").get().parameters.body == .sevenBit)
        #expect(throws: SMTPReply.sizeExceedsFixedLimit) {
            try mail("MAIL FROM:<a@b> SIZE=3001", sizeLimit: 3000).get()
        }
        #expect(try mail("MAIL FROM:<a@b> SIZE=3000", sizeLimit: 3000).get().parameters.size == 3000)
        #expect(try mail("MAIL FROM:<a@b> SIZE=99999999999", sizeLimit: 0).get().parameters.size == 99_999_999_999)
    }

    @Test(arguments: [
        ("RCPT TO:", "501 5.5.4 Syntax: RCPT TO:<address>"),
        ("RCPT FROM:<a@b>", "501 5.5.4 Syntax: RCPT TO:<address>"),
        ("RCPT TO:<>", "501 5.1.3 Bad recipient address syntax"),
        ("RCPT TO:<root@mail.hp.test", "501 5.1.3 Bad recipient address syntax"),
        ("RCPT TO:<a@b> NOTIFY=FOO", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
        ("RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
        ("RCPT TO:<a@b> NOTIFY=", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
        ("RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
        ("RCPT TO:<a@b> ORCPT=foo", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
        ("RCPT TO:<a@b> ORCPT=;a", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
        ("RCPT TO:<a@b> ORCPT=x;a+zz", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
        ("RCPT TO:<a@b> BAR=1", "555 5.5.4 Unsupported option: BAR=1"),
    ])
    func rcptFailures(line: String, reply: String) {
        #expect(rcptReply(line) == reply)
    }

    @Test func rcptParameters() throws {
        let r = try rcpt("RCPT TO:<u@d.example> NOTIFY=success,delay ORCPT=rfc822;u+40d.example").get()
        #expect(r.address == MailAddress("u@d.example"))
        #expect(r.originalText == "<u@d.example>")
        #expect(r.parameters.notify == [.success, .delay])
        #expect(r.parameters.originalRecipient == OriginalRecipient(addressType: "rfc822", address: "u@d.example"))
        #expect(r.parameters.originalRecipientGiven)
        let plain = try rcpt("RCPT TO: <@relay:\"x y\"@d.example>").get()
        #expect(plain.address == MailAddress("x y@d.example"))
        #expect(plain.parameters.notify == nil)
        #expect(!plain.parameters.originalRecipientGiven)
        #expect(plain.parameters.originalRecipient.address == "@relay:\"x y\"@d.example")
        #expect(try rcpt("RCPT TO:<a@b> NOTIFY=NEVER").get().parameters.notify == .never)
        #expect(try rcpt("RCPT TO:<a@b> ORCPT=rfc822;").get().parameters.originalRecipient.address == "")
    }

    @Test func dsnDisabled() {
        #expect(rcptReply("RCPT TO:<a@b> NOTIFY=NEVER", dsn: false) == "501 5.7.1 DSN support is disabled")
        #expect(rcptReply("RCPT TO:<a@b>", dsn: false) == nil)
    }
}
