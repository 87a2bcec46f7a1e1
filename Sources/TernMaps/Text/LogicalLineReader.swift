public import TernCore

/// One logical line of a Postfix table source: the text and the physical line number it starts on.
public struct LogicalLine: Sendable, Equatable {
    public let text: String
    public let lineNumber: Int
}

/// Splits table source text into logical lines as Postfix's readllines(3) does: empty, blank and `#` comment
/// lines are skipped; a line that starts with whitespace continues the previous logical line (joined as is,
/// without the newline); the line number is that of the first physical line.
public enum LogicalLineReader {
    /// Longest logical line accepted. Postfix has no limit; we bound memory per record (keys and values of
    /// real tables are far shorter).
    public static let maximumLineLength = 64 * 1024

    /// - Parameters:
    ///   - file: name used in errors and warnings.
    ///   - warn: receives "logical line must not start with whitespace" warnings, worded like Postfix.
    public static func lines(
        of bytes: [UInt8], file: String, warn: (String) -> Void = { _ in }
    ) throws(FileError) -> [LogicalLine] {
        var result: [LogicalLine] = []
        var current: [UInt8] = []
        var currentStart = 0
        var lineNumber = 0
        var index = 0
        func flush() {
            guard !current.isEmpty else { return }
            if isSpace(current[0]) {
                let text = String(decoding: current, as: UTF8.self)
                let shown = text.utf8.count > 30 ? String(decoding: current.prefix(30), as: UTF8.self) + "..." : text
                warn("\(file): logical line must not start with whitespace: \"\(shown)\"")
            } else {
                result.append(LogicalLine(text: String(decoding: current, as: UTF8.self), lineNumber: currentStart))
            }
            current.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            lineNumber += 1
            var end = index
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let physical = bytes[index..<end]
            index = end + 1
            guard let firstText = physical.firstIndex(where: { !isSpace($0) }),
                physical[firstText] != UInt8(ascii: "#")
            else { continue }  // blank or comment line: ignored, even between continuation lines
            if !isSpace(physical[physical.startIndex]) {
                flush()
                currentStart = lineNumber
            } else if current.isEmpty {
                currentStart = lineNumber
            }
            current.append(contentsOf: physical)
            if current.count > maximumLineLength {
                throw FileError(file: file, line: currentStart, message: "line too long (over \(maximumLineLength) bytes)")
            }
        }
        flush()
        return result
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }
}

extension String {
    /// The string without leading and trailing ASCII whitespace (Postfix trimblanks plus skipping leading space).
    var trimmingASCIIWhitespace: String {
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { !LogicalLineReader.isSpace($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !LogicalLineReader.isSpace($0) })!
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// ASCII lower case, like Postfix lowercase(3); non-ASCII text is lower-cased by Unicode rules, which
    /// approximates Postfix's UTF-8 casefolding when smtputf8 is on.
    var foldedKey: String {
        if utf8.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        return lowercased()
    }
}
