/// A Content-Transfer-Encoding BINARY cannot undo (RFC 3516 §4.3: `NO [UNKNOWN-CTE]`).
struct UnknownTransferEncoding: Error {}

/// Undoes a Content-Transfer-Encoding (RFC 2045 §6) for BINARY (RFC 3516).
enum TransferDecoding {
    /// The body decoded; nil for the identity encodings (7bit, 8bit, binary), which pass through.
    static func decode(_ body: ArraySlice<UInt8>, encoding: String) throws(UnknownTransferEncoding) -> [UInt8]? {
        switch encoding.lowercased() {
        case "base64": return base64(body)
        case "quoted-printable": return quotedPrintable(Array(body))
        case "7bit", "8bit", "binary", "": return nil
        default: throw UnknownTransferEncoding()
        }
    }

    /// Characters outside the alphabet (line ends, stray bytes) are skipped, as RFC 2045 §6.8 asks.
    static func base64(_ body: ArraySlice<UInt8>) -> [UInt8] {
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

/// BINARY[part] and BINARY.SIZE (RFC 3516 §4.2) the way Dovecot serves them: a leaf part's body decoded; a
/// multipart or message/rfc822 part (and the whole message) with every part inside decoded and its
/// Content-Transfer-Encoding field rewritten to `binary`.
extension MessageSections {
    /// `decoded`: some bytes were decoded; Dovecot sends the data as a literal8 then (and when it holds NUL).
    func binary(_ part: [Int]) throws(UnknownTransferEncoding) -> (bytes: [UInt8], decoded: Bool) {
        var out: [UInt8] = []
        if part.isEmpty {
            let decoded = try convert(root, into: &out)
            return (out, decoded)
        }
        guard let entity = entity(at: part) else { return ([], false) }
        let decoded = try convertBody(entity, into: &out)
        return (out, decoded)
    }

    /// Dovecot's BINARY[section] beyond part numbers: TEXT is the (encapsulated) message's body converted as
    /// above; HEADER, HEADER.FIELDS and MIME are what BODY[section] gives, not decoded.
    func binary(_ section: BodySection) throws(UnknownTransferEncoding) -> (bytes: [UInt8], decoded: Bool) {
        switch section.kind {
        case nil:
            return try binary(section.part)
        case .text:
            guard let entity = entity(at: section.part),
                let message = section.part.isEmpty ? root : entity.encapsulated.first
            else { return ([], false) }
            var out: [UInt8] = []
            let decoded = try convertBody(message, into: &out)
            return (out, decoded)
        default:
            return (data(section), false)
        }
    }

    /// BINARY.SIZE. Dovecot works the sizes out for the whole message at once, so an unknown encoding in any
    /// part fails them all.
    func binarySize(_ section: BodySection) throws(UnknownTransferEncoding) -> Int {
        let whole = try binary([])
        return section.part.isEmpty && section.kind == nil ? whole.bytes.count : try binary(section).bytes.count
    }

    /// The entity's header (its encoding rewritten when the body was decoded) and converted body.
    private func convert(_ entity: MIMEEntity, into out: inout [UInt8]) throws(UnknownTransferEncoding) -> Bool {
        var body: [UInt8] = []
        let decoded = try convertBody(entity, into: &body)
        if decoded && entity.parts.isEmpty && entity.encapsulated.isEmpty {
            for field in Self.fieldRanges(bytes, entity.header) {
                if Self.fieldName(bytes[field]).lowercased() == "content-transfer-encoding" {
                    out += Array("Content-Transfer-Encoding: binary\r\n".utf8)
                } else {
                    out += bytes[field]
                }
            }
            out += [0x0D, 0x0A]
        } else {
            out += bytes[entity.header]
        }
        out += body
        return decoded
    }

    private func convertBody(_ entity: MIMEEntity, into out: inout [UInt8]) throws(UnknownTransferEncoding) -> Bool {
        if !entity.parts.isEmpty {
            var decoded = false
            var cursor = entity.body.lowerBound
            for part in entity.parts {
                out += bytes[cursor..<part.header.lowerBound]
                if try convert(part, into: &out) { decoded = true }
                cursor = part.body.upperBound
            }
            out += bytes[cursor..<entity.body.upperBound]
            return decoded
        }
        if let inner = entity.encapsulated.first { return try convert(inner, into: &out) }
        guard let decoded = try TransferDecoding.decode(bytes[entity.body], encoding: entity.encoding) else {
            out += bytes[entity.body]
            return false
        }
        out += decoded
        return true
    }
}
