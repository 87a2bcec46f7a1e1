/// Where the parts of a message lie (RFC 2045/2046), for BODY[section] (RFC 3501 §6.4.5). Ranges index the
/// message with CRLF line ends, the form IMAP serves it in.
struct MIMEEntity {
    /// The header, blank line included.
    var header: Range<Int>
    var body: Range<Int>
    /// The parts of a multipart.
    var parts: [MIMEEntity] = []
    /// The message inside a message/rfc822 part (zero or one).
    var encapsulated: [MIMEEntity] = []
    var contentType = ("text", "plain")
    var encoding = "7bit"
}

struct MessageSections {
    let bytes: [UInt8]
    let root: MIMEEntity
    /// Parts nested deeper are treated as opaque bodies, bounding recursion on hostile messages.
    static let maxDepth = 25

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        root = Self.entity(bytes, 0..<bytes.count, digestChild: false, depth: 0)
    }

    /// The bytes of a section; empty for parts that do not exist, as Dovecot answers them.
    func data(_ section: BodySection) -> [UInt8] {
        guard let entity = entity(at: section.part) else { return [] }
        switch section.kind {
        case nil:
            return Array(bytes[section.part.isEmpty ? 0..<bytes.count : entity.body])
        case .mime:
            return Array(bytes[entity.header])
        case .header, .headerFields, .headerFieldsNot, .text:
            guard let message = section.part.isEmpty ? root : entity.encapsulated.first else { return [] }
            return messageData(message, section.kind)
        }
    }

    private func messageData(_ message: MIMEEntity, _ kind: BodySection.Kind?) -> [UInt8] {
        switch kind {
        case .text: return Array(bytes[message.body])
        case .headerFields(let names): return headerFields(message.header, names: names, keep: true)
        case .headerFieldsNot(let names): return headerFields(message.header, names: names, keep: false)
        default: return Array(bytes[message.header])
        }
    }

    /// The entity a part path names. Part 1 of a non-multipart message is its body; numbers after a
    /// message/rfc822 part count the parts of the message inside it.
    func entity(at path: [Int]) -> MIMEEntity? {
        var current = root
        var path = path[...]
        // A message that is not multipart has one part, its body, even when that is a message/rfc822.
        if root.parts.isEmpty, let first = path.first {
            guard first == 1 else { return nil }
            path = path.dropFirst()
        }
        for number in path {
            guard let next = Self.child(of: current, number) else { return nil }
            current = next
        }
        return current
    }

    private static func child(of entity: MIMEEntity, _ number: Int) -> MIMEEntity? {
        if !entity.parts.isEmpty {
            return entity.parts.indices.contains(number - 1) ? entity.parts[number - 1] : nil
        }
        if let inner = entity.encapsulated.first { return child(of: inner, number) }
        return number == 1 ? entity : nil
    }

    // MARK: header fields

    /// HEADER.FIELDS (`keep`) or HEADER.FIELDS.NOT: the matching fields with their continuation lines, and
    /// the blank line that ends a header.
    private func headerFields(_ header: Range<Int>, names: [String], keep: Bool) -> [UInt8] {
        let wanted = Set(names.map { $0.lowercased() })
        var out: [UInt8] = []
        for field in Self.fieldRanges(bytes, header) {
            let name = Self.fieldName(bytes[field])
            if wanted.contains(name.lowercased()) == keep { out += bytes[field] }
        }
        return out + [0x0D, 0x0A]
    }

    /// Each field of a header with its folded lines, CRLF included; the blank line is left out.
    static func fieldRanges(_ bytes: [UInt8], _ header: Range<Int>) -> [Range<Int>] {
        var fields: [Range<Int>] = []
        var lineStart = header.lowerBound
        while lineStart < header.upperBound {
            let lineEnd = (bytes[lineStart..<header.upperBound].firstIndex(of: 0x0A) ?? header.upperBound - 1) + 1
            let first = bytes[lineStart]
            if first == 0x0D || first == 0x0A { break }
            if (first == 0x20 || first == 0x09), let last = fields.last {
                fields[fields.count - 1] = last.lowerBound..<lineEnd
            } else {
                fields.append(lineStart..<lineEnd)
            }
            lineStart = lineEnd
        }
        return fields
    }

    static func fieldName(_ field: ArraySlice<UInt8>) -> String {
        let end = field.firstIndex(of: UInt8(ascii: ":")) ?? field.endIndex
        return String(decoding: field[field.startIndex..<end], as: UTF8.self).trimmingSpaces
    }

    /// The unfolded value of each field named `name` (case-insensitive).
    /// Compares bytes, not Strings: SEARCH runs this over every message of a mailbox.
    static func fieldValues(_ bytes: [UInt8], _ header: Range<Int>, named name: String) -> [[UInt8]] {
        let wanted = Array(name.lowercased().utf8)
        return fieldRanges(bytes, header).compactMap { field in
            guard let colon = bytes[field].firstIndex(of: UInt8(ascii: ":")) else { return nil }
            var start = field.lowerBound
            var end = colon
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            guard end - start == wanted.count else { return nil }
            for (offset, byte) in wanted.enumerated() {
                let actual = bytes[start + offset]
                guard (actual >= 0x41 && actual <= 0x5A ? actual | 0x20 : actual) == byte else { return nil }
            }
            return bytes[(colon + 1)..<field.upperBound].filter { $0 != 0x0D && $0 != 0x0A }
        }
    }

    // MARK: parsing

    private static func entity(_ bytes: [UInt8], _ range: Range<Int>, digestChild: Bool, depth: Int) -> MIMEEntity {
        let bodyStart = headerEnd(bytes, range)
        var entity = MIMEEntity(header: range.lowerBound..<bodyStart, body: bodyStart..<range.upperBound)
        if digestChild { entity.contentType = ("message", "rfc822") }
        var boundary: [UInt8]?
        for value in fieldValues(bytes, entity.header, named: "Content-Type").prefix(1) {
            guard let (type, subtype, parameters) = MIMEHeaderValues.contentType(value) else { continue }
            entity.contentType = (type.lowercased(), subtype.lowercased())
            boundary = parameters.first { $0.name.lowercased() == "boundary" }?.value
        }
        if let encoding = fieldValues(bytes, entity.header, named: "Content-Transfer-Encoding").first {
            entity.encoding = String(decoding: MIMEHeaderValues.trimmed(encoding), as: UTF8.self).lowercased()
        }
        guard depth < maxDepth else { return entity }
        if entity.contentType.0 == "multipart", let boundary, !boundary.isEmpty {
            let digest = entity.contentType.1 == "digest"
            entity.parts = partRanges(bytes, entity.body, boundary: boundary).map {
                Self.entity(bytes, $0, digestChild: digest, depth: depth + 1)
            }
        } else if entity.contentType == ("message", "rfc822") {
            entity.encapsulated = [Self.entity(bytes, entity.body, digestChild: false, depth: depth + 1)]
        }
        return entity
    }

    /// Where the header ends: after the blank line, or at the end when there is none.
    private static func headerEnd(_ bytes: [UInt8], _ range: Range<Int>) -> Int {
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            if bytes[lineStart] == 0x0A { return lineStart + 1 }
            if bytes[lineStart] == 0x0D, lineStart + 1 < range.upperBound, bytes[lineStart + 1] == 0x0A {
                return lineStart + 2
            }
            guard let lf = bytes[lineStart..<range.upperBound].firstIndex(of: 0x0A) else { break }
            lineStart = lf + 1
        }
        return range.upperBound
    }

    /// The parts between `--boundary` lines; the line end before a boundary belongs to it (RFC 2046 §5.1.1).
    private static func partRanges(_ bytes: [UInt8], _ body: Range<Int>, boundary: [UInt8]) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var partStart: Int?
        var lineStart = body.lowerBound
        while lineStart < body.upperBound {
            let lf = bytes[lineStart..<body.upperBound].firstIndex(of: 0x0A)
            let lineEnd = lf.map { $0 + 1 } ?? body.upperBound
            if let isClose = boundaryLine(bytes[lineStart..<lineEnd], boundary) {
                if let start = partStart { parts.append(start..<max(start, lineEndBefore(bytes, lineStart))) }
                if isClose { return parts }
                partStart = lineEnd
            }
            lineStart = lineEnd
        }
        if let start = partStart { parts.append(start..<body.upperBound) }
        return parts
    }

    private static func lineEndBefore(_ bytes: [UInt8], _ position: Int) -> Int {
        if position >= 2, bytes[position - 2] == 0x0D, bytes[position - 1] == 0x0A { return position - 2 }
        if position >= 1, bytes[position - 1] == 0x0A { return position - 1 }
        return position
    }

    /// nil: not a boundary line; false: `--b`; true: `--b--`.
    private static func boundaryLine(_ line: ArraySlice<UInt8>, _ boundary: [UInt8]) -> Bool? {
        var content = Array(line)
        while let last = content.last, last == 0x0A || last == 0x0D { content.removeLast() }
        guard content.count >= 2, content[0] == UInt8(ascii: "-"), content[1] == UInt8(ascii: "-") else { return nil }
        return MessageStructureParser.matches(content, boundary)
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

/// Line ends as IMAP serves a message: every bare LF becomes CRLF (RFC 3501 §2.2, Dovecot does the same).
enum CRLF {
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 40)
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 0x0A, previous != 0x0D { out.append(0x0D) }
            out.append(byte)
            previous = byte
        }
        return out
    }
}
