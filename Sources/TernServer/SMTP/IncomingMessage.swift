import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TernCore
import TernMIME
import TernQueue
import TernSMTP

/// One message being received: the queue file in incoming/ and cleanup in front of it. The 250 reply is
/// sent only after `commit()` has fsynced the file and its directory.
///
/// When header addresses are rewritten (a `headerRewriter`), cleanup holds the header section back; at its
/// end the rewriting (table lookups) runs off the event loop while body lines wait in the buffer, then the
/// rewritten headers and the buffer are written, and commit waits for that.
final class IncomingMessage: Sendable {
    let writer: QueueFileWriter
    private let state: Mutex<State>
    private let log: MailLog
    private let headerRewriter: AddressRewriter?
    /// The reply for a message cleanup refuses whatever its content (an envelope rewriting error).
    private let rejection: SMTPReply?
    /// What smtpd's access policy decided for the message (HOLD, DISCARD, FILTER); the content checks add theirs.
    private let policyDisposition: MessageDisposition
    /// For HOLD: the committed file moves to hold/.
    private let queue: QueueDirectory
    private let eventLoop: any EventLoop
    private let onCommit: @Sendable (QueueID) -> Void

    private struct State: Sendable {
        var cleanup: Cleanup
        var buffer: [UInt8] = []
        var writeError: QueueError?
        /// False while the header section is held back for rewriting; the buffer is not written meanwhile.
        var headersWritten: Bool
        /// The header rewriting, once started; it writes the headers and the buffer when it is done.
        var headerRewrite: EventLoopFuture<Void>?
        var rewriteError: RewriteError?
    }

    init(
        writer: QueueFileWriter, cleanup: Cleanup, headerRewriter: AddressRewriter?, rejection: SMTPReply?,
        policyDisposition: MessageDisposition = MessageDisposition(), queue: QueueDirectory, eventLoop: any EventLoop,
        log: MailLog, onCommit: @escaping @Sendable (QueueID) -> Void
    ) {
        self.policyDisposition = policyDisposition
        self.queue = queue
        self.writer = writer
        self.state = Mutex(State(cleanup: cleanup, headersWritten: headerRewriter == nil))
        self.headerRewriter = headerRewriter
        self.rejection = rejection
        self.eventLoop = eventLoop
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
            logChecks(&state.cleanup)
            if !state.headersWritten {
                if state.cleanup.headersEnded { startHeaderRewrite(&state) }
                return
            }
            if state.buffer.count >= 64 * 1024 { flush(&state) }
        }
    }

    /// The content checks' log lines (reject, warning, hold, ...), as cleanup logs them.
    private func logChecks(_ cleanup: inout Cleanup) {
        for line in cleanup.takeLogLines() {
            if line.warning { log.warning("cleanup", line.text) } else { log.info("cleanup", line.text) }
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

    /// Rewrites the held headers off the event loop, then writes them and what waited in the buffer.
    private func startHeaderRewrite(_ state: inout State) {
        guard let rewriter = headerRewriter, state.headerRewrite == nil else { return }
        let headers = state.cleanup.heldHeaders
        state.headerRewrite = eventLoop.makeFutureWithLoopTask { () async -> Result<[UInt8], RewriteError> in
            do throws(RewriteError) {
                return .success(try await rewriter.rewriteHeaderSection(headers))
            } catch {
                return .failure(error)
            }
        }.map { result in
            self.state.withLock { state in
                switch result {
                case .success(let bytes):
                    do throws(QueueError) {
                        try self.writer.append(bytes)
                    } catch {
                        state.writeError = error
                    }
                case .failure(let error):
                    state.rewriteError = error
                }
                state.headersWritten = true
                self.flush(&state)
            }
        }
    }

    /// Finishes cleanup, writes and fsyncs (on the thread pool); the result arrives on `eventLoop`. On
    /// success the queue manager is told about the new file.
    func commit(on eventLoop: any EventLoop) -> EventLoopFuture<Result<QueueID, SMTPReply>> {
        let headerRewrite: EventLoopFuture<Void>? = state.withLock { state in
            state.cleanup.finish(into: &state.buffer)
            if !state.headersWritten { startHeaderRewrite(&state) }
            return state.headerRewrite
        }
        guard let headerRewrite else { return writeAndCommit(on: eventLoop) }
        return headerRewrite.hop(to: eventLoop).flatMap { self.writeAndCommit(on: eventLoop) }
    }

    private func writeAndCommit(on eventLoop: any EventLoop) -> EventLoopFuture<Result<QueueID, SMTPReply>> {
        let writer = self.writer
        let outcome: Result<(String?, MessageDisposition), SMTPReply> = state.withLock { state in
            flush(&state)
            logChecks(&state.cleanup)
            if let rejection { return .failure(rejection) }
            if let error = state.rewriteError {
                log.warning("cleanup", "\(writer.queueID): \(error.logText)")
                return .failure(error.reply)
            }
            if let error = state.cleanup.error {
                return .failure(SMTPReply(parsing: error.reply) ?? .queueFileWriteError)
            }
            if state.writeError != nil { return .failure(.queueFileWriteError) }
            var disposition = policyDisposition
            disposition.merge(state.cleanup.disposition)
            writer.setSummary(
                ContentSummary(
                    messageID: state.cleanup.messageID, redirect: disposition.redirect, filter: disposition.filter))
            return .success((state.cleanup.messageID, disposition))
        }
        guard case .success(let (messageID, disposition)) = outcome else {
            writer.abort()
            return eventLoop.makeSucceededFuture(outcome.map { _ in writer.queueID })
        }
        // Logged before the commit, as Postfix's cleanup logs it while reading the header: once committed the
        // queue manager may already log `from=`.
        if let messageID { log.info("cleanup", "\(writer.queueID): message-id=\(messageID)") }
        if disposition.discard {
            // DISCARD: the client hears that the message was queued; the file is gone (Postfix's cleanup).
            writer.abort()
            return eventLoop.makeSucceededFuture(.success(writer.queueID))
        }
        let (queue, mailLog) = (self.queue, self.log)
        return BlockingIO.pool.runIfActive(eventLoop: eventLoop) { () throws -> QueueID? in
            // HOLD: to hold/ before the reply, where only `postsuper -H` releases it.
            let target = disposition.hold ? queue.filePath(.hold, writer.queueID) : nil
            try writer.commit(renamingTo: target)
            return queue.bccCopy(of: target ?? writer.path, id: writer.queueID, disposition: disposition, log: mailLog)
        }
            .map { [onCommit] copy in
                if !disposition.hold { onCommit(writer.queueID) }
                if let copy { onCommit(copy) }
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
