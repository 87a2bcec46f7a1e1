import Foundation
public import TernCore

/// The queue manager's trigger FIFO, `$queue_directory/public/qmgr`, as in Postfix: `postqueue -f` and
/// `postfix flush` write `F` (deliver deferred mail now), smtpd and pickup write `W` (new mail in incoming),
/// `postqueue -s SITE` writes `S<site>\n` (deferred mail for that destination now; Postfix has a flush
/// service for this) and `postqueue -i ID` `M<id>\n` (that deferred message now). The daemon opens it read-write so it never sees end-of-file, and reads it on a thread
/// of its own.
public enum QueueTrigger: Sendable, Equatable {
    case wakeup
    case flush
    case scanIncoming
    /// Deferred mail with a recipient in this domain (lower case), now.
    case flushSite(String)
    /// This deferred message, now.
    case flushMessage(QueueID)

    private static let wakeupByte = UInt8(ascii: "W")
    private static let flushByte = UInt8(ascii: "F")
    private static let scanIncomingByte = UInt8(ascii: "I")
    private static let siteByte = UInt8(ascii: "S")
    private static let messageByte = UInt8(ascii: "M")

    /// One write, at most PIPE_BUF bytes (a domain is at most 255), so writers never interleave.
    var bytes: [UInt8] {
        switch self {
        case .wakeup: [Self.wakeupByte]
        case .flush: [Self.flushByte]
        case .scanIncoming: [Self.scanIncomingByte]
        case .flushSite(let site): [Self.siteByte] + Array(site.prefix(255).utf8) + [UInt8(ascii: "\n")]
        case .flushMessage(let id): [Self.messageByte] + Array(id.value.utf8) + [UInt8(ascii: "\n")]
        }
    }

    public static func path(queueDirectory: String) -> String { queueDirectory + "/public/qmgr" }

    /// Sends a trigger to a running daemon. Returns false when no daemon listens.
    @discardableResult
    public static func send(_ trigger: QueueTrigger, queueDirectory: String) -> Bool {
        let fd = open(path(queueDirectory: queueDirectory), O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = trigger.bytes
        return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    /// Turns the bytes read from the FIFO into triggers; a site name or queue ID may arrive split over reads.
    struct Decoder {
        /// The trigger byte (`S` or `M`) whose newline-terminated operand is being read, and the operand.
        private var operand: (kind: UInt8, bytes: [UInt8])?

        mutating func decode(_ bytes: some Sequence<UInt8>) -> [QueueTrigger] {
            var triggers: [QueueTrigger] = []
            for byte in bytes {
                if var current = operand {
                    if byte == UInt8(ascii: "\n") {
                        let text = String(decoding: current.bytes, as: UTF8.self)
                        if current.kind == siteByte {
                            triggers.append(.flushSite(text.lowercased()))
                        } else if let id = QueueID(text) {
                            triggers.append(.flushMessage(id))
                        }
                        operand = nil
                    } else if current.bytes.count < 255 {
                        current.bytes.append(byte)
                        operand = current
                    }
                    continue
                }
                switch byte {
                case wakeupByte: triggers.append(.wakeup)
                case flushByte: triggers.append(.flush)
                case scanIncomingByte: triggers.append(.scanIncoming)
                case siteByte, messageByte: operand = (byte, [])
                default: break
                }
            }
            return triggers
        }
    }

    /// Creates the FIFO (mode 0622, as Postfix's public/qmgr) and streams the triggers written to it.
    public static func listen(queueDirectory: String) throws -> AsyncStream<QueueTrigger> {
        let path = path(queueDirectory: queueDirectory)
        try FileManager.default.createDirectory(
            atPath: queueDirectory + "/public", withIntermediateDirectories: true)
        unlink(path)
        guard mkfifo(path, 0o622) == 0 else { throw DaemonError.system("mkfifo \(path)", errno) }
        chmod(path, 0o622)
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw DaemonError.system("open \(path)", errno) }
        let (stream, continuation) = AsyncStream.makeStream(of: QueueTrigger.self, bufferingPolicy: .bufferingNewest(64))
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 256)
            var decoder = Decoder()
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                for trigger in decoder.decode(buffer[..<n]) { continuation.yield(trigger) }
            }
            continuation.finish()
        }
        reader.name = "tern-qmgr-fifo"
        reader.start()
        return stream
    }
}
