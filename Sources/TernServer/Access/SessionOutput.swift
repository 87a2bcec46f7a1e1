import NIOCore

/// What a session step writes to its client: collected and handed to the channel in 64 KiB pieces and at
/// the end of the step. A step waits for each full piece to be written, so a client that reads slowly
/// slows its own session down instead of filling the worker's memory.
///
/// Used by one step at a time on a thread-pool thread, never on the event loop (it waits there).
final class SessionOutput: @unchecked Sendable {
    struct Closed: Error {}

    static let pieceSize = 1 << 16

    private let channel: any Channel
    private var buffer: [UInt8] = []

    init(channel: any Channel) { self.channel = channel }

    func write(_ bytes: [UInt8]) throws(Closed) {
        buffer += bytes
        if buffer.count >= Self.pieceSize { try flush(waiting: true) }
    }

    func write(_ text: String) throws(Closed) { try write(Array(text.utf8)) }

    /// Hands the collected bytes to the channel; with `waiting`, returns once they are written.
    func flush(waiting: Bool) throws(Closed) {
        guard !buffer.isEmpty else { return }
        let written = channel.writeAndFlush(ByteBuffer(bytes: buffer))
        buffer.removeAll(keepingCapacity: buffer.count <= Self.pieceSize)
        guard waiting else { return }
        do {
            try written.wait()
        } catch {
            throw Closed()
        }
    }
}
