import TernCore
import TernQueue

extension QueueFile {
    /// What became of a message pickup ran through the content checks.
    enum CheckedRequeue {
        /// Queued under this ID (held when the checks said HOLD; bounced to the sender at delivery when they
        /// said REJECT, as Postfix's cleanup bounces rejected local submissions).
        case queued(QueueID, held: Bool)
        /// DISCARD: nothing queued.
        case discarded
        /// A table could not be searched: the caller leaves the file in maildrop/ for the next scan.
        case deferred
    }

    /// pickup → cleanup with header_checks and body_checks: queues this message's content again under a
    /// new queue ID, line by line through `Cleanup` with a `ContentInspector` (pieces of at most
    /// `lineLimit` bytes, so nothing unbounded is held), like `requeue` otherwise. `header` replaces the
    /// first `replacing` content bytes (the rewritten header section).
    func requeueChecked(
        in queue: QueueDirectory, envelope: QueueEnvelope, header: (bytes: [UInt8], replacing: Int)?,
        checks: ContentChecks, headerSizeLimit: Int, lineLimit: Int = 2048, log: MailLog
    ) throws(QueueError) -> CheckedRequeue {
        let writer = try QueueFileWriter.create(in: queue)
        try writer.writeEnvelope(envelope)
        let origin = ContentCheckOrigin(
            client: "local", sender: envelope.sender.text, recipient: envelope.recipients.last?.address.text)
        var cleanup = Cleanup(
            queueID: writer.queueID, sender: envelope.sender, arrivalSeconds: envelope.arrivalSeconds,
            options: CleanupOptions(myHostname: "", addMissingHeaders: false, headerSizeLimit: headerSizeLimit),
            inspector: ContentInspector(checks: checks, queueID: writer.queueID, origin: origin))
        var output: [UInt8] = []
        var line: [UInt8] = []
        var continued = false
        func feed(_ bytes: some Collection<UInt8>) throws(QueueError) {
            for byte in bytes {
                if byte == UInt8(ascii: "\n") {
                    cleanup.process(line: line, into: &output)
                    line.removeAll(keepingCapacity: true)
                    continued = false
                    continue
                }
                line.append(byte)
                if line.count >= lineLimit {
                    cleanup.process(line: line, continued: true, into: &output)
                    line.removeAll(keepingCapacity: true)
                    continued = true
                }
            }
            if output.count >= 64 * 1024 {
                try writer.append(output)
                output.removeAll(keepingCapacity: true)
            }
        }
        var offset = 0
        if let header {
            try feed(header.bytes)
            offset = header.replacing
        }
        while offset < contentLength {
            let chunk = try readContent(offset: offset, count: min(65536, contentLength - offset))
            if chunk.isEmpty { break }
            try feed(chunk)
            offset += chunk.count
        }
        if !line.isEmpty || continued { cleanup.process(line: line, into: &output) }
        cleanup.finish(into: &output)
        for entry in cleanup.takeLogLines() {
            if entry.warning { log.warning("cleanup", entry.text) } else { log.info("cleanup", entry.text) }
        }
        let disposition = cleanup.disposition
        var bounce: String?
        switch cleanup.error {
        case .lookupFailed?:
            writer.abort()
            return .deferred
        case let error?:
            // "550 5.7.1 text" → "5.7.1 text": every recipient bounces with it.
            bounce = String(error.reply.drop { $0 != " " }.dropFirst())
        case nil:
            if disposition.discard {
                writer.abort()
                return .discarded
            }
        }
        try writer.append(output)
        writer.setSummary(
            ContentSummary(
                messageID: cleanup.messageID ?? summary.messageID, redirect: disposition.redirect,
                filter: disposition.filter, bounce: bounce))
        let held = disposition.hold && bounce == nil
        let target = held ? queue.filePath(.hold, writer.queueID) : nil
        try writer.commit(renamingTo: target)
        if bounce == nil {
            _ = queue.bccCopy(of: target ?? writer.path, id: writer.queueID, disposition: disposition, log: log)
        }
        return .queued(writer.queueID, held: held)
    }
}
