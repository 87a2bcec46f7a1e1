import TernCore
import TernQueue

extension QueueDirectory {
    /// header_checks BCC: the queue file's recipients were written before its content was seen, so the BCC
    /// addresses get a copy of the committed message (same sender and content, NOTIFY=NEVER as Postfix's
    /// cleanup_addr_bcc) under a new queue ID. Returns that ID.
    func queueBccCopy(of path: String, to addresses: [String]) throws -> QueueID {
        let file = try QueueFile.open(path: path, writable: false)
        var envelope = file.envelope
        envelope.recipients = addresses.map { QueueRecipient(MailAddress($0), notify: .never) }
        return try file.requeue(in: self, envelope: envelope)
    }
}

extension QueueDirectory {
    /// The BCC copy of a just committed file when the checks asked for one; a failure is logged and the
    /// message itself stays queued (the client must not send it again).
    func bccCopy(of path: String, id: QueueID, disposition: MessageDisposition, log: MailLog) -> QueueID? {
        guard !disposition.bcc.isEmpty else { return nil }
        do {
            let copy = try queueBccCopy(of: path, to: disposition.bcc)
            log.info("cleanup", "\(id): bcc copy queued as \(copy)")
            return copy
        } catch {
            log.warning("cleanup", "\(id): cannot queue the bcc copy: \(error)")
            return nil
        }
    }
}
