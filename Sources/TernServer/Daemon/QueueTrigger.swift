import Foundation

/// The queue manager's trigger FIFO, `$queue_directory/public/qmgr`, as in Postfix: `postqueue -f` and
/// `postfix flush` write `F` (deliver deferred mail now), smtpd and pickup write `W` (new mail in incoming).
/// The daemon opens it read-write so it never sees end-of-file, and reads it on a thread of its own.
public enum QueueTrigger: UInt8, Sendable {
    case wakeup = 0x57  // "W"
    case flush = 0x46  // "F"
    case scanIncoming = 0x49  // "I"

    public static func path(queueDirectory: String) -> String { queueDirectory + "/public/qmgr" }

    /// Sends a trigger to a running daemon. Returns false when no daemon listens.
    @discardableResult
    public static func send(_ trigger: QueueTrigger, queueDirectory: String) -> Bool {
        let fd = open(path(queueDirectory: queueDirectory), O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var byte = trigger.rawValue
        return write(fd, &byte, 1) == 1
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
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                for byte in buffer[..<n] {
                    if let trigger = QueueTrigger(rawValue: byte) { continuation.yield(trigger) }
                }
            }
            continuation.finish()
        }
        reader.name = "tern-qmgr-fifo"
        reader.start()
        return stream
    }
}
