import CZlib

/// One direction of an RFC 4978 COMPRESS=DEFLATE stream (raw deflate through the system's zlib).
/// Compressed output is flushed (Z_SYNC_FLUSH) at the end of each call, so the peer can decode everything
/// sent so far; decompressed output comes in pieces of at most `pieceSize`, so a small input that expands
/// to a lot (a compression bomb) is handed on bit by bit instead of being held whole.
final class DeflateStream {
    enum Direction { case compress, decompress }

    struct Failure: Error {}

    static let pieceSize = 1 << 16

    private let direction: Direction
    /// zlib keeps a pointer to its z_stream, so it lives at a fixed address.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    init?(_ direction: Direction) {
        self.direction = direction
        let status = direction == .compress ? tern_deflate_raw_init(stream) : tern_inflate_raw_init(stream)
        guard status == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        if direction == .compress { deflateEnd(stream) } else { inflateEnd(stream) }
        stream.deallocate()
    }

    /// All of `input` compressed (with a sync flush at the end).
    func compress(_ input: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try run(input) { out += $0 }
        return out
    }

    /// `input` decompressed, handed to `each` piece by piece; throws `Failure` for corrupt input.
    func decompress(_ input: [UInt8], _ each: ([UInt8]) throws -> Void) throws {
        try run(input, each)
    }

    private func run(_ input: [UInt8], _ each: ([UInt8]) throws -> Void) throws {
        var input = input
        var piece = [UInt8](repeating: 0, count: Self.pieceSize)
        defer { stream.pointee.next_in = nil }
        try input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.pointee.next_in = inputBuffer.baseAddress
            stream.pointee.avail_in = UInt32(inputBuffer.count)
            while true {
                let pending = stream.pointee.avail_in
                let produced = piece.withUnsafeMutableBufferPointer { output in
                    stream.pointee.next_out = output.baseAddress
                    stream.pointee.avail_out = UInt32(output.count)
                    let status =
                        direction == .compress ? deflate(stream, Z_SYNC_FLUSH) : inflate(stream, Z_SYNC_FLUSH)
                    let ok = status == Z_OK || status == Z_BUF_ERROR || status == Z_STREAM_END
                    return ok ? output.count - Int(stream.pointee.avail_out) : -1
                }
                // No progress with input left (e.g. bytes after the end of the stream) is as bad as an error.
                guard produced > 0 || pending == 0 || stream.pointee.avail_in < pending, produced >= 0 else {
                    throw Failure()
                }
                if produced > 0 { try each(Array(piece[..<produced])) }
                // Done once zlib has taken all input and had room to spare for its output.
                if stream.pointee.avail_in == 0 && produced < piece.count { break }
            }
        }
    }
}
