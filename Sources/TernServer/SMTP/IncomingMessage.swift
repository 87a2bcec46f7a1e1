import Foundation
import Synchronization
import NIOPosix
import TernCore
import TernMIME
import TernQueue
import TernSMTP

/// One message being received: the queue file in incoming/ and cleanup in front of it. The 250 reply is
/// sent only after `commit()` has fsynced the file and its directory.
final class IncomingMessage: Sendable {
    let writer: QueueFileWriter
    private let state: Mutex<State>
    private let log: MailLog
    private let onCommit: @Sendable (QueueID) -> Void

    private struct State: Sendable {
        var cleanup: Cleanup
        var buffer: [UInt8] = []
        var writeError: QueueError?
    }

    init(writer: QueueFileWriter, cleanup: Cleanup, log: MailLog, onCommit: @escaping @Sendable (QueueID) -> Void) {
        self.writer = writer
        self.state = Mutex(State(cleanup: cleanup))
        self.log = log
        self.onCommit = onCommit
    }

    /// Content lines from the DATA receiver (dot-unstuffed, without line ends).
    func write(_ records: [DataReceiver.Record]) {
        state.withLock { state in
            guard state.writeError == nil else { return }
            for record in records {
                state.cleanup.process(line: record.bytes, continued: record.continues, into: &state.buffer)
            }
            if state.buffer.count >= 64 * 1024 { flush(&state) }
        }
    }

    private func flush(_ state: inout State) {
        guard state.writeError == nil, !state.buffer.isEmpty else { return }
        do {
            try writer.append(state.buffer)
        } catch {
            state.writeError = error
        }
        state.buffer.removeAll(keepingCapacity: true)
    }

    /// Finishes cleanup, writes and fsyncs. On success the queue manager is told about the new file.
    func commit() async -> Result<QueueID, SMTPReply> {
        let outcome: Result<String?, SMTPReply> = state.withLock { state in
            state.cleanup.finish(into: &state.buffer)
            flush(&state)
            if let error = state.cleanup.error {
                return .failure(SMTPReply(parsing: error.reply) ?? .queueFileWriteError)
            }
            if state.writeError != nil { return .failure(.queueFileWriteError) }
            writer.setSummary(ContentSummary(messageID: state.cleanup.messageID))
            return .success(state.cleanup.messageID)
        }
        switch outcome {
        case .failure(let reply):
            writer.abort()
            return .failure(reply)
        case .success(let messageID):
            do {
                let writer = self.writer
                try await NIOThreadPool.singleton.runIfActive { try writer.commit() }
            } catch {
                log.warning("cleanup", "\(writer.queueID): queue file write error: \(error)")
                writer.abort()
                return .failure(.queueFileWriteError)
            }
            if let messageID { log.info("cleanup", "\(writer.queueID): message-id=\(messageID)") }
            onCommit(writer.queueID)
            return .success(writer.queueID)
        }
    }

    func abort() {
        writer.abort()
    }
}
