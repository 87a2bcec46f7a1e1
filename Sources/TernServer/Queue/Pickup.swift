import Foundation
import CoreFoundation
import CDispatch  // this module sees `struct stat` through CDispatch (MemberImportVisibility)
import TernCore
import TernMIME
import TernQueue

/// pickup(8) for queue files in maildrop/: mail from `sendmail`, and mail `postsuper -r` puts there to be
/// queued again, goes to incoming/ under a new queue ID with the recipients that are still pending. Like
/// Postfix's pickup → cleanup, the envelope and the header addresses are rewritten (canonical, masquerade,
/// virtual aliases) when such rewriting is configured; the rest of the content is kept as it is.
struct Pickup {
    let queue: QueueDirectory
    let log: MailLog
    let rewriter: AddressRewriter
    /// header_checks and body_checks, which apply to local submissions too.
    var checks = ContentChecks()
    var headerSizeLimit = 102_400

    /// Re-queues every complete file in maildrop/; returns how many it moved.
    @discardableResult
    func run() async -> Int {
        guard let ids = try? queue.list(.maildrop) else { return 0 }
        var count = 0
        for id in ids {
            guard let path = queue.existingPath(.maildrop, id),
                let file = try? QueueFile.open(path: path, writable: false)
            else { continue }
            var envelope = file.envelope
            envelope.recipients = file.pendingRecipients.map { index in
                var recipient = envelope.recipients[index]
                recipient.status = .pending
                return recipient
            }
            var header: (bytes: [UInt8], replacing: Int)?
            if rewriter.isConfigured {
                do throws(RewriteError) {
                    try await rewriter.rewriteEnvelope(&envelope)
                    if rewriter.rewritesHeaders { header = try await rewrittenHeaderSection(file) }
                } catch {
                    // Left in maildrop/: the next scan tries again, as pickup does after a cleanup error.
                    log.warning("cleanup", "\(id): \(error.logText)")
                    continue
                }
            }
            var owner = stat()
            let uid = stat(path, &owner) == 0 ? owner.st_uid : getuid()
            do {
                var newID: QueueID
                if checks.isEmpty {
                    newID = try file.requeue(in: queue, envelope: envelope, header: header)
                } else {
                    switch try file.requeueChecked(
                        in: queue, envelope: envelope, header: header, checks: checks, headerSizeLimit: headerSizeLimit,
                        log: log)
                    {
                    case .queued(let id, _): newID = id
                    case .deferred: continue  // left in maildrop/ for the next scan
                    case .discarded:
                        _ = try queue.delete(id, in: [.maildrop])
                        log.info("pickup", "\(id): uid=\(uid) from=<\(file.envelope.sender.text)>")
                        count += 1
                        continue
                    }
                }
                _ = try queue.delete(id, in: [.maildrop])
                // The sender as submitted: cleanup rewrites it after pickup has logged it.
                log.info("pickup", "\(newID): uid=\(uid) from=<\(file.envelope.sender.text)>")
                count += 1
            } catch {
                log.warning("pickup", "\(id): cannot requeue: \(error)")
            }
        }
        return count
    }

    /// The file's header section with its addresses rewritten, and its length; nil when it is too big to look at.
    private func rewrittenHeaderSection(_ file: QueueFile) async throws(RewriteError) -> (
        bytes: [UInt8], replacing: Int
    )? {
        let section = file.headerSection()
        guard section.complete else { return nil }
        var headers: [[UInt8]] = []
        for line in section.bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            if HeaderField.isContinuation(line), !headers.isEmpty {
                headers[headers.count - 1] += [0x0A] + line
            } else {
                headers.append(Array(line))
            }
        }
        return (try await rewriter.rewriteHeaderSection(headers), section.bytes.count)
    }
}
