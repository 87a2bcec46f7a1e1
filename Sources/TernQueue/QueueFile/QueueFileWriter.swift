import Glibc
import Synchronization
public import TernCore

/// Writes one new queue file: `create` (fresh queue ID, O_EXCL), `writeEnvelope`, `append` content
/// (buffered), then `commit` (extracted records + completion mark, fsync file, fsync directory) or
/// `abort` (unlink). Until `commit` returns the file has no completion mark and is never delivered;
/// a writer dropped without either is aborted. One session owns a writer; the lock only makes it safe
/// to hand between tasks.
public final class QueueFileWriter: Sendable {
    public let queueID: QueueID
    public let path: String
    private let directoryPath: String
    /// The directory entry is already on disk (a spare): commit fsyncs the file only.
    private let entryDurable: Bool

    private enum Phase { case envelope, content, finished }

    private struct State {
        var fd: Int32
        var phase: Phase = .envelope
        var buffer: [UInt8] = []
        var offset = 0
        var contentOffset = 0
        var contentLength = 0
        var summary = ContentSummary()
    }

    private let state: Mutex<State>

    /// Flush to the file once this much is buffered.
    static let bufferLimit = 64 * 1024

    private init(queueID: QueueID, path: String, directoryPath: String, fd: Int32, entryDurable: Bool) {
        self.queueID = queueID
        self.path = path
        self.directoryPath = directoryPath
        self.entryDurable = entryDurable
        self.state = Mutex(State(fd: fd))
    }

    deinit {
        let leftover = state.withLock { state -> Int32 in
            defer { state.phase = .finished }
            return state.phase == .finished ? -1 : state.fd
        }
        if leftover >= 0 {
            close(leftover)
            unlink(path)
        }
    }

    /// Creates an empty queue file with a new queue ID in `queue` (incoming for smtpd and pickup,
    /// maildrop for local submission).
    /// `mode` 0644 is for files sendmail drops into maildrop/, which the daemon (another user) reads.
    /// `spares` (incoming/, mode 0600 only) supplies a file made ahead of time when it has one.
    public static func create(
        in directory: QueueDirectory, queue: QueueName = .incoming, mode: UInt32 = 0o600,
        spares: SpareQueueFiles? = nil
    ) throws(QueueError) -> QueueFileWriter {
        if queue == .incoming, mode == 0o600, let (id, path, fd) = spares?.take() {
            return QueueFileWriter(
                queueID: id, path: path, directoryPath: directory.directoryPath(queue, id), fd: fd, entryDurable: true)
        }
        let (id, path, fd) = try directory.createUniqueFile(in: queue, mode: mode)
        return QueueFileWriter(
            queueID: id, path: path, directoryPath: directory.directoryPath(queue, id), fd: fd, entryDurable: false)
    }

    /// Writes the envelope segment; must come before any content.
    public func writeEnvelope(_ envelope: QueueEnvelope) throws(QueueError) {
        let path = self.path
        try state.withLock { (state: inout State) throws(QueueError) in
            guard state.phase == .envelope else {
                throw QueueError(.invalid, path: path, message: "envelope written twice or after content")
            }
            let bytes = QueueFileFormat.envelopeBytes(envelope).bytes
            guard bytes.count <= QueueFileFormat.maxEnvelopeLength else {
                throw QueueError(.invalid, path: path, message: "envelope too large")
            }
            state.buffer += bytes
            state.offset += bytes.count
            state.contentOffset = state.offset
            state.phase = .content
        }
    }

    /// Appends content bytes (LF line ends, as cleanup produces them).
    public func append(_ bytes: some Collection<UInt8>) throws(QueueError) {
        let path = self.path
        try state.withLock { (state: inout State) throws(QueueError) in
            guard state.phase == .content else {
                throw QueueError(.invalid, path: path, message: "content before envelope or after commit")
            }
            state.buffer.append(contentsOf: bytes)
            state.offset += bytes.count
            state.contentLength += bytes.count
            if state.buffer.count >= Self.bufferLimit { try Self.flush(&state, path: path) }
        }
    }

    /// Content bytes appended so far (the message size cleanup enforces message_size_limit on).
    public var contentLength: Int { state.withLock { $0.contentLength } }

    /// Values that go after the content (the Message-ID cleanup found or generated).
    public func setSummary(_ summary: ContentSummary) {
        state.withLock { $0.summary = summary }
    }

    /// Writes the extracted records and the completion mark, then fsyncs the file and its directory (not
    /// for a spare, whose entry is on disk already; see `SpareQueueFiles`).
    /// After this returns the message is safe: only now may smtpd answer 250.
    /// `renamingTo` (a path in another queue directory, e.g. hold/ for HOLD) moves the file there before
    /// the completion mark is written, so the queue manager never sees it complete in incoming/.
    public func commit(renamingTo target: String? = nil) throws(QueueError) {
        let path = self.path
        let directoryPath = self.directoryPath
        try state.withLock { (state: inout State) throws(QueueError) in
            guard state.phase == .content else {
                throw QueueError(.invalid, path: path, message: "commit without envelope or twice")
            }
            if let target {
                try Self.flush(&state, path: path)
                guard rename(path, target) == 0 else { throw FileSystem.failure("rename \(target)", path) }
            }
            let extractedOffset = state.offset
            state.buffer += QueueFileFormat.extractedBytes(state.summary)
            state.buffer += QueueFileFormat.trailer(
                contentOffset: state.contentOffset, contentLength: state.contentLength,
                extractedOffset: extractedOffset)
            try Self.flush(&state, path: path)
            try FileSystem.fsync(state.fd, path: path)
            close(state.fd)
            state.phase = .finished
            if let target { try FileSystem.fsyncDirectory(String(target[..<(target.lastIndex(of: "/") ?? target.endIndex)])) }
            if entryDurable && target == nil { return }
            do throws(QueueError) {
                try FileSystem.fsyncDirectory(directoryPath)
            } catch {
                guard error.errno == EACCES && directoryPath.hasSuffix("/\(QueueName.maildrop.rawValue)") else {
                    throw error
                }
                // sendmail run by a user cannot open the write-only maildrop/ to fsync it; the file itself is
                // fsynced (as Postfix's postdrop does it) and pickup takes it from there.
            }
        }
    }

    /// Discards the file (client went away, message rejected, write error).
    public func abort() {
        let fd = state.withLock { state -> Int32 in
            defer { state.phase = .finished }
            return state.phase == .finished ? -1 : state.fd
        }
        guard fd >= 0 else { return }
        close(fd)
        unlink(path)
    }

    private static func flush(_ state: inout State, path: String) throws(QueueError) {
        guard !state.buffer.isEmpty else { return }
        let fd = state.fd
        let result: QueueError? = state.buffer.withUnsafeBytes { raw in
            do throws(QueueError) { try FileSystem.writeAll(fd, raw, path: path) } catch { return error }
            return nil
        }
        if let result { throw result }
        state.buffer.removeAll(keepingCapacity: true)
    }
}
