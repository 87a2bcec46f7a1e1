import Foundation
import CoreFoundation
import TernCore
import TernQueue

/// pickup(8) for queue files in maildrop/: `postsuper -r` puts mail there to be queued again under a new
/// queue ID with the recipients that are still pending (the content is kept as it is).
struct Pickup {
    let queue: QueueDirectory
    let log: MailLog

    /// Re-queues every complete file in maildrop/; returns how many it moved.
    @discardableResult
    func run() -> Int {
        guard let ids = try? queue.list(.maildrop) else { return 0 }
        var count = 0
        for id in ids {
            guard let path = queue.existingPath(.maildrop, id), let file = try? QueueFile.open(path: path, writable: false)
            else { continue }
            var envelope = file.envelope
            envelope.recipients = file.pendingRecipients.map { index in
                var recipient = envelope.recipients[index]
                recipient.status = .pending
                return recipient
            }
            var owner = stat()
            let uid = stat(path, &owner) == 0 ? owner.st_uid : getuid()
            do {
                let newID = try file.requeue(in: queue, envelope: envelope)
                _ = try queue.delete(id, in: [.maildrop])
                log.info("pickup", "\(newID): uid=\(uid) from=<\(envelope.sender.text)>")
                count += 1
            } catch {
                log.warning("pickup", "\(id): cannot requeue: \(error)")
            }
        }
        return count
    }
}
