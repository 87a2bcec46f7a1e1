import Foundation

/// Dovecot's `{CRAM-MD5}` form: the MD5 states of HMAC-MD5 after the inner and outer key blocks, so the
/// secret can answer a CRAM-MD5 challenge without being stored in clear (RFC 2195, Dovecot hmac-cram-md5.c).
/// Swift Crypto does not expose MD5's intermediate state, hence this small MD5 (RFC 1321).
struct MD5State: Sendable, Equatable {
    var words: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    /// Bytes already compressed into `words` (a multiple of 64).
    var length: UInt64 = 0

    static func == (lhs: MD5State, rhs: MD5State) -> Bool {
        lhs.words == rhs.words && lhs.length == rhs.length
    }

    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
        14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
        21, 6, 10, 15, 21,
    ]
    private static let constants: [UInt32] = (0..<64).map { index in
        UInt32(truncatingIfNeeded: Int64((abs(sin(Double(index + 1))) * 4_294_967_296.0).rounded(.down)))
    }

    /// Compresses one 64-byte block.
    mutating func compress(_ block: ArraySlice<UInt8>) {
        precondition(block.count == 64)
        var message = [UInt32](repeating: 0, count: 16)
        for index in 0..<16 {
            let base = block.startIndex + index * 4
            message[index] =
                UInt32(block[base]) | UInt32(block[base + 1]) << 8 | UInt32(block[base + 2]) << 16
                | UInt32(block[base + 3]) << 24
        }
        var (a, b, c, d) = words
        for round in 0..<64 {
            var f: UInt32
            var g: Int
            switch round {
            case 0..<16:
                f = (b & c) | (~b & d)
                g = round
            case 16..<32:
                f = (d & b) | (~d & c)
                g = (5 * round + 1) % 16
            case 32..<48:
                f = b ^ c ^ d
                g = (3 * round + 5) % 16
            default:
                f = c ^ (b | ~d)
                g = (7 * round) % 16
            }
            f = f &+ a &+ Self.constants[round] &+ message[g]
            a = d
            d = c
            c = b
            b = b &+ (f << Self.shifts[round] | f >> (32 - Self.shifts[round]))
        }
        words = (words.0 &+ a, words.1 &+ b, words.2 &+ c, words.3 &+ d)
        length += 64
    }

    /// The digest of everything compressed so far followed by `tail`.
    func finish(_ tail: [UInt8]) -> [UInt8] {
        var state = self
        var rest = tail[...]
        while rest.count >= 64 {
            state.compress(rest.prefix(64))
            rest = rest.dropFirst(64)
        }
        let bits = (state.length + UInt64(rest.count)) * 8
        var last = Array(rest) + [0x80]
        while last.count % 64 != 56 { last.append(0) }
        for shift in stride(from: 0, to: 64, by: 8) { last.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        var index = 0
        while index < last.count {
            state.compress(last[index..<index + 64])
            index += 64
        }
        return state.wordBytes
    }

    /// The four state words, little-endian (the byte order of both the digest and Dovecot's context).
    var wordBytes: [UInt8] {
        [words.0, words.1, words.2, words.3].flatMap { word in
            (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32($0 * 8)) }
        }
    }

    init() {}

    init?(wordBytes bytes: ArraySlice<UInt8>, length: UInt64) {
        guard bytes.count == 16 else { return nil }
        let base = bytes.startIndex
        func word(_ at: Int) -> UInt32 {
            UInt32(bytes[base + at]) | UInt32(bytes[base + at + 1]) << 8 | UInt32(bytes[base + at + 2]) << 16
                | UInt32(bytes[base + at + 3]) << 24
        }
        words = (word(0), word(4), word(8), word(12))
        self.length = length
    }
}

/// The HMAC-MD5 context of a secret: inner and outer MD5 states after the padded key blocks.
struct CRAMMD5Context: Sendable, Equatable {
    var inner: MD5State
    var outer: MD5State

    init(secret: [UInt8]) {
        var key = secret
        if key.count > 64 { key = MD5State().finish(key) }
        key += [UInt8](repeating: 0, count: 64 - key.count)
        inner = MD5State()
        inner.compress(key.map { $0 ^ 0x36 }[...])
        outer = MD5State()
        outer.compress(key.map { $0 ^ 0x5c }[...])
    }

    /// Reads the 64 hex digits of a `{CRAM-MD5}` password (outer state, then inner).
    init?(hex: String) {
        guard let bytes = HashEncoding.unhex(hex), bytes.count == 32,
            let outer = MD5State(wordBytes: bytes[0..<16], length: 64),
            let inner = MD5State(wordBytes: bytes[16..<32], length: 64)
        else { return nil }
        self.inner = inner
        self.outer = outer
    }

    /// Outer state first, then inner (Dovecot's hmac_md5_get_cram_context order).
    var bytes: [UInt8] { outer.wordBytes + inner.wordBytes }
    var hex: String { HashEncoding.hex(bytes) }

    /// HMAC-MD5 of `message` with the secret this context was made from.
    func mac(_ message: [UInt8]) -> [UInt8] {
        outer.finish(inner.finish(message))
    }
}
