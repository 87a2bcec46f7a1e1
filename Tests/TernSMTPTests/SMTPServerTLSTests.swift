import TernCore
import Testing

@testable import TernSMTP

/// STARTTLS (RFC 3207) and smtpd_tls_security_level / smtpd_tls_auth_only against the state machine, with
/// Postfix 3.7's reply texts (smtpd.c starttls_cmd() and smtpd_proto()).
@Suite struct SMTPServerTLSTests {
    static func conversation(
        _ policy: SMTPServerTLSPolicy, mechanisms: [String] = [],
        _ adjust: (inout SMTPServerConfiguration) -> Void = { _ in }
    ) -> SMTPServerConversation {
        var c = SMTPServerConversation.standard {
            $0.tls = policy
            $0.authAvailable = !mechanisms.isEmpty
            adjust(&$0)
        }
        c.machine.saslMechanisms = mechanisms
        c.machine.saslMechanismsWithTLS = mechanisms
        return c
    }

    static let may = SMTPServerTLSPolicy(offered: true, available: true)
    static let encrypt = SMTPServerTLSPolicy(required: true, available: true)

    static func ehloLines(_ c: inout SMTPServerConversation) -> [String] {
        c.command("EHLO client.example").first!.split(separator: "\r\n").map { String($0.dropFirst(4)) }
    }

    @Test func startTLSIsAnnouncedBeforeAUTHUntilTLSIsActive() {
        var c = Self.conversation(Self.may, mechanisms: ["PLAIN", "LOGIN"])
        #expect(
            Self.ehloLines(&c) == [
                "mail.acc.test", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "AUTH PLAIN LOGIN",
                "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8",
            ])
        #expect(c.reply("STARTTLS") == "220 2.0.0 Ready to start TLS")
        #expect(!Self.ehloLines(&c).contains("STARTTLS"))
        #expect(Self.ehloLines(&c).contains("AUTH PLAIN LOGIN"))
    }

    @Test func startTLSRepliesInPostfixOrder() {
        var none = Self.conversation(SMTPServerTLSPolicy())
        #expect(!Self.ehloLines(&none).contains("STARTTLS"))
        #expect(none.reply("STARTTLS") == "502 5.5.1 Error: command not implemented")
        #expect(none.reply("STARTTLS now") == "501 5.5.4 Syntax: STARTTLS")

        // Offered, but the certificate or key could not be loaded: still announced, then 454.
        var broken = Self.conversation(SMTPServerTLSPolicy(offered: true, available: false))
        #expect(Self.ehloLines(&broken).contains("STARTTLS"))
        #expect(broken.reply("STARTTLS") == "454 4.7.0 TLS not available due to local problem")
        #expect(!broken.machine.isTLSActive)

        var c = Self.conversation(Self.may)
        #expect(c.reply("STARTTLS x") == "501 5.5.4 Syntax: STARTTLS")
        #expect(c.reply("STARTTLS") == "220 2.0.0 Ready to start TLS")
        #expect(c.reply("STARTTLS") == "554 5.5.1 Error: TLS already active")
        #expect(c.reply("QUIT") == "221 2.0.0 Bye")
        #expect(c.machine.disconnectLogText == "starttls=1/3 quit=1 commands=2/4")
    }

    @Test func encryptRefusesMailBeforeSTARTTLS() {
        var c = Self.conversation(Self.encrypt)
        #expect(Self.ehloLines(&c).contains("STARTTLS"))
        #expect(c.reply("MAIL FROM:<x@client.example>") == "530 5.7.0 Must issue a STARTTLS command first")
        for command in ["RCPT TO:<root>", "DATA", "RSET", "VRFY root", "ETRN example.com", "AUTH PLAIN", "BDAT 1"] {
            #expect(c.reply(command) == "530 5.7.0 Must issue a STARTTLS command first", "\(command)")
        }
        #expect(c.reply("NOOP") == "250 2.0.0 Ok")
        #expect(c.reply("HELO client.example") == "250 mail.acc.test")
        #expect(c.machine.errorCount == 8)
        #expect(c.reply("STARTTLS") == "220 2.0.0 Ready to start TLS")
        c.command("EHLO client.example")
        #expect(c.reply("MAIL FROM:<x@client.example>") == "250 2.1.0 Ok")
        #expect(c.reply("RCPT TO:<root>") == "250 2.1.5 Ok")
        #expect(c.machine.receivedProtocolName == "ESMTPS")
        #expect(c.reply("QUIT") == "221 2.0.0 Bye")
        // The refused commands are errors, not uses of MAIL, RCPT...
        #expect(c.machine.disconnectLogText == "helo=1 ehlo=2 starttls=1 mail=1 rcpt=1 noop=1 quit=1 commands=8")
    }

    @Test func authOnlyHidesAUTHUntilTLS() {
        let policy = SMTPServerTLSPolicy(offered: true, authOnly: true, available: true)
        var c = Self.conversation(policy, mechanisms: ["PLAIN", "LOGIN"])
        #expect(!Self.ehloLines(&c).contains { $0.hasPrefix("AUTH") })
        #expect(
            c.reply("AUTH PLAIN \(SMTPServerSASLTests.alicePlain)") == "503 5.5.1 Error: authentication not enabled")
        #expect(c.reply("MAIL FROM:<x@client.example>") == "250 2.1.0 Ok")
        #expect(c.reply("STARTTLS") == "220 2.0.0 Ready to start TLS")
        #expect(c.machine.transaction == nil)
        #expect(Self.ehloLines(&c).contains("AUTH PLAIN LOGIN"))
        #expect(c.reply("AUTH PLAIN \(SMTPServerSASLTests.alicePlain)") == "235 2.7.0 Authentication successful")
        #expect(c.machine.receivedProtocolName == "ESMTPSA")

        // Mandatory TLS implies it.
        var encrypt = Self.conversation(Self.encrypt, mechanisms: ["PLAIN"])
        #expect(!Self.ehloLines(&encrypt).contains("AUTH PLAIN"))
    }

    @Test func tlsForgetsHeloTransactionAndLogin() {
        var c = Self.conversation(Self.may, mechanisms: ["PLAIN"])
        c.command("EHLO client.example")
        #expect(c.reply("AUTH PLAIN \(SMTPServerSASLTests.alicePlain)") == "235 2.7.0 Authentication successful")
        #expect(c.reply("MAIL FROM:<x@client.example>") == "250 2.1.0 Ok")
        #expect(c.reply("STARTTLS") == "220 2.0.0 Ready to start TLS")
        #expect(c.machine.heloName == nil)
        #expect(c.machine.authenticatedUser == nil && c.machine.saslMethod == nil)
        #expect(c.machine.transaction == nil)
        #expect(c.machine.protocolName == "SMTP")
        #expect(c.reply("RCPT TO:<root>") == "503 5.5.1 Error: need MAIL command")
    }

    /// CVE-2011-0411: commands pipelined behind STARTTLS in plaintext must not run after the handshake.
    @Test func plaintextPipelinedAfterSTARTTLSIsDiscarded() {
        var c = Self.conversation(Self.may)
        let replies = c.send("EHLO x\r\nSTARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
        #expect(replies.count == 2)
        #expect(replies.last == "220 2.0.0 Ready to start TLS\r\n")
        #expect(String(decoding: c.discarded, as: UTF8.self) == "MAIL FROM:<evil@example.com>\r\n")
        #expect(c.machine.transaction == nil)
        #expect(c.reply("MAIL FROM:<good@example.com>") == "250 2.1.0 Ok")
    }

    @Test func wrapperModeStartsWithTLS() {
        var c = SMTPServerConversation.standard { $0.tls = Self.encrypt }
        var machine = SMTPServerStateMachine(configuration: c.machine.configuration)
        machine.implicitTLSEstablished()
        #expect(machine.connected() == [.send(SMTPReply(code: 220, "mail.acc.test ESMTP Tern"))])
        c.machine = machine
        #expect(!Self.ehloLines(&c).contains("STARTTLS"))
        #expect(c.reply("STARTTLS") == "554 5.5.1 Error: TLS already active")
        #expect(c.reply("MAIL FROM:<x@client.example>") == "250 2.1.0 Ok")
        #expect(c.machine.receivedProtocolName == "ESMTPS")
    }
}
