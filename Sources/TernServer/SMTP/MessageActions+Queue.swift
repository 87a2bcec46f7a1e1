import TernCore
import TernPolicy
import TernQueue

/// How the access map actions of a transaction reach the queued message (cleanup's part in Postfix).
extension MessageActions {
    /// REDIRECT replaces the recipients, BCC adds some; FILTER cannot be honoured here (no per-message
    /// content filter routing yet), which the log says.
    func apply(to envelope: inout QueueEnvelope, log: MailLog) {
        if let redirect {
            envelope.recipients = [QueueRecipient(MailAddress(redirect))]
        }
        for address in bcc where !envelope.recipients.contains(where: { $0.address.text == address }) {
            envelope.recipients.append(QueueRecipient(MailAddress(address), notify: .never))
        }
        if let filter {
            log.warning("smtpd", "FILTER \(filter) is not supported: the message is delivered without the content filter")
        }
    }

    /// After the queue file is committed: HOLD moves it to the hold queue, DISCARD removes it (the client
    /// was told it was queued). True when the queue manager should take the message as usual.
    func settle(_ id: QueueID, queue: QueueDirectory, log: MailLog) -> Bool {
        if discard {
            _ = try? queue.delete(id, in: [.incoming])
            return false
        }
        if hold {
            if (try? queue.hold(id, from: [.incoming])) == true { return false }
            log.warning("cleanup", "\(id): cannot move the message to the hold queue")
        }
        return true
    }
}
