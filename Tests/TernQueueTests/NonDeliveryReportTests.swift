import Foundation
import Testing
import TernCore

@testable import TernQueue

@Suite struct NonDeliveryReportTests {
    @Test func reportHasThePartsAndFieldsOfRFC3464() throws {
        let report = NonDeliveryReport(
            queueID: try #require(QueueID("3F1B2A1F0F")), hostname: "mail.example.org", sender: "s@example.org",
            arrival: Date(timeIntervalSince1970: 1_700_000_000),
            recipients: [
                .init(
                    address: "nobody@remote.example", originalRecipient: "rfc822;nobody@remote.example", status: "5.1.1",
                    reason: "host mx[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)",
                    remoteMTA: "mx", diagnostic: "smtp; 550 5.1.1 no such user")
            ])
        let original = Array("Subject: hi\nMessage-ID: <x@y>\n\nbody\n".utf8)
        let text = String(decoding: report.content(original: original, messageID: "<n@mail.example.org>"), as: UTF8.self)
        #expect(text.contains("Content-Type: multipart/report; report-type=delivery-status;"))
        #expect(text.contains("From: MAILER-DAEMON@mail.example.org (Mail Delivery System)"))
        #expect(text.contains("Content-Type: message/delivery-status"))
        #expect(text.contains("Final-Recipient: rfc822; nobody@remote.example\nOriginal-Recipient: rfc822;nobody@remote.example\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx\nDiagnostic-Code: smtp; 550 5.1.1 no such user\n"))
        #expect(text.contains("Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\nSubject: hi\nMessage-ID: <x@y>\n\nbody\n"))
        #expect(text.hasSuffix("--\n"))
        let headersOnly = NonDeliveryReport(
            queueID: report.queueID, hostname: report.hostname, sender: report.sender, arrival: report.arrival,
            recipients: report.recipients, headersOnly: true)
        let short = String(decoding: headersOnly.content(original: original, messageID: "<n@h>"), as: UTF8.self)
        #expect(short.contains("Content-Type: text/rfc822-headers"))
        #expect(!short.contains("\nbody\n"))
    }

    @Test func longReasonsAreFoldedWithIndent() {
        let folded = NonDeliveryReport.fold(String(repeating: "word ", count: 30))
        #expect(folded.split(separator: "\n").count > 1)
        #expect(folded.split(separator: "\n").dropFirst().allSatisfy { $0.hasPrefix("    ") })
    }
}
