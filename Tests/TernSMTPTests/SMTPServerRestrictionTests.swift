import Testing
import TernCore
@testable import TernSMTP

@Suite struct SMTPServerRestrictionTests {
    @Test func heloRejectionKeepsThePreviousName() {
        var c = SMTPServerConversation.standard { $0.checksHelo = true }
        c.rejectedHelo = "bad.example"
        #expect(c.reply("EHLO good.example").hasPrefix("250"))
        #expect(c.reply("HELO bad.example") == "554 5.7.1 <bad.example>: Helo command rejected: Access denied")
        #expect(c.machine.heloName == "good.example")
        #expect(c.reply("MAIL FROM:<a@b.example>") == "250 2.1.0 Ok")
    }

    @Test func dataRejectionKeepsTheTransaction() {
        var c = SMTPServerConversation.standard { $0.checksData = true }
        c.rejectData = true
        c.command("EHLO client.example")
        c.command("MAIL FROM:<a@b.example>")
        #expect(c.reply("RCPT TO:<accuser1@acc.test>").hasPrefix("250"))
        #expect(c.reply("DATA") == "554 5.7.1 <DATA>: Data command rejected: Access denied")
        #expect(c.machine.transaction?.recipients.count == 1)
        c.rejectData = false
        #expect(c.reply("DATA").hasPrefix("354"))
    }
}
