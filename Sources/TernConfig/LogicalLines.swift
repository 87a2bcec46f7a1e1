/// One logical line of a Postfix configuration file: the physical lines it was joined from and the
/// number of the first one (which is the line Postfix names in its diagnostics).
struct LogicalLine: Sendable, Equatable {
    let line: Int
    let lastLine: Int
    let text: String
}

/// Splits configuration text into logical lines the way Postfix's `readllines()` does (postconf(5),
/// "SYNTAX"): a line that starts with whitespace continues the previous logical line; comment lines
/// (`#` after optional blanks) and blank lines are skipped, also in the middle of a continued line.
/// Each continuation is joined with one space after its leading and trailing blanks are removed.
enum LogicalLineReader {
    /// Longest physical line we accept; Postfix itself has no limit, but a config line this long is
    /// a mistake or an attack, and every later step is linear in it.
    static let maximumLineLength = 1 << 20

    /// Result of splitting: the logical lines, plus the text of leading-whitespace lines that had no
    /// logical line to continue (Postfix warns about and ignores them).
    struct Result: Sendable {
        var lines: [LogicalLine] = []
        var orphans: [String] = []
    }

    static func split(_ text: String) -> Result {
        var result = Result()
        var current: (line: Int, last: Int, text: String)?
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var physical = Substring(raw)
            if physical.last == "\r" { physical = physical.dropLast() }
            if physical.utf8.count > maximumLineLength { physical = physical.prefix(maximumLineLength) }
            let body = physical.drop(while: { $0 == " " || $0 == "\t" })
            if body.isEmpty || body.first == "#" || body.allSatisfy({ $0.isWhitespace }) { continue }
            let trimmed = trimTrailing(body)
            if body.startIndex != physical.startIndex {
                if current != nil {
                    current!.text += " " + trimmed
                    current!.last = number
                } else {
                    result.orphans.append(String(trimTrailing(physical)))
                }
                continue
            }
            if let done = current { result.lines.append(LogicalLine(line: done.line, lastLine: done.last, text: done.text)) }
            current = (number, number, String(trimmed))
        }
        if let done = current { result.lines.append(LogicalLine(line: done.line, lastLine: done.last, text: done.text)) }
        return result
    }

    static func trimTrailing(_ s: Substring) -> Substring {
        var end = s.endIndex
        while end > s.startIndex {
            let before = s.index(before: end)
            guard s[before].isWhitespace else { break }
            end = before
        }
        return s[s.startIndex..<end]
    }
}

/// Postfix's `split_nameval()`: `name = value` with blanks around both trimmed. Returns the Postfix
/// error text on failure ("missing attribute name", "missing '=' after attribute name").
enum NameValue {
    static func split(_ text: String) -> Result<(name: String, value: String), NameValueError> {
        let blanks: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let s = Substring(text).drop(while: blanks)
        let name = s.prefix(while: { !blanks($0) && $0 != "=" })
        let rest = s[name.endIndex...].drop(while: blanks)
        guard rest.first == "=" else { return .failure(s.isEmpty ? .missingName : .missingEquals) }
        if name.isEmpty { return .failure(.missingName) }
        var value = rest.dropFirst().drop(while: blanks)
        while let last = value.last, blanks(last) { value = value.dropLast() }
        return .success((String(name), String(value)))
    }
}

enum NameValueError: Error, Sendable {
    case missingName
    case missingEquals

    var text: String {
        switch self {
        case .missingName: return "missing attribute name"
        case .missingEquals: return "missing '=' after attribute name"
        }
    }
}
