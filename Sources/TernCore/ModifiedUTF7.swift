/// Shared by IMAP (mailbox names on the wire) and the Maildir store (folder names on disk, subscriptions).
/// Modified UTF-7 (RFC 3501 §5.1.3): printable US-ASCII stands for itself except `&`, written `&-`; other
/// characters are UTF-16 in modified base64 (`,` instead of `/`, no padding) between `&` and `-`.
public enum ModifiedUTF7 {
    private static let alphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    public static func encode(_ text: String) -> String {
        var out: [UInt8] = []
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            out.append(UInt8(ascii: "&"))
            var bytes: [UInt8] = []
            for unit in pending { bytes += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
            var index = 0
            while index < bytes.count {
                let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
                let b0 = chunk[0]
                let b1 = chunk.count > 1 ? chunk[1] : 0
                let b2 = chunk.count > 2 ? chunk[2] : 0
                out.append(alphabet[Int(b0 >> 2)])
                out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
                if chunk.count > 1 { out.append(alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]) }
                if chunk.count > 2 { out.append(alphabet[Int(b2 & 0x3F)]) }
                index += 3
            }
            out.append(UInt8(ascii: "-"))
            pending.removeAll()
        }
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x20, scalar.value <= 0x7E {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: Array(String(scalar).utf16))
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// The Unicode text, or nil when `bytes` break the rules (8-bit bytes, bad base64, a shift that encodes
    /// printable ASCII, or broken surrogates): such names are refused, not guessed at.
    public static func decode(_ text: String) -> String? { decode(Array(text.utf8)) }

    public static func decode(_ bytes: some Collection<UInt8>) -> String? {
        var result = String.UnicodeScalarView()
        var iterator = Array(bytes).makeIterator()
        while let byte = iterator.next() {
            guard byte >= 0x20, byte <= 0x7E else { return nil }
            guard byte == UInt8(ascii: "&") else {
                result.append(Unicode.Scalar(byte))
                continue
            }
            var encoded: [UInt8] = []
            var closed = false
            while let next = iterator.next() {
                if next == UInt8(ascii: "-") {
                    closed = true
                    break
                }
                encoded.append(next)
            }
            guard closed else { return nil }
            if encoded.isEmpty {
                result.append("&")
                continue
            }
            guard let units = utf16Units(encoded) else { return nil }
            var decoder = UTF16()
            var unitIterator = units.makeIterator()
            decoding: while true {
                switch decoder.decode(&unitIterator) {
                case .scalarValue(let scalar):
                    // A shift may not hold what could be written directly (RFC 3501 §5.1.3).
                    if scalar.value >= 0x20, scalar.value <= 0x7E { return nil }
                    result.append(scalar)
                case .emptyInput: break decoding
                case .error: return nil
                }
            }
        }
        return String(result)
    }

    private static func utf16Units(_ encoded: [UInt8]) -> [UInt16]? {
        var bits: UInt32 = 0
        var bitCount = 0
        var bytes: [UInt8] = []
        for char in encoded {
            guard let value = alphabet.firstIndex(of: char) else { return nil }
            bits = bits << 6 | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                bytes.append(UInt8((bits >> UInt32(bitCount)) & 0xFF))
            }
        }
        // Leftover bits must be zero padding, and the bytes whole UTF-16 units.
        guard bitCount < 6, bits & ((1 << UInt32(bitCount)) - 1) == 0, bytes.count % 2 == 0 else {
            return nil
        }
        return stride(from: 0, to: bytes.count, by: 2).map {
            UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1])
        }
    }
}
