/// IMAP's modified UTF-7 for mailbox names (RFC 3501 §5.1.3), which Dovecot also uses for Maildir++ folder
/// names on disk (`.Caf&AOk-` for `Café`): printable ASCII stands for itself, `&` is `&-`, everything else is
/// UTF-16 in base64 with `,` for `/` between `&` and `-`.
public enum ModifiedUTF7 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

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
                let chunk = bytes[index..<min(index + 3, bytes.count)]
                let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * $1.offset) }
                for position in 0..<(chunk.count + 1) { out.append(alphabet[Int((value >> (18 - 6 * position)) & 63)]) }
                index += 3
            }
            out.append(UInt8(ascii: "-"))
            pending.removeAll()
        }
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(UInt8(ascii: "-")) }
            } else {
                pending += Array(String(scalar).utf16)
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a name; nil when it is not valid modified UTF-7 (bad base64, an encoded printable character,
    /// a lone surrogate), so a caller can refuse it or fall back to the raw text.
    public static func decode(_ text: String) -> String? {
        var out = ""
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte >= 0x20 && byte <= 0x7E else { return nil }
            guard byte == UInt8(ascii: "&") else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
                continue
            }
            guard let end = bytes.firstIndex(of: UInt8(ascii: "-")) else { return nil }
            let encoded = bytes[..<end]
            bytes = bytes[(end + 1)...]
            if encoded.isEmpty {
                out.append("&")
                continue
            }
            var bits: UInt32 = 0
            var count = 0
            var units: [UInt16] = []
            var raw: [UInt8] = []
            for char in encoded {
                guard let value = alphabet.firstIndex(of: char) else { return nil }
                bits = bits << 6 | UInt32(value)
                count += 6
                if count >= 8 {
                    count -= 8
                    raw.append(UInt8((bits >> UInt32(count)) & 0xFF))
                }
            }
            guard raw.count % 2 == 0, count < 6, bits & ((1 << UInt32(count)) - 1) == 0 else { return nil }
            for index in stride(from: 0, to: raw.count, by: 2) {
                units.append(UInt16(raw[index]) << 8 | UInt16(raw[index + 1]))
            }
            var decoded = ""
            for result in UTF16.decode(units) {
                guard let scalar = result, scalar.value < 0x20 || scalar.value > 0x7E else { return nil }
                decoded.unicodeScalars.append(scalar)
            }
            out += decoded
        }
        return out
    }
}

extension UTF16 {
    /// Decodes UTF-16 code units; a nil element marks an invalid sequence.
    fileprivate static func decode(_ units: [UInt16]) -> [Unicode.Scalar?] {
        var iterator = units.makeIterator()
        var decoder = UTF16()
        var result: [Unicode.Scalar?] = []
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): result.append(scalar)
            case .emptyInput: break loop
            case .error: result.append(nil)
            }
        }
        return result
    }
}
