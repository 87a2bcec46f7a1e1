import Foundation
import TernCore
import TernQueue

extension QueueDirectory {
    /// post_mail(3): queues a message the mail system writes itself (a notice) in incoming/, committed
    /// (fsynced) before it returns. `content` gets the Message-Id and the time for its headers. The caller
    /// logs and tells the queue manager.
    func postMail(
        sender: String, recipient: String, hostname: String, content: (_ messageID: String, _ now: Date) -> [UInt8]
    ) throws(QueueError) -> (id: QueueID, messageID: String) {
        let now = Date()
        let writer = try QueueFileWriter.create(in: self)
        let messageID = "<\(Int(now.timeIntervalSince1970)).\(writer.queueID.value)@\(hostname)>"
        try writer.writeEnvelope(
            QueueEnvelope(
                arrivalMicroseconds: Int64(now.timeIntervalSince1970 * 1_000_000), sender: MailAddress(sender),
                recipients: [QueueRecipient(MailAddress(recipient))]))
        try writer.append(content(messageID, now))
        writer.setSummary(ContentSummary(messageID: messageID))
        try writer.commit()
        return (writer.queueID, messageID)
    }
}
