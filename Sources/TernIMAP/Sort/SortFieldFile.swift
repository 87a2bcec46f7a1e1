/// `tern.sort`, beside `tern.index`: the SortFields of a mailbox's messages, so a worker that starts does not
/// read every header again for its first SORT or THREAD (Dovecot keeps the same in dovecot.index.cache).
/// A text line, then binary records (integers little-endian, strings as a UInt32 length and the bytes):
///
///     tern-sort 1 V<uidvalidity>\n
///     uid u32, sent date i64, flags u8 (1: Subject present, 2: reply/forward, 4: Message-ID present),
///     subject, from, to, cc, displayfrom, displayto, [message-id], reference count u32, references
///
/// Another version or UIDVALIDITY makes the file unusable; a broken record ends it (the rest is read from
/// the messages again). Bump `version` whenever SortFields are derived differently.
enum SortFieldFile {
    static let name = "tern.sort"
    static let version = 1

    static func encode(_ entries: [(uid: UInt32, fields: SortFields)], uidValidity: UInt32) -> [UInt8] {
        var out = Array("tern-sort \(version) V\(uidValidity)\n".utf8)
        func integer<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        func string(_ bytes: [UInt8]) {
            integer(UInt32(bytes.count))
            out += bytes
        }
        for (uid, fields) in entries {
            integer(uid)
            integer(Int64(fields.sentDate))
            var flags: UInt8 = fields.hasSubject ? 1 : 0
            if fields.subject.isReplyOrForward { flags |= 2 }
            if fields.messageID != nil { flags |= 4 }
            out.append(flags)
            for value in [fields.subject.key, fields.from, fields.to, fields.cc, fields.displayFrom, fields.displayTo] {
                string(value)
            }
            if let id = fields.messageID { string(Array(id.utf8)) }
            integer(UInt32(fields.references.count))
            for reference in fields.references { string(Array(reference.utf8)) }
        }
        return out
    }

    static func decode(_ bytes: [UInt8], uidValidity: UInt32) -> [(uid: UInt32, fields: SortFields)] {
        let header = Array("tern-sort \(version) V\(uidValidity)\n".utf8)
        guard bytes.starts(with: header) else { return [] }
        var reader = Reader(bytes: bytes, index: header.count)
        var entries: [(uid: UInt32, fields: SortFields)] = []
        while reader.index < bytes.count, let entry = reader.record() { entries.append(entry) }
        return entries
    }

    private struct Reader {
        let bytes: [UInt8]
        var index: Int

        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard bytes.count - index >= size else { return nil }
            var value: T = 0
            for offset in 0..<size { value |= T(truncatingIfNeeded: bytes[index + offset]) << (8 * offset) }
            index += size
            return value
        }

        mutating func string() -> [UInt8]? {
            guard let count = integer(UInt32.self), bytes.count - index >= Int(count) else { return nil }
            defer { index += Int(count) }
            return Array(bytes[index..<(index + Int(count))])
        }

        mutating func record() -> (uid: UInt32, fields: SortFields)? {
            guard let uid = integer(UInt32.self), let date = integer(Int64.self), let flags = integer(UInt8.self),
                let subject = string(), let from = string(), let to = string(), let cc = string(),
                let displayFrom = string(), let displayTo = string()
            else { return nil }
            var messageID: String?
            if flags & 4 != 0 {
                guard let id = string() else { return nil }
                messageID = String(decoding: id, as: UTF8.self)
            }
            // A count larger than what is left cannot be right: stop before reserving for it.
            guard let count = integer(UInt32.self), Int(count) <= (bytes.count - index) / 4 else { return nil }
            var references: [String] = []
            for _ in 0..<count {
                guard let reference = string() else { return nil }
                references.append(String(decoding: reference, as: UTF8.self))
            }
            let fields = SortFields(
                subject: BaseSubject(key: subject, isReplyOrForward: flags & 2 != 0), hasSubject: flags & 1 != 0,
                from: from, to: to, cc: cc, displayFrom: displayFrom, displayTo: displayTo, sentDate: Int(date),
                messageID: messageID, references: references)
            return (uid, fields)
        }
    }
}
