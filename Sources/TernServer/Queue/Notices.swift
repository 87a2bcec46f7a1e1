import Foundation
import TernCore
import TernQueue

/// A recipient that a notice reports on (bounced, delayed or delivered in this delivery attempt).
struct BounceEntry: Sendable {
    var index: Int
    var recipient: QueueRecipient
    var outcome: RecipientOutcome
}

/// bounce(8): the notices about a message, to its sender and (per notify_classes) to the postmaster. Sender
/// notices are queued with the null sender and postmaster notices with double_bounce_sender, so a notice that
/// cannot be delivered never loops: a failed bounce goes to the postmaster (2bounce) or is dropped, and a
/// failed postmaster notice is dropped.
extension MessageDelivery {
    /// The non-delivery report for the recipients that failed (NOTIFY=NEVER or without FAILURE left out),
    /// plus the postmaster's copy (headers only) with notify_classes `bounce`.
    func returnToSender(_ bounces: [BounceEntry], id: QueueID, file: QueueFile) {
        let settings = context.settings
        let sender = file.envelope.sender.text
        if isPostmasterNotice(sender) {
            log.warning("bounce", "\(id): undeliverable postmaster notification discarded")
            return
        }
        if sender.isEmpty {
            // A bounce that bounced: the whole message to the postmaster with `2bounce` (or `bounce`, as in
            // Postfix), else dropped silently (as Postfix does).
            if !settings.notifyClasses.isDisjoint(with: ["2bounce", "bounce"]) {
                notify(.postmaster(settings.noticeRecipients.doubleBounce), .failure, bounces, id: id, file: file)
            }
            return
        }
        let reported = bounces.filter { $0.recipient.notify.isEmpty || $0.recipient.notify.contains(.failure) }
        notify(.sender, .failure, reported, id: id, file: file)
        if settings.notifyClasses.contains("bounce") {
            notify(.postmaster(settings.noticeRecipients.bounce), .failure, bounces, id: id, file: file)
        }
    }

    /// The delay warning for recipients still deferred after delay_warning_time (NOTIFY=DELAY or no NOTIFY,
    /// as Postfix), plus the postmaster's copy with notify_classes `delay`. False when a notice could not be
    /// queued: the warning is then not marked as sent and is tried again at the next deferral.
    func warnSender(_ delayed: [BounceEntry], id: QueueID, file: QueueFile) -> Bool {
        let settings = context.settings
        let envelope = file.envelope
        if isPostmasterNotice(envelope.sender.text) {
            log.warning("bounce", "\(id): undeliverable postmaster notification discarded")
            return true
        }
        let arrival = Date(timeIntervalSince1970: Double(envelope.arrivalSeconds))
        let kind = NonDeliveryReport.Kind.delay(
            warningHours: settings.delayWarningTime / 3600, lifetimeDays: settings.maximalQueueLifetime / 86400,
            retryUntil: arrival.addingTimeInterval(Double(settings.maximalQueueLifetime)))
        let reported = delayed.filter { $0.recipient.notify.isEmpty || $0.recipient.notify.contains(.delay) }
        var queued = notify(.sender, kind, reported, id: id, file: file)
        if settings.notifyClasses.contains("delay") {
            queued = notify(.postmaster(settings.noticeRecipients.delay), kind, delayed, id: id, file: file) && queued
        }
        return queued
    }

    /// NOTIFY=SUCCESS: a success notice for recipients delivered here (`delivered`) or handed to a next hop
    /// without DSN (`relayed`); a next hop with DSN got NOTIFY and reports itself.
    func reportSuccess(_ delivered: [BounceEntry], id: QueueID, file: QueueFile) {
        let reported = delivered.filter { $0.recipient.notify.contains(.success) && !$0.outcome.nextHopHandlesDSN }
        notify(.sender, .success, reported, id: id, file: file)
    }

    /// Mail from double_bounce_sender is a postmaster notification.
    func isPostmasterNotice(_ sender: String) -> Bool {
        sender.lowercased() == context.settings.postmasterNoticeSender.lowercased()
    }

    /// Queues one notice about `reported` (nothing when empty, or for the null sender). False when it
    /// could not be queued.
    @discardableResult
    private func notify(
        _ addressee: NonDeliveryReport.Addressee, _ kind: NonDeliveryReport.Kind, _ reported: [BounceEntry],
        id: QueueID, file: QueueFile
    ) -> Bool {
        let envelope = file.envelope
        let to: String
        let noticeSender: String
        switch addressee {
        case .sender:
            guard !envelope.sender.text.isEmpty else { return true }
            (to, noticeSender) = (envelope.sender.text, "")
        case .postmaster(let address):
            (to, noticeSender) = (address, context.settings.postmasterNoticeSender)
        }
        guard !reported.isEmpty else { return true }
        let settings = context.settings
        let report = NonDeliveryReport(
            queueID: id, hostname: settings.hostname, sender: envelope.sender.text,
            arrival: Date(timeIntervalSince1970: Double(envelope.arrivalMicroseconds) / 1_000_000),
            recipients: reported.map { entry in
                let smtp = entry.outcome.agent == "smtp" && entry.outcome.relay != "none"
                let action: String
                switch kind {
                case .failure: action = "failed"
                case .delay: action = "delayed"
                case .success: action = entry.outcome.agent == "smtp" ? "relayed" : "delivered"
                }
                return NonDeliveryReport.Recipient(
                    address: entry.recipient.address.text,
                    originalRecipient: entry.recipient.orcpt ?? entry.recipient.originalRecipient.map { "rfc822;\($0.text)" },
                    status: entry.outcome.dsn, reason: entry.outcome.text,
                    remoteMTA: smtp ? String(entry.outcome.relay.prefix { $0 != "[" }) : nil,
                    diagnostic: smtp ? "smtp; " + Self.serverReply(in: entry.outcome.text) : nil, action: action)
            },
            // Postmaster copies of bounces carry the headers only; a bounce that bounced comes back whole.
            envid: envelope.envid, headersOnly: envelope.ret == .headers || (addressee != .sender && !envelope.sender.text.isEmpty),
            kind: kind, addressee: addressee)
        var original: [UInt8] = []
        var offset = 0
        while offset < file.contentLength {
            guard let chunk = try? file.readContent(offset: offset, count: 65536), !chunk.isEmpty else { break }
            original += chunk
            offset += chunk.count
        }
        let what: String
        switch kind {
        case .failure: what = "non-delivery"
        case .delay: what = "delay"
        case .success: what = "delivery status"
        }
        do {
            let (noticeID, messageID) = try queue.postMail(sender: noticeSender, recipient: to, hostname: settings.hostname) {
                report.content(original: original, now: $1, messageID: $0)
            }
            log.info("bounce", "\(id): \(addressee == .sender ? "sender" : "postmaster") \(what) notification: \(noticeID)")
            log.info("cleanup", "\(noticeID): message-id=\(messageID)")
            manager?.queued(noticeID)
            return true
        } catch {
            log.warning("bounce", "\(id): cannot queue a \(what) notification: \(error)")
            return false
        }
    }

    /// `550 5.1.1 ...` out of `host x[1.2.3.4] said: 550 5.1.1 ... (in reply to RCPT TO command)`.
    static func serverReply(in text: String) -> String {
        var reply = Substring(text)
        if let said = reply.range(of: " said: ") ?? reply.range(of: " refused to talk to me: ") {
            reply = reply[said.upperBound...]
        }
        if let tail = reply.range(of: " (in reply to ", options: .backwards) { reply = reply[..<tail.lowerBound] }
        return String(reply)
    }
}
