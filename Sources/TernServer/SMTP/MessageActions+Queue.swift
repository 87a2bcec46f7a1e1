import TernCore
import TernPolicy
import TernQueue

/// How the access map actions of a transaction reach the queued message (cleanup's part in Postfix).
extension MessageActions {
    /// REDIRECT replaces the recipients, BCC adds some. HOLD, DISCARD and FILTER go to the message's
    /// disposition (IncomingMessage), with those of the content checks.
    func apply(to envelope: inout QueueEnvelope, log: MailLog) {
        if let redirect {
            envelope.recipients = [QueueRecipient(MailAddress(redirect))]
        }
        for address in bcc where !envelope.recipients.contains(where: { $0.address.text == address }) {
            envelope.recipients.append(QueueRecipient(MailAddress(address), notify: .never))
        }
    }
}
