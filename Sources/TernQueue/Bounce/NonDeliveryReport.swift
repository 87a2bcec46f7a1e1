public import Foundation
public import TernCore
import TernMIME

/// A delivery status notification as Postfix's bounce(8) writes it (RFC 3461-3464): multipart/report with a
/// human-readable part, message/delivery-status with per-recipient fields, and the returned message (or only
/// its headers for RET=HDRS, delay warnings, success notices and postmaster copies). Content only, LF line
/// ends, as the queue stores it.
public struct NonDeliveryReport: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Undeliverable: the non-delivery report.
        case failure
        /// Still deferred after delay_warning_time (RFC 3464 `Action: delayed`); the text names both times
        /// in Postfix's units (whole hours and days, rounded down).
        case delay(warningHours: Int, lifetimeDays: Int, retryUntil: Date)
        /// NOTIFY=SUCCESS: delivered (or relayed to a server without DSN).
        case success
    }

    /// Who the notice is for. A postmaster copy (notify_classes) has its own subject, no explanatory text
    /// and `Auto-Submitted: auto-generated`, as Postfix's.
    public enum Addressee: Sendable, Equatable {
        case sender
        case postmaster(String)
    }

    public struct Recipient: Sendable {
        public var address: String
        /// ORCPT as `type;address` (RFC 3461), or the original address.
        public var originalRecipient: String?
        /// `5.1.1`; a 4.x.x status when the message expired in the queue.
        public var status: String
        /// `host mx[192.0.2.1] said: 550 ... (in reply to RCPT TO command)`.
        public var reason: String
        /// The next hop that answered, for Remote-MTA / Diagnostic-Code: `smtp; 550 5.1.1 ...`.
        public var remoteMTA: String?
        public var diagnostic: String?
        /// RFC 3464 Action: failed, delivered, relayed.
        public var action: String

        public init(
            address: String, originalRecipient: String? = nil, status: String, reason: String,
            remoteMTA: String? = nil, diagnostic: String? = nil, action: String = "failed"
        ) {
            self.action = action
            self.address = address
            self.originalRecipient = originalRecipient
            self.status = status
            self.reason = reason
            self.remoteMTA = remoteMTA
            self.diagnostic = diagnostic
        }
    }

    public var queueID: QueueID
    public var hostname: String
    public var sender: String
    public var arrival: Date
    public var recipients: [Recipient]
    public var envid: String?
    /// RET=HDRS: return only the original headers.
    public var headersOnly: Bool
    public var kind: Kind
    public var addressee: Addressee

    public init(
        queueID: QueueID, hostname: String, sender: String, arrival: Date, recipients: [Recipient],
        envid: String? = nil, headersOnly: Bool = false, kind: Kind = .failure, addressee: Addressee = .sender
    ) {
        self.kind = kind
        self.addressee = addressee
        self.queueID = queueID
        self.hostname = hostname
        self.sender = sender
        self.arrival = arrival
        self.recipients = recipients
        self.envid = envid
        self.headersOnly = headersOnly
    }

    /// The report message; `original` is the returned message's content (LF line ends).
    public func content(original: [UInt8], now: Date = Date(), messageID: String) -> [UInt8] {
        let boundary = "\(queueID.value).\(Int(now.timeIntervalSince1970))/\(hostname)"
        // The original sender as the report names it; a bounce that bounced has the null sender.
        let originalSender = sender.isEmpty ? "MAILER-DAEMON@\(hostname)" : sender
        var to = sender
        var autoSubmitted = "auto-replied"
        if case .postmaster(let address) = addressee {
            to = address
            autoSubmitted = "auto-generated"
        }
        var text = """
            From: MAILER-DAEMON@\(hostname) (Mail Delivery System)
            Subject: \(subject)
            To: \(to)
            Auto-Submitted: \(autoSubmitted)
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status;
            \tboundary="\(boundary)"
            Content-Transfer-Encoding: 8bit
            Message-Id: \(messageID)
            Date: \(MailDate.rfc5322(epochSeconds: Int(now.timeIntervalSince1970)))

            This is a MIME-encapsulated message.

            --\(boundary)
            Content-Description: Notification
            Content-Type: text/plain; charset=us-ascii


            """
        if addressee == .sender { text += "This is the mail system at host \(hostname).\n\n" + explanation }
        for recipient in recipients {
            text += "\n" + Self.fold("<\(recipient.address)>: \(recipient.reason)") + "\n"
        }
        text += """

            --\(boundary)
            Content-Description: Delivery report
            Content-Type: message/delivery-status

            Reporting-MTA: dns; \(hostname)
            X-Postfix-Queue-ID: \(queueID.value)
            X-Postfix-Sender: rfc822; \(originalSender)

            """
        if let envid { text += "Original-Envelope-Id: \(envid)\n" }
        text += "Arrival-Date: \(MailDate.rfc5322(epochSeconds: Int(arrival.timeIntervalSince1970)))\n"
        for recipient in recipients {
            text += "\nFinal-Recipient: rfc822; \(recipient.address)\n"
            if let original = recipient.originalRecipient {
                text += "Original-Recipient: \(original.contains(";") ? original : "rfc822;" + original)\n"
            }
            text += "Action: \(recipient.action)\nStatus: \(recipient.status)\n"
            if let remote = recipient.remoteMTA { text += "Remote-MTA: dns; \(remote)\n" }
            text += "Diagnostic-Code: \(recipient.diagnostic ?? "X-Postfix; " + recipient.reason)\n"
            if case .delay(_, _, let until) = kind {
                text += "Will-Retry-Until: \(MailDate.rfc5322(epochSeconds: Int(until.timeIntervalSince1970)))\n"
            }
        }
        let onlyHeaders = headersOnly || kind != .failure
        let description = kind == .success ? "Delivered Message Headers" : (onlyHeaders ? "Undelivered Message Headers" : "Undelivered Message")
        text += """

            --\(boundary)
            Content-Description: \(description)
            Content-Type: \(onlyHeaders ? "text/rfc822-headers" : "message/rfc822")
            Content-Transfer-Encoding: 8bit


            """
        var bytes = Array(text.utf8)
        var returned = original
        if onlyHeaders, let end = Self.endOfHeaders(original) { returned = Array(original[..<end]) }
        bytes += returned
        if returned.last != 0x0A { bytes.append(0x0A) }
        bytes += Array("\n--\(boundary)--\n".utf8)
        return bytes
    }

    /// Postfix's subjects (bounce(5) templates: Subject and Postmaster-Subject).
    var subject: String {
        switch (kind, addressee) {
        case (.failure, .sender): "Undelivered Mail Returned to Sender"
        case (.failure, .postmaster): "Postmaster Copy: Undelivered Mail"
        case (.delay, .sender): "Delayed Mail (still being retried)"
        case (.delay, .postmaster): "Postmaster Warning: Delayed Mail"
        case (.success, _): "Successful Mail Delivery Report"
        }
    }

    /// The sender's explanatory text (bounce(5) failure_template, delay_template, success_template).
    var explanation: String {
        switch kind {
        case .failure:
            """
            I'm sorry to have to inform you that your message could not
            be delivered to one or more recipients. It's attached below.

            For further assistance, please send mail to postmaster.

            If you do so, please include this problem report. You can
            delete your own text from the attached returned message.

                               The mail system

            """
        case .delay(let hours, let days, _):
            """
            ####################################################################
            # THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
            ####################################################################

            Your message could not be delivered for more than \(hours) hour(s).
            It will be retried until it is \(days) day(s) old.

            For further assistance, please send mail to postmaster.

            If you do so, please include this problem report. You can
            delete your own text from the attached returned message.

                               The mail system

            """
        case .success:
            """
            Your message was successfully delivered to the destination(s)
            listed below. If the message was delivered to mailbox you will
            receive no further notifications. Otherwise you may still receive
            notifications of mail delivery errors from other systems.

                               The mail system

            """
        }
    }

    /// Index just past the header section's last line (before the empty line).
    static func endOfHeaders(_ content: [UInt8]) -> Int? {
        var index = 0
        while index < content.count {
            guard let newline = content[index...].firstIndex(of: 0x0A) else { return nil }
            if newline == index { return index }
            index = newline + 1
        }
        return nil
    }

    /// Postfix wraps reasons at about 76 columns, continuation lines indented by four spaces.
    static func fold(_ text: String, width: Int = 76) -> String {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let indent = lines.isEmpty ? "" : "    "
            if !current.isEmpty, indent.count + current.count + 1 + word.count > width {
                lines.append(indent + current)
                current = String(word)
            } else {
                current += current.isEmpty ? String(word) : " " + word
            }
        }
        lines.append((lines.isEmpty ? "" : "    ") + current)
        return lines.joined(separator: "\n")
    }
}
