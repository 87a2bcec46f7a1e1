import TernCore

/// The queue file layout (docs/queue-format.md). Envelope records are LF-terminated lines
/// `TYPE FIELD FIELD...`; fields are percent-escaped so they never contain space, LF or `%`.
/// The content follows the `M` record; the extracted records follow the content; a fixed-size
/// trailer at the very end is the completion mark and points at both.
enum QueueFileFormat {
    static let magic: [UInt8] = Array("TERNQ1\n".utf8)

    /// Record types.
    static let arrival = UInt8(ascii: "T")
    /// `W <number:15>`: when the delay warning was sent, 0 = not yet; rewritten in place like a status byte.
    static let delayWarning = UInt8(ascii: "W")
    static let sender = UInt8(ascii: "S")
    static let fullName = UInt8(ascii: "N")
    static let attribute = UInt8(ascii: "A")
    static let recipient = UInt8(ascii: "R")
    static let content = UInt8(ascii: "M")
    static let extracted = UInt8(ascii: "X")
    static let trailerType = UInt8(ascii: "E")

    /// Offset of the status byte inside a recipient record (`R` + status).
    static let statusOffsetInRecord = 1

    /// `E %015d %015d %015d\n`: content offset, content length, offset of the extracted records.
    static let trailerLength = 50
    static let numberWidth = 15
    /// Offset of the number inside the delay warning record (`W `).
    static let delayWarningNumberOffset = 2

    /// One envelope or extracted record may not exceed this (addresses are at most 256 octets by
    /// RFC 5321 §4.5.3.1.3; attributes like a long client name stay far below).
    static let maxRecordLength = 65536
    /// The envelope segment may not exceed this: ~16k recipients of maximal length.
    static let maxEnvelopeLength = 16 << 20
    static let maxExtractedLength = 1 << 20

    // MARK: escaping

    static func needsEscape(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "%")
    }

    /// Percent-escapes a field; the empty field is written as a lone `-`, and `-` itself as `%2D`.
    static func escape(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return [UInt8(ascii: "-")] }
        if bytes == [UInt8(ascii: "-")] { return Array("%2D".utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in bytes {
            if needsEscape(byte) {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            } else {
                out.append(byte)
            }
        }
        return out
    }

    static func unescape(_ field: ArraySlice<UInt8>) -> String? {
        if field.elementsEqual([UInt8(ascii: "-")]) { return "" }
        var out: [UInt8] = []
        out.reserveCapacity(field.count)
        var index = field.startIndex
        while index < field.endIndex {
            let byte = field[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < field.endIndex, let high = hexValue(field[index + 1]), let low = hexValue(field[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: records

    static func record(_ type: UInt8, _ fields: [String]) -> [UInt8] {
        var out: [UInt8] = [type]
        for field in fields {
            out.append(UInt8(ascii: " "))
            out += escape(field)
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    static func recipientRecord(_ r: QueueRecipient) -> [UInt8] {
        let notify = String(r.notify.rawValue, radix: 16, uppercase: true)
        var out: [UInt8] = [recipient, r.status.rawValue]
        for field in [notify, r.address.text, r.originalRecipient?.text ?? "", r.orcpt ?? ""] {
            out.append(UInt8(ascii: " "))
            out += escape(field)
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The named attributes an envelope is written as (also the order postcat shows them in).
    static func attributes(of envelope: QueueEnvelope) -> [(String, String)] {
        var out: [(String, String)] = []
        if let client = envelope.client {
            out.append(("client_name", client.name))
            out.append(("client_address", client.address))
            if let port = client.port { out.append(("client_port", String(port))) }
            if let helo = client.heloName { out.append(("helo_name", helo)) }
            out.append(("protocol_name", client.protocolName))
        }
        if let method = envelope.saslMethod { out.append(("sasl_method", method)) }
        if let user = envelope.saslUsername { out.append(("sasl_username", user)) }
        if let envid = envelope.envid { out.append(("dsn_envid", envid)) }
        if let ret = envelope.ret { out.append(("dsn_ret", ret.rawValue)) }
        if let body = envelope.body { out.append(("body_type", body.rawValue)) }
        if envelope.smtputf8 { out.append(("smtputf8", "1")) }
        return out + envelope.attributes
    }

    static func envelopeBytes(_ envelope: QueueEnvelope) -> (bytes: [UInt8], statusOffsets: [Int]) {
        var out = magic
        out += record(arrival, [String(envelope.arrivalMicroseconds)])
        out += [delayWarning, UInt8(ascii: " ")] + fixedWidth(envelope.delayWarningSent) + [UInt8(ascii: "\n")]
        if let name = envelope.senderFullName { out += record(fullName, [name]) }
        out += record(sender, [envelope.sender.text])
        for (name, value) in attributes(of: envelope) { out += record(attribute, [name, value]) }
        var offsets: [Int] = []
        for r in envelope.recipients {
            offsets.append(out.count + statusOffsetInRecord)
            out += recipientRecord(r)
        }
        out += [content, UInt8(ascii: "\n")]
        return (out, offsets)
    }

    static func extractedBytes(_ summary: ContentSummary) -> [UInt8] {
        var out: [UInt8] = []
        if let id = summary.messageID { out += record(extracted, ["message_id", id]) }
        if let redirect = summary.redirect { out += record(extracted, ["redirect", redirect]) }
        if let filter = summary.filter { out += record(extracted, ["filter", filter]) }
        if let bounce = summary.bounce { out += record(extracted, ["bounce", bounce]) }
        return out
    }

    static func trailer(contentOffset: Int, contentLength: Int, extractedOffset: Int) -> [UInt8] {
        [trailerType, UInt8(ascii: " ")] + fixedWidth(contentOffset) + [UInt8(ascii: " ")] + fixedWidth(contentLength)
            + [UInt8(ascii: " ")] + fixedWidth(extractedOffset) + [UInt8(ascii: "\n")]
    }

    /// A number as `numberWidth` zero-padded digits: a field that can be rewritten in place.
    static func fixedWidth(_ n: Int) -> [UInt8] {
        let digits = String(n)
        return Array((String(repeating: "0", count: max(0, numberWidth - digits.count)) + digits).utf8)
    }

    /// The value of a fixed-width number field, nil unless it is exactly `numberWidth` digits.
    static func parseFixedWidth(_ digits: ArraySlice<UInt8>) -> Int? {
        guard digits.count == numberWidth, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(String(decoding: digits, as: UTF8.self))
    }

    /// Parses the trailer, or nil when the bytes are not a completion mark.
    static func parseTrailer(_ bytes: [UInt8]) -> (contentOffset: Int, contentLength: Int, extractedOffset: Int)? {
        guard bytes.count == trailerLength, bytes[0] == trailerType, bytes[1] == UInt8(ascii: " "),
            bytes[trailerLength - 1] == UInt8(ascii: "\n")
        else { return nil }
        var numbers: [Int] = []
        var start = 2
        for _ in 0..<3 {
            guard let n = parseFixedWidth(bytes[start..<(start + numberWidth)]) else { return nil }
            numbers.append(n)
            start += numberWidth + 1
        }
        return (numbers[0], numbers[1], numbers[2])
    }

    /// Splits `bytes` into LF-terminated lines with their start offsets; nil when a line lacks its LF
    /// or is longer than maxRecordLength.
    static func lines(_ bytes: ArraySlice<UInt8>) -> [(offset: Int, line: ArraySlice<UInt8>)]? {
        var out: [(Int, ArraySlice<UInt8>)] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            guard end - start <= maxRecordLength else { return nil }
            out.append((start, bytes[start..<end]))
            start = end + 1
        }
        return out
    }

    /// The space-separated fields after the type byte(s), unescaped; nil when one is malformed.
    static func fields(_ line: ArraySlice<UInt8>, typeLength: Int) -> [String]? {
        let body = line.dropFirst(typeLength)
        if body.isEmpty { return [] }
        guard body.first == UInt8(ascii: " ") else { return nil }
        var out: [String] = []
        for part in body.dropFirst().split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false) {
            guard !part.isEmpty, let value = unescape(part) else { return nil }
            out.append(value)
        }
        return out
    }
}
