import Foundation
import TernCore
import TernQueue

/// A recipient that bounced in this delivery attempt, for the sender's non-delivery report.
struct BounceEntry: Sendable {
    var index: Int
    var recipient: QueueRecipient
    var outcome: RecipientOutcome
}

extension MessageDelivery {
    /// bounce(8): one non-delivery report to the sender for the recipients that failed, queued with the null
    /// sender (so a report that cannot be delivered is never bounced again). NOTIFY=NEVER/without FAILURE
    /// recipients are left out; mail from the null sender gets no report.
    func returnToSender(_ bounces: [BounceEntry], id: QueueID, file: QueueFile) {
        let reported = bounces.filter { $0.recipient.notify.isEmpty || $0.recipient.notify.contains(.failure) }
        notifySender(reported, kind: .failure, id: id, file: file)
    }

    /// NOTIFY=SUCCESS: a success notice for recipients delivered here (`delivered`) or handed to a next hop
    /// without DSN (`relayed`); a next hop with DSN got NOTIFY and reports itself.
    func reportSuccess(_ delivered: [BounceEntry], id: QueueID, file: QueueFile) {
        let reported = delivered.filter { $0.recipient.notify.contains(.success) && !$0.outcome.nextHopHandlesDSN }
        notifySender(reported, kind: .success, id: id, file: file)
    }

    private func notifySender(_ reported: [BounceEntry], kind: NonDeliveryReport.Kind, id: QueueID, file: QueueFile) {
        let envelope = file.envelope
        guard !envelope.sender.text.isEmpty, !reported.isEmpty else { return }
        let settings = context.settings
        let report = NonDeliveryReport(
            queueID: id, hostname: settings.hostname, sender: envelope.sender.text,
            arrival: Date(timeIntervalSince1970: Double(envelope.arrivalMicroseconds) / 1_000_000),
            recipients: reported.map { entry in
                let smtp = entry.outcome.agent == "smtp" && entry.outcome.relay != "none"
                return NonDeliveryReport.Recipient(
                    address: entry.recipient.address.text,
                    originalRecipient: entry.recipient.orcpt ?? entry.recipient.originalRecipient.map { "rfc822;\($0.text)" },
                    status: entry.outcome.dsn, reason: entry.outcome.text,
                    remoteMTA: smtp ? String(entry.outcome.relay.prefix { $0 != "[" }) : nil,
                    diagnostic: smtp ? "smtp; " + Self.serverReply(in: entry.outcome.text) : nil,
                    action: kind == .failure ? "failed" : (entry.outcome.agent == "smtp" ? "relayed" : "delivered"))
            },
            envid: envelope.envid, headersOnly: envelope.ret == .headers, kind: kind)
        var original: [UInt8] = []
        var offset = 0
        while offset < file.contentLength {
            guard let chunk = try? file.readContent(offset: offset, count: 65536), !chunk.isEmpty else { break }
            original += chunk
            offset += chunk.count
        }
        let now = Date()
        do {
            let writer = try QueueFileWriter.create(in: queue)
            let messageID = "<\(Int(now.timeIntervalSince1970)).\(writer.queueID.value)@\(settings.hostname)>"
            try writer.writeEnvelope(
                QueueEnvelope(
                    arrivalMicroseconds: Int64(now.timeIntervalSince1970 * 1_000_000), sender: MailAddress(""),
                    recipients: [QueueRecipient(envelope.sender)]))
            try writer.append(report.content(original: original, now: now, messageID: messageID))
            writer.setSummary(ContentSummary(messageID: messageID))
            try writer.commit()
            let what = kind == .failure ? "non-delivery" : "delivery status"
            log.info("bounce", "\(id): sender \(what) notification: \(writer.queueID)")
            log.info("cleanup", "\(writer.queueID): message-id=\(messageID)")
            manager?.queued(writer.queueID)
        } catch {
            log.warning("bounce", "\(id): cannot queue a non-delivery notification: \(error)")
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
