import Foundation
import TernSMTP
import Testing

@testable import TernServer

/// The smtpd postmaster notice (notify_classes): Postfix's transcript layout and error classes.
@Suite struct SessionTranscriptTests {
    @Test func transcriptHasPostfixLayoutAndClasses() {
        var transcript = SessionTranscript()
        transcript.sent(SMTPReply(code: 220, "mail.example ESMTP Tern"))
        transcript.received("EHLO client\u{7}")
        transcript.sent(SMTPReply(code: 250, lines: ["mail.example", "PIPELINING"]))
        transcript.received("FOO bar")
        transcript.sent(SMTPReply(code: 500, enhancedStatus: "5.5.2", "Error: command not recognized"))
        transcript.received("AUTH PLAIN c2VjcmV0")
        #expect(transcript.errors == [.protocol])
        #expect(
            transcript.lines == [
                " Out: 220 mail.example ESMTP Tern", " In:  EHLO client?", " Out: 250-mail.example",
                " Out: 250 PIPELINING", " In:  FOO bar", " Out: 500 5.5.2 Error: command not recognized",
                " In:  AUTH PLAIN",
            ])
        let notice = String(
            decoding: transcript.notice(
                mailName: "Tern", hostname: "mail.example", client: "unknown[192.0.2.1]", to: "postmaster",
                messageID: "<n@mail.example>", now: Date(timeIntervalSince1970: 1_796_054_473)),
            as: UTF8.self)
        #expect(notice.hasPrefix("From: MAILER-DAEMON@mail.example (Mail Delivery System)\nTo: Postmaster <postmaster>\n"))
        #expect(notice.contains("Subject: Tern SMTP server: errors from unknown[192.0.2.1]\n"))
        #expect(notice.contains("\n\nTranscript of session follows.\n\n Out: 220 mail.example ESMTP Tern\n"))
        #expect(notice.hasSuffix(" In:  AUTH PLAIN\n\n\nFor other details, see the local mail logfile\n"))
    }

    @Test func aQueuedMessageClearsTheErrorsAndTheHistoryIsBounded() {
        var transcript = SessionTranscript()
        transcript.record(.resource)
        transcript.messageQueued()
        #expect(transcript.errors.isEmpty)
        for n in 0..<(SessionTranscript.lineLimit + 5) { transcript.received("NOOP \(n)") }
        #expect(transcript.lines.count == SessionTranscript.lineLimit)
        #expect(transcript.lines.last == " In:  NOOP \(SessionTranscript.lineLimit + 4)")
    }
}
