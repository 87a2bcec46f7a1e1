import Glibc
public import TernCore

/// Per-message recipient status logs kept next to the queue, as Postfix keeps them: `defer/H/ID`
/// (why recipients were deferred in the latest attempt: the `(reason)` lines of postqueue -p),
/// `bounce/ID` (permanent failures awaiting a bounce notice) and `trace/ID` (delivery reports for
/// `sendmail -v` / DSN SUCCESS). Format (docs/queue-format.md): one entry per recipient, `name=value`
/// lines, entries ended by an empty line. The queue manager removes the defer log when it starts a new
/// delivery attempt, so the listing shows the latest reasons only.
public struct DeliveryStatusLog: Sendable {
    /// One recipient's outcome.
    public struct Entry: Sendable, Equatable {
        public var recipient: String
        /// Index of the recipient record in the queue file, when the entry is about one.
        public var recipientIndex: Int?
        public var originalRecipient: String?
        /// RFC 3461 ORCPT (`rfc822;addr`).
        public var orcpt: String?
        /// RFC 3463 status, e.g. `4.4.1`.
        public var status: String
        /// RFC 3464 action: delayed, failed, delivered, relayed, expanded.
        public var action: String
        /// Human-readable reason, e.g. `connect to mx.example[192.0.2.1]:25: Connection refused`.
        public var reason: String

        public init(
            recipient: String, recipientIndex: Int? = nil, originalRecipient: String? = nil, orcpt: String? = nil,
            status: String, action: String, reason: String
        ) {
            self.recipient = recipient
            self.recipientIndex = recipientIndex
            self.originalRecipient = originalRecipient
            self.orcpt = orcpt
            self.status = status
            self.action = action
            self.reason = reason
        }
    }

    public let queue: QueueDirectory
    /// `.defer`, `.bounce` or `.trace`.
    public let kind: QueueName

    /// A log larger than this is read only up to here (a message has at most a few thousand recipients).
    static let maxLogSize = 16 << 20
    static let maxValueLength = 8192

    public init(queue: QueueDirectory, kind: QueueName) {
        self.queue = queue
        self.kind = kind
    }

    public func path(_ id: QueueID) -> String { queue.filePath(kind, id) }

    /// Appends entries with one write(2) on an O_APPEND descriptor, then fsyncs.
    public func append(_ entries: [Entry], for id: QueueID) throws(QueueError) {
        let dir = queue.directoryPath(kind, id)
        if queue.hashedQueues.contains(kind) { try FileSystem.makeDirectory(dir, mode: 0o700) }
        var text = ""
        for e in entries {
            text += "recipient=\(clean(e.recipient))\n"
            if let i = e.recipientIndex { text += "recipient_index=\(i)\n" }
            if let o = e.originalRecipient { text += "original_recipient=\(clean(o))\n" }
            if let o = e.orcpt { text += "dsn_orig_rcpt=\(clean(o))\n" }
            text += "status=\(clean(e.status))\naction=\(clean(e.action))\nreason=\(clean(e.reason))\n\n"
        }
        let file = path(id)
        let fd = try FileSystem.open(file, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let failure: QueueError? = bytes.withUnsafeBytes { raw in
            do throws(QueueError) { try FileSystem.writeAll(fd, raw, path: file) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        try FileSystem.fsync(fd, path: file)
    }

    public func append(_ entry: Entry, for id: QueueID) throws(QueueError) {
        try append([entry], for: id)
    }

    /// The entries in the log, oldest first; none when there is no log. Malformed lines are skipped.
    public func read(_ id: QueueID) throws(QueueError) -> [Entry] {
        guard let file = queue.existingPath(kind, id) else { return [] }
        let fd: Int32
        do { fd = try FileSystem.open(file, O_RDONLY) } catch where error.errno == ENOENT { return [] }
        defer { close(fd) }
        let bytes = try FileSystem.pread(fd, count: Self.maxLogSize, at: 0, path: file)
        var entries: [Entry] = []
        var fields: [String: String] = [:]
        func finish() {
            if let r = fields["recipient"] {
                entries.append(
                    Entry(
                        recipient: r, recipientIndex: fields["recipient_index"].flatMap { Int($0) },
                        originalRecipient: fields["original_recipient"], orcpt: fields["dsn_orig_rcpt"],
                        status: fields["status"] ?? "", action: fields["action"] ?? "", reason: fields["reason"] ?? ""))
            }
            fields = [:]
        }
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.isEmpty {
                finish()
                continue
            }
            guard line.count <= Self.maxValueLength + 64, let eq = line.firstIndex(of: UInt8(ascii: "=")) else {
                continue
            }
            fields[String(decoding: line[..<eq], as: UTF8.self)] = String(decoding: line[(eq + 1)...], as: UTF8.self)
        }
        finish()
        return entries
    }

    /// Removes the log (start of a new delivery attempt, or the message is gone).
    public func remove(_ id: QueueID) {
        if let file = queue.existingPath(kind, id) { unlink(file) }
    }

    /// Values are one line: line ends become spaces, and overlong values are cut.
    private func clean(_ value: String) -> String {
        var text = String(value.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        if text.utf8.count > Self.maxValueLength { text = String(decoding: text.utf8.prefix(Self.maxValueLength), as: UTF8.self) }
        return text
    }
}
