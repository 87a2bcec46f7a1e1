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

    static let arrival = Date(timeIntervalSince1970: 1_796_054_473)
    static let original = Array("Subject: test delay\nMessage-ID: <x@y>\n\nhello body\n".utf8)

    static func report(
        kind: NonDeliveryReport.Kind, addressee: NonDeliveryReport.Addressee = .sender, sender: String = "alice@sender.example",
        headersOnly: Bool = false
    ) throws -> String {
        let report = NonDeliveryReport(
            queueID: try #require(QueueID("6ACB1F8A51B")), hostname: "ref.example", sender: sender, arrival: arrival,
            recipients: [
                .init(
                    address: "bob@remote.example", originalRecipient: "rfc822;bob@remote.example", status: "4.4.1",
                    reason: "connect to 127.0.0.1[127.0.0.1]:25: Connection refused",
                    action: kind == .failure ? "failed" : "delayed")
            ], headersOnly: headersOnly, kind: kind, addressee: addressee)
        return String(decoding: report.content(original: original, now: arrival, messageID: "<n@ref.example>"), as: UTF8.self)
    }

    static let delay = NonDeliveryReport.Kind.delay(
        warningHours: 4, lifetimeDays: 5, retryUntil: arrival.addingTimeInterval(5 * 86400))

    /// Postfix 3.7's delay notice (delay_template), as the reference instance wrote it.
    @Test func delayWarningHasPostfixText() throws {
        let text = try Self.report(kind: Self.delay)
        #expect(text.contains("Subject: Delayed Mail (still being retried)\nTo: alice@sender.example\nAuto-Submitted: auto-replied\n"))
        #expect(text.contains("""
            Content-Type: text/plain; charset=us-ascii

            This is the mail system at host ref.example.

            ####################################################################
            # THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
            ####################################################################

            Your message could not be delivered for more than 4 hour(s).
            It will be retried until it is 5 day(s) old.

            For further assistance, please send mail to postmaster.

            If you do so, please include this problem report. You can
            delete your own text from the attached returned message.

                               The mail system

            <bob@remote.example>: connect to 127.0.0.1[127.0.0.1]:25: Connection refused

            """))
        #expect(text.contains("""
            Final-Recipient: rfc822; bob@remote.example
            Original-Recipient: rfc822;bob@remote.example
            Action: delayed
            Status: 4.4.1
            Diagnostic-Code: X-Postfix; connect to 127.0.0.1[127.0.0.1]:25: Connection refused
            Will-Retry-Until: Sat,  5 Dec 2026 16:01:13 +0000 (UTC)

            """))
        #expect(text.contains("Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n"))
        #expect(!text.contains("hello body"), "a delay warning returns the headers only")
    }

    /// notify_classes copies: Postfix's postmaster subjects, no explanation, `auto-generated`.
    @Test func postmasterCopiesHavePostfixSubjectsAndNoExplanation() throws {
        let copy = try Self.report(kind: .failure, addressee: .postmaster("postmaster"), headersOnly: true)
        #expect(copy.contains("Subject: Postmaster Copy: Undelivered Mail\nTo: postmaster\nAuto-Submitted: auto-generated\n"))
        #expect(copy.contains("charset=us-ascii\n\n\n<bob@remote.example>: connect to"))
        #expect(!copy.contains("This is the mail system"))
        #expect(copy.contains("X-Postfix-Sender: rfc822; alice@sender.example\n"))
        #expect(!copy.contains("hello body"))
        let warning = try Self.report(kind: Self.delay, addressee: .postmaster("pm@ref.example"))
        #expect(warning.contains("Subject: Postmaster Warning: Delayed Mail\nTo: pm@ref.example\n"))
        #expect(!warning.contains("THIS IS A WARNING ONLY"))
        // A bounce that bounced (2bounce): the null sender is named MAILER-DAEMON, the message comes back whole.
        let double = try Self.report(kind: .failure, addressee: .postmaster("postmaster"), sender: "")
        #expect(double.contains("X-Postfix-Sender: rfc822; MAILER-DAEMON@ref.example\n"))
        #expect(double.contains("Content-Description: Undelivered Message\nContent-Type: message/rfc822\n"))
        #expect(double.contains("hello body"))
    }
}
