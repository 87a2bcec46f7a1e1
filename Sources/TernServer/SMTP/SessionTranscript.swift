import Foundation
import TernMIME
import TernSMTP

/// smtpd's command history and error classes, for the postmaster notice Postfix's smtpd_chat_notify()
/// sends when a session had an error of a class in notify_classes (`Postfix SMTP server: errors from ...`).
struct SessionTranscript {
    /// postconf(5) notify_classes names of the errors smtpd sees.
    enum ErrorClass: String, Sendable {
        /// A 5xx rejection of an unknown recipient, an oversized or looping message.
        case bounce
        /// A rejection by a restriction (relay access denied, ...).
        case policy
        /// A command the client got wrong (500-503 replies).
        case `protocol`
        /// The queue file could not be written.
        case resource
        /// An internal error.
        case software
    }

    /// smtpd_history_flush_threshold: Postfix keeps at most this many lines; older ones are dropped here.
    static let lineLimit = 100

    private(set) var lines: [String] = []
    private(set) var errors: Set<ErrorClass> = []

    /// A command line as the client sent it; AUTH arguments are left out (they carry credentials).
    mutating func received(_ command: String) {
        var line = command
        if line.uppercased().hasPrefix("AUTH ") { line = line.split(separator: " ").prefix(2).joined(separator: " ") }
        append(" In:  " + Self.printable(line))
    }

    /// A reply as it went out, one transcript line per reply line; 500-503 count as protocol errors.
    mutating func sent(_ reply: SMTPReply) {
        for line in reply.encodedString.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast() {
            append(" Out: " + Self.printable(String(line)))
        }
        if (500...503).contains(reply.code) { errors.insert(.protocol) }
    }

    mutating func record(_ error: ErrorClass) {
        errors.insert(error)
    }

    /// A message was queued: earlier errors are forgiven, as smtpd clears its error mask then.
    mutating func messageQueued() {
        errors.removeAll()
    }

    /// The notice's content (LF line ends): Postfix's headers and text, with `mail_name` in the subject.
    func notice(mailName: String, hostname: String, client: String, to: String, messageID: String, now: Date) -> [UInt8] {
        var text = """
            From: MAILER-DAEMON@\(hostname) (Mail Delivery System)
            To: Postmaster <\(to)>
            Subject: \(mailName) SMTP server: errors from \(client)
            Message-Id: \(messageID)
            Date: \(MailDate.rfc5322(epochSeconds: Int(now.timeIntervalSince1970)))

            Transcript of session follows.


            """
        for line in lines { text += line + "\n" }
        text += "\n\nFor other details, see the local mail logfile\n"
        return Array(text.utf8)
    }

    private mutating func append(_ line: String) {
        if lines.count == Self.lineLimit { lines.removeFirst() }
        lines.append(line)
    }

    /// Postfix's printable(): control and non-ASCII bytes become `?`.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { (0x20..<0x7F).contains($0.value) ? $0 : "?" }))
    }
}
