public import TernCore

/// One `key value` record of a postmap(1) source file.
public struct MapSourceEntry: Sendable, Equatable {
    public let key: String
    public let value: String
    public let lineNumber: Int
    public init(key: String, value: String, lineNumber: Int) {
        self.key = key
        self.value = value
        self.lineNumber = lineNumber
    }
}

/// Parses the text format of postmap(1): `key whitespace value`, `#` comments, continuation lines.
/// The key ends at the first whitespace; leading and trailing whitespace of the value is dropped.
public enum MapSourceParser {
    /// - Parameter warnSuffix: texthash appends " -- ignoring this line" to the format warning; postmap does not.
    public static func parse(
        _ bytes: [UInt8], file: String, warnSuffix: String = "", warn: (String) -> Void
    ) throws(FileError) -> [MapSourceEntry] {
        var entries: [MapSourceEntry] = []
        for line in try LogicalLineReader.lines(of: bytes, file: file, warn: warn) {
            let utf8 = Array(line.text.utf8)
            let keyEnd = utf8.firstIndex(where: LogicalLineReader.isSpace) ?? utf8.count
            let key = String(decoding: utf8[..<keyEnd], as: UTF8.self)
            let value = String(decoding: utf8[keyEnd...], as: UTF8.self).trimmingASCIIWhitespace
            if key.isEmpty || value.isEmpty {
                warn("\(file), line \(line.lineNumber): expected format: key whitespace value\(warnSuffix)")
                continue
            }
            if key.hasSuffix(":") {
                warn("\(file), line \(line.lineNumber): record is in \"key: value\" format; is this an alias file?")
            }
            entries.append(MapSourceEntry(key: key, value: value, lineNumber: line.lineNumber))
        }
        return entries
    }
}
