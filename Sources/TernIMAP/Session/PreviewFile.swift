/// `tern.preview`, beside `tern.index`: the PREVIEW texts made so far (Dovecot keeps them in
/// dovecot.index.cache), so a repeated FETCH PREVIEW does not read the message again and PREVIEW (LAZY) has
/// something to answer with. A text line, then binary records (integers little-endian):
///
///     tern-preview 1 V<uidvalidity>\n
///     uid u32, length u32, the preview (UTF-8)
///
/// Records are appended as previews are made (a later record of a UID wins); the file is rewritten with the
/// live records only when it has grown to twice their size. Another version or UIDVALIDITY makes the file
/// unusable; a broken record ends it. Bump `version` whenever previews are made differently.
enum PreviewFile {
    static let name = "tern.preview"
    static let version = 1

    static func encode(_ previews: [UInt32: [UInt8]], uidValidity: UInt32) -> [UInt8] {
        Array("tern-preview \(version) V\(uidValidity)\n".utf8) + records(previews)
    }

    /// The records alone, for appending.
    static func records(_ previews: [UInt32: [UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        func integer(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        for uid in previews.keys.sorted() {
            let text = previews[uid] ?? []
            integer(uid)
            integer(UInt32(text.count))
            out += text
        }
        return out
    }

    static func decode(_ bytes: [UInt8], uidValidity: UInt32) -> [UInt32: [UInt8]] {
        let header = Array("tern-preview \(version) V\(uidValidity)\n".utf8)
        guard bytes.starts(with: header) else { return [:] }
        var index = header.count
        func integer() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            defer { index += 4 }
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[index + $1]) << (8 * $1) }
        }
        var previews: [UInt32: [UInt8]] = [:]
        while let uid = integer(), let count = integer(), bytes.count - index >= Int(count) {
            previews[uid] = Array(bytes[index..<(index + Int(count))])
            index += Int(count)
        }
        return previews
    }
}
