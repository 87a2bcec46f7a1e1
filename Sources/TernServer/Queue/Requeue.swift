import TernCore
import TernQueue

extension QueueFile {
    /// Queues this message's content again under a new queue ID with another envelope (forwarded copies,
    /// pickup of requeued mail): written to incoming/ and committed (fsynced) before it returns.
    /// `header` replaces the first `replacing` content bytes (pickup's rewritten header section).
    func requeue(
        in queue: QueueDirectory, envelope: QueueEnvelope, header: (bytes: [UInt8], replacing: Int)? = nil
    ) throws(QueueError) -> QueueID {
        let writer = try QueueFileWriter.create(in: queue)
        try writer.writeEnvelope(envelope)
        var offset = 0
        if let header {
            try writer.append(header.bytes)
            offset = header.replacing
        }
        while offset < contentLength {
            let chunk = try readContent(offset: offset, count: min(65536, contentLength - offset))
            if chunk.isEmpty { break }
            try writer.append(chunk)
            offset += chunk.count
        }
        writer.setSummary(summary)
        try writer.commit()
        return writer.queueID
    }
}
