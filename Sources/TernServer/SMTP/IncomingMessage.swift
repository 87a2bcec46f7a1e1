import Foundation
import Synchronization
import NIOCore
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

    /// Finishes cleanup, writes and fsyncs (on the thread pool); the result arrives on `eventLoop`. On
    /// success the queue manager is told about the new file.
    func commit(on eventLoop: any EventLoop) -> EventLoopFuture<Result<QueueID, SMTPReply>> {
        let writer = self.writer
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
        guard case .success(let messageID) = outcome else {
            writer.abort()
            return eventLoop.makeSucceededFuture(outcome.map { _ in writer.queueID })
        }
        return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try writer.commit() }
            .map { [log, onCommit] in
                if let messageID { log.info("cleanup", "\(writer.queueID): message-id=\(messageID)") }
                onCommit(writer.queueID)
                return .success(writer.queueID)
            }
            .recover { [log] error in
                log.warning("cleanup", "\(writer.queueID): queue file write error: \(error)")
                writer.abort()
                return .failure(.queueFileWriteError)
            }
    }

    func abort() {
        writer.abort()
    }
}
