/// Undoes a Content-Transfer-Encoding (RFC 2045 §6) for BINARY (RFC 3516). Identity encodings pass through.
enum TransferDecoding {
    static func decode(_ body: [UInt8], encoding: String) -> [UInt8] {
        switch encoding.lowercased() {
        case "base64": return base64(body)
        case "quoted-printable": return quotedPrintable(body)
        default: return body
        }
    }

    /// Characters outside the alphabet (line ends, stray bytes) are skipped, as RFC 2045 §6.8 asks.
    static func base64(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in body {
            guard let value = sextet(byte) else {
                if byte == UInt8(ascii: "=") { break }
                continue
            }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    /// `=XX` escapes and `=` soft line breaks (RFC 2045 §6.7); a malformed escape stays as it is.
    static func quotedPrintable(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < body.count {
            let byte = body[index]
            guard byte == UInt8(ascii: "=") else {
                out.append(byte)
                index += 1
                continue
            }
            let rest = body[(index + 1)...]
            if rest.starts(with: [0x0D, 0x0A]) {
                index += 3
            } else if rest.first == 0x0A {
                index += 2
            } else if rest.count >= 2, let high = hex(rest[index + 1]), let low = hex(rest[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
