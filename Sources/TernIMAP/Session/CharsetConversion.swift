import Glibc

/// Text of a MIME part in UTF-8, as Dovecot's message-decoder hands it on: converted with iconv from the
/// declared charset; UTF-8, US-ASCII, no charset and charsets iconv does not know are taken as UTF-8. Bytes
/// that do not convert become U+FFFD.
enum CharsetConversion {
    static func toUTF8(_ bytes: ArraySlice<UInt8>, charset: String?) -> [UInt8] {
        let name = (charset ?? "").uppercased()
        if name.isEmpty || name == "UTF-8" || name == "UTF8" || name == "US-ASCII" || name == "ASCII" {
            return validUTF8(bytes)
        }
        let converter = iconv_open("UTF-8", name)
        guard let converter, converter != iconv_t(bitPattern: -1) else { return validUTF8(bytes) }
        defer { iconv_close(converter) }
        var input = Array(bytes)
        var out: [UInt8] = []
        var output = [UInt8](repeating: 0, count: 8192)
        var offset = 0
        while offset < input.count {
            var inLeft = input.count - offset
            var outLeft = output.count
            let result = input.withUnsafeMutableBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer in
                    var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(
                        inBuffer.baseAddress! + offset
                    ).assumingMemoryBound(to: CChar.self)
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!)
                        .assumingMemoryBound(to: CChar.self)
                    return iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                }
            }
            let failure = result == -1 ? errno : 0
            out += output[0..<(output.count - outLeft)]
            offset = input.count - inLeft
            if failure == E2BIG { continue }
            if failure != 0 {
                // EILSEQ, or EINVAL (a sequence cut off at the end): one replacement character, one byte skipped.
                out += [0xEF, 0xBF, 0xBD]
                offset += 1
            }
        }
        input.removeAll()
        return out
    }

    /// The bytes with every invalid UTF-8 sequence replaced by U+FFFD.
    static func validUTF8(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        if String(validating: bytes, as: UTF8.self) != nil { return Array(bytes) }
        return Array(String(decoding: bytes, as: UTF8.self).utf8)
    }
}
