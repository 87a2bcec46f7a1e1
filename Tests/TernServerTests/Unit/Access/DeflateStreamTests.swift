import Testing

@testable import TernServer

/// COMPRESS=DEFLATE's two streams (RFC 4978): raw deflate through zlib, flushed after each call.
@Suite struct DeflateStreamTests {
    private func inflate(_ stream: DeflateStream, _ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try stream.decompress(bytes) { out += $0 }
        return out
    }

    @Test func eachCompressedPieceDecodesOnItsOwn() throws {
        let compressor = try #require(DeflateStream(.compress))
        let decompressor = try #require(DeflateStream(.decompress))
        for line in ["* 1 EXISTS\r\n", "a OK NOOP completed.\r\n", String(repeating: "x", count: 200_000)] {
            let compressed = try compressor.compress(Array(line.utf8))
            #expect(try inflate(decompressor, compressed) == Array(line.utf8))
        }
        // The sync flush makes every piece end in an empty stored block: 00 00 FF FF (RFC 1979 §2.1).
        #expect(try compressor.compress(Array("b\r\n".utf8)).suffix(4) == [0, 0, 0xFF, 0xFF])
    }

    @Test func aCompressionBombComesOutInBoundedPieces() throws {
        let compressor = try #require(DeflateStream(.compress))
        let bomb = try compressor.compress([UInt8](repeating: 0x41, count: 4 << 20))
        #expect(bomb.count < 10_000)
        let decompressor = try #require(DeflateStream(.decompress))
        var pieces = 0
        var total = 0
        try decompressor.decompress(bomb) { piece in
            #expect(piece.count <= DeflateStream.pieceSize)
            pieces += 1
            total += piece.count
        }
        #expect(total == 4 << 20 && pieces >= 64)
    }

    @Test func corruptInputIsAnError() throws {
        let decompressor = try #require(DeflateStream(.decompress))
        #expect(throws: DeflateStream.Failure.self) { try inflate(decompressor, [0xFF, 0xFF, 0xFF, 0xFF, 0x13]) }
    }
}
