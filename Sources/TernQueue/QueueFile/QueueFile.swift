import Glibc
import Synchronization
public import TernCore

/// An open, committed queue file (docs/queue-format.md): the parsed envelope, where the content lies,
/// and the descriptor delivery streams the content from. Recipient status changes are written in place
/// (one byte, `pwrite` + `fsync`), so they survive a crash and a move between queues (the descriptor
/// follows the inode through `rename`).
public final class QueueFile: Sendable {
    public let path: String
    public let queueID: QueueID?
    /// The envelope as read; recipient statuses reflect the file when it was opened. Use `status(of:)`
    /// for the current value after `markRecipient`.
    public let envelope: QueueEnvelope
    public let summary: ContentSummary
    /// Byte offset of the first content byte and the content length (LF line ends).
    public let contentOffset: Int
    public let contentLength: Int
    /// The open descriptor (read-write unless opened read-only); closed when this object goes away.
    public let fileDescriptor: Int32
    private let statusOffsets: [Int]
    private let statuses: Mutex<[RecipientStatus]>
    /// Where the delay warning record's number is; nil in files written before Tern had the record.
    private let delayWarningOffset: Int?

    private init(
        path: String, fd: Int32, envelope: QueueEnvelope, summary: ContentSummary, contentOffset: Int,
        contentLength: Int, statusOffsets: [Int], delayWarningOffset: Int?
    ) {
        self.delayWarningOffset = delayWarningOffset
        self.path = path
        self.queueID = QueueID(String(path.split(separator: "/").last ?? ""))
        self.fileDescriptor = fd
        self.envelope = envelope
        self.summary = summary
        self.contentOffset = contentOffset
        self.contentLength = contentLength
        self.statusOffsets = statusOffsets
        self.statuses = Mutex(envelope.recipients.map(\.status))
    }

    deinit { close(fileDescriptor) }

    /// Opens and validates a queue file. Throws `.incomplete` when the completion mark is missing
    /// (never deliver such a file) and `.corrupt` when the records do not parse.
    public static func open(path: String, writable: Bool = true) throws(QueueError) -> QueueFile {
        let fd = try FileSystem.open(path, writable ? O_RDWR : O_RDONLY)
        do {
            return try parse(fd: fd, path: path)
        } catch {
            close(fd)
            throw error
        }
    }

    private static func parse(fd: Int32, path: String) throws(QueueError) -> QueueFile {
        let size = try FileSystem.size(fd, path: path)
        let incomplete = QueueError(.incomplete, path: path, message: "queue file has no completion mark")
        let magic = QueueFileFormat.magic
        guard size >= magic.count + QueueFileFormat.trailerLength else { throw incomplete }
        let trailerBytes = try FileSystem.pread(
            fd, count: QueueFileFormat.trailerLength, at: size - QueueFileFormat.trailerLength, path: path)
        guard let trailer = QueueFileFormat.parseTrailer(trailerBytes) else { throw incomplete }
        func corrupt(_ why: String) -> QueueError { QueueError(.corrupt, path: path, message: "corrupt queue file: \(why)") }
        let extractedEnd = size - QueueFileFormat.trailerLength
        guard trailer.contentOffset >= magic.count + 2, trailer.contentOffset <= QueueFileFormat.maxEnvelopeLength,
            trailer.contentOffset + trailer.contentLength == trailer.extractedOffset,
            trailer.extractedOffset <= extractedEnd,
            extractedEnd - trailer.extractedOffset <= QueueFileFormat.maxExtractedLength
        else { throw corrupt("bad trailer") }

        let head = try FileSystem.pread(fd, count: trailer.contentOffset, at: 0, path: path)
        guard head.starts(with: magic) else { throw corrupt("bad magic") }
        guard let envelopeLines = QueueFileFormat.lines(head[magic.count...]) else { throw corrupt("bad record") }
        let (envelope, offsets, delayWarningOffset) = try parseEnvelope(envelopeLines, corrupt: corrupt)

        let tail = try FileSystem.pread(
            fd, count: extractedEnd - trailer.extractedOffset, at: trailer.extractedOffset, path: path)
        guard let extractedLines = QueueFileFormat.lines(tail[...]) else { throw corrupt("bad extracted record") }
        var summary = ContentSummary()
        for (_, line) in extractedLines {
            guard line.first == QueueFileFormat.extracted, let f = QueueFileFormat.fields(line, typeLength: 1),
                f.count == 2
            else { throw corrupt("bad extracted record") }
            switch f[0] {
            case "message_id": summary.messageID = f[1]
            case "redirect": summary.redirect = f[1]
            case "filter": summary.filter = f[1]
            case "bounce": summary.bounce = f[1]
            default: break
            }
        }
        return QueueFile(
            path: path, fd: fd, envelope: envelope, summary: summary, contentOffset: trailer.contentOffset,
            contentLength: trailer.contentLength, statusOffsets: offsets, delayWarningOffset: delayWarningOffset)
    }

    private static func parseEnvelope(
        _ lines: [(offset: Int, line: ArraySlice<UInt8>)], corrupt: (String) -> QueueError
    ) throws(QueueError) -> (QueueEnvelope, [Int], Int?) {
        var envelope = QueueEnvelope(arrivalMicroseconds: 0, sender: .null, recipients: [])
        var offsets: [Int] = []
        var delayWarningOffset: Int?
        var sawArrival = false
        var sawSender = false
        var sawContent = false
        for (offset, line) in lines {
            guard !sawContent, let type = line.first else { throw corrupt("record after content marker") }
            if type == QueueFileFormat.recipient {
                guard line.count > 1, let status = RecipientStatus(rawValue: line[line.startIndex + 1]),
                    let f = QueueFileFormat.fields(line, typeLength: 2), f.count == 4,
                    let notify = UInt8(f[0], radix: 16)
                else { throw corrupt("bad recipient record") }
                offsets.append(offset + QueueFileFormat.statusOffsetInRecord)
                envelope.recipients.append(
                    QueueRecipient(
                        MailAddress(f[1]), originalRecipient: f[2].isEmpty ? nil : MailAddress(f[2]),
                        notify: DSNNotify(rawValue: notify), orcpt: f[3].isEmpty ? nil : f[3], status: status))
                continue
            }
            if type == QueueFileFormat.delayWarning {
                let number = line.dropFirst(QueueFileFormat.delayWarningNumberOffset)
                guard line.dropFirst().first == UInt8(ascii: " "), let sent = QueueFileFormat.parseFixedWidth(number)
                else { throw corrupt("bad delay warning record") }
                envelope.delayWarningSent = sent
                delayWarningOffset = offset + QueueFileFormat.delayWarningNumberOffset
                continue
            }
            guard let f = QueueFileFormat.fields(line, typeLength: 1) else { throw corrupt("bad record") }
            switch (type, f.count) {
            case (QueueFileFormat.arrival, 1):
                guard let usec = Int64(f[0]) else { throw corrupt("bad arrival time") }
                envelope.arrivalMicroseconds = usec
                sawArrival = true
            case (QueueFileFormat.sender, 1):
                envelope.sender = MailAddress(f[0])
                sawSender = true
            case (QueueFileFormat.fullName, 1):
                envelope.senderFullName = f[0]
            case (QueueFileFormat.attribute, 2):
                apply(attribute: f[0], value: f[1], to: &envelope)
            case (QueueFileFormat.content, 0):
                sawContent = true
            default:
                throw corrupt("unknown record type")
            }
        }
        guard sawArrival, sawSender, sawContent else { throw corrupt("missing envelope record") }
        return (envelope, offsets, delayWarningOffset)
    }

    private static func apply(attribute name: String, value: String, to envelope: inout QueueEnvelope) {
        func client(_ update: (inout ClientInfo) -> Void) {
            var info = envelope.client ?? ClientInfo(name: "", address: "", protocolName: "")
            update(&info)
            envelope.client = info
        }
        switch name {
        case "client_name": client { $0.name = value }
        case "client_address": client { $0.address = value }
        case "client_port": client { $0.port = Int(value) }
        case "helo_name": client { $0.heloName = value }
        case "protocol_name": client { $0.protocolName = value }
        case "sasl_method": envelope.saslMethod = value
        case "sasl_username": envelope.saslUsername = value
        case "dsn_envid": envelope.envid = value
        case "dsn_ret": envelope.ret = DSNReturn(rawValue: value)
        case "body_type": envelope.body = BodyType(rawValue: value)
        case "smtputf8": envelope.smtputf8 = value == "1"
        default: envelope.attributes.append((name, value))
        }
    }

    /// The current status of recipient `index`.
    public func status(of index: Int) -> RecipientStatus {
        statuses.withLock { $0[index] }
    }

    /// Indexes of recipients that still need delivery.
    public var pendingRecipients: [Int] {
        statuses.withLock { list in list.indices.filter { list[$0] == .pending } }
    }

    /// Records the outcome for one recipient in place and (when `durable`) makes it durable before returning.
    /// The queue manager skips the fsync for a message's last recipient: it removes the file right after,
    /// and that removal is made durable instead.
    public func markRecipient(_ index: Int, _ status: RecipientStatus, durable: Bool = true) throws(QueueError) {
        guard statusOffsets.indices.contains(index) else {
            throw QueueError(.invalid, path: path, message: "no recipient #\(index)")
        }
        try FileSystem.pwriteAll(fileDescriptor, [status.rawValue], at: statusOffsets[index], path: path)
        if durable { try FileSystem.fsync(fileDescriptor, path: path) }
        statuses.withLock { $0[index] = status }
    }

    /// Whether the file can record a delay warning (files from before the record cannot, and get none).
    public var canRecordDelayWarning: Bool { delayWarningOffset != nil }

    /// Records in place, durably, that the sender was sent the delay warning at `epochSeconds`.
    public func markDelayWarningSent(at epochSeconds: Int) throws(QueueError) {
        guard let delayWarningOffset else {
            throw QueueError(.invalid, path: path, message: "queue file has no delay warning record")
        }
        try FileSystem.pwriteAll(fileDescriptor, QueueFileFormat.fixedWidth(epochSeconds), at: delayWarningOffset, path: path)
        try FileSystem.fsync(fileDescriptor, path: path)
    }

    /// Reads up to `count` content bytes starting `offset` bytes into the content.
    public func readContent(offset: Int, count: Int) throws(QueueError) -> [UInt8] {
        let start = max(0, min(offset, contentLength))
        let n = max(0, min(count, contentLength - start))
        return try FileSystem.pread(fileDescriptor, count: n, at: contentOffset + start, path: path)
    }
}
