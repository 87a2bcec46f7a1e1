import TernCore
import Testing

@testable import TernSMTP

/// The commands smtpd counts with anvil (smtpd_client_{message,recipient,auth,new_tls_session}_rate_limit):
/// where in each command the count happens, as Postfix 3.7.11 does it (checked against a running Postfix:
/// a MAIL or RCPT with a bad address still counts, a bad `MAIL FROM:` keyword does not; every AUTH counts,
/// before the HELO, AUTH-enabled and transaction checks).
@Suite struct SMTPServerEventRateTests {
    static func conversation(
        limits: [SMTPClientEvent: Int], _ adjust: (inout SMTPServerConfiguration) -> Void = { _ in }
    ) -> SMTPServerConversation {
        var c = SMTPServerConversation.standard(adjust)
        c.eventLimits = limits
        c.machine.limitedEvents = Set(limits.keys)
        c.machine.saslMechanisms = ["PLAIN"]
        return c
    }

    @Test func mailCountsBeforeTheAddressIsParsed() {
        var c = Self.conversation(limits: [.mail: 2])
        c.command("EHLO client")
        #expect(c.reply("MAIL FROM:<a@example.com>") == "250 2.1.0 Ok")
        #expect(c.reply("RSET") == "250 2.0.0 Ok")
        #expect(c.reply("MAIL FRM:<a@example.com>") == "501 5.5.4 Syntax: MAIL FROM:<address>")
        #expect(c.reply("MAIL FROM:<bad") == "501 5.1.7 Bad sender address syntax")
        #expect(c.eventCounts[.mail] == 2)
        #expect(c.reply("MAIL FROM:<a@example.com>") == "450 4.7.1 Error: too many mail from 192.0.2.1")
        #expect(c.reply("MAIL FROM:<bad") == "450 4.7.1 Error: too many mail from 192.0.2.1")
        #expect(c.machine.errorCount == 4)
        #expect(c.machine.transaction == nil)
    }

    @Test func recipientsCountInsideTheTransaction() {
        var c = Self.conversation(limits: [.recipient: 1])
        c.command("EHLO client")
        #expect(c.reply("RCPT TO:<root>") == "503 5.5.1 Error: need MAIL command")
        #expect(c.reply("MAIL FROM:<a@example.com>") == "250 2.1.0 Ok")
        #expect(c.reply("RCPT TOO:<root>") == "501 5.5.4 Syntax: RCPT TO:<address>")
        #expect(c.eventCounts[.recipient] == nil)
        #expect(c.reply("RCPT TO:<root>") == "250 2.1.5 Ok")
        #expect(c.reply("RCPT TO:<accuser1@acc.test>") == "450 4.7.1 Error: too many recipient from 192.0.2.1")
        // The transaction and its accepted recipient stay.
        #expect(c.machine.transaction?.recipients.count == 1)
        #expect(c.machine.disconnectLogText == "ehlo=1 mail=1 rcpt=1/4 commands=3/6")
    }

    @Test func authCountsBeforeTheHeloAndTransactionChecks() {
        var c = Self.conversation(limits: [.auth: 1]) {
            $0.authAvailable = true
            $0.heloRequired = true
        }
        #expect(c.reply("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "503 5.5.1 Error: send HELO/EHLO first")
        c.command("EHLO client")
        #expect(c.reply("MAIL FROM:<a@example.com>") == "250 2.1.0 Ok")
        #expect(c.reply("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "450 4.7.1 Error: too many auth from 192.0.2.1")
        #expect(c.eventCounts[.auth] == 2)
        #expect(c.machine.transaction != nil)

        // With AUTH off, AUTH still counts (Postfix 3.7 does so).
        var off = Self.conversation(limits: [.auth: 1])
        #expect(off.reply("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "503 5.5.1 Error: authentication not enabled")
        #expect(off.reply("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "450 4.7.1 Error: too many auth from 192.0.2.1")
    }

    @Test func startTLSIsRefusedBeforeTheHandshakeAndAfterIt() {
        var c = Self.conversation(limits: [.startTLS: 0]) {
            $0.tls.offered = true
            $0.tls.available = true
        }
        c.eventCounts[.startTLS] = 1
        c.command("EHLO client")
        #expect(c.reply("STARTTLS") == "450 4.7.1 Error: too many startTLS from 192.0.2.1")
        #expect(!c.machine.isTLSActive)

        // Over the limit once the handshake is done: 421 over TLS, and STARTTLS counts as failed.
        var after = Self.conversation(limits: [:]) {
            $0.tls.offered = true
            $0.tls.available = true
        }
        after.command("EHLO client")
        after.machine.limitedEvents = []
        let reply = SMTPReply(
            code: 421, enhancedStatus: "4.7.0", "mail.acc.test Error: too many new TLS sessions from x[192.0.2.1]")
        // Drive STARTTLS by hand to stop between the 220 and tlsEstablished().
        let actions = after.machine.receive(.line(Array("STARTTLS".utf8)))
        #expect(actions.contains(.startTLS))
        #expect(after.machine.tlsSessionRefused(reply) == [.send(reply), .close])
        #expect(after.machine.isClosed)
        #expect(after.machine.disconnectLogText == "ehlo=1 starttls=0/1 commands=1/2")
    }

    @Test func nothingIsCountedForAnExemptClient() {
        var c = SMTPServerConversation.standard()
        c.command("EHLO client")
        #expect(c.reply("MAIL FROM:<a@example.com>") == "250 2.1.0 Ok")
        #expect(c.reply("RCPT TO:<root>") == "250 2.1.5 Ok")
        #expect(c.eventCounts.isEmpty)
    }
}
