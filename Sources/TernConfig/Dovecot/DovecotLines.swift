/// A dovecot.conf problem, worded as Dovecot 2.3 words it: `Error in configuration file FILE line N: MSG`
/// (or without the line when it concerns the whole file, like `Missing '}'`); `open(FILE) failed: ...`
/// when the top file cannot be read.
public struct DovecotConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let message: String
    /// Failures to open the main file are not "in" it: Dovecot prints only the message.
    public let isOpenFailure: Bool

    public init(file: String, line: Int?, message: String, isOpenFailure: Bool = false) {
        self.file = file
        self.line = line
        self.message = message
        self.isOpenFailure = isOpenFailure
    }

    public var description: String {
        if isOpenFailure { return message }
        if let line { return "Error in configuration file \(file) line \(line): \(message)" }
        return "Error in configuration file \(file): \(message)"
    }
}

/// Where a setting or section came from (Dovecot names `file:line` in its diagnostics).
public struct DovecotLocation: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int

    public var description: String { "\(file):\(line)" }
}

/// One logical line of dovecot.conf after continuation, comments and quoting are dealt with
/// (Dovecot's `config_parse_line()` in src/config/config-parser.c).
enum DovecotLine: Equatable {
    /// `key = value`; `quoted` when the value was written in quotes (then `$key` is not expanded).
    case setting(key: String, value: String, quoted: Bool)
    /// `key = <path`: the value is read from a file.
    case fileSetting(key: String, path: String)
    /// `kind [name] {`
    case sectionStart(kind: String, name: String?)
    case sectionEnd
    /// `!include FILE` (`optional` for `!include_try`)
    case include(pattern: String, optional: Bool)
}

enum DovecotLineParser {
    /// Longest logical line we accept. Dovecot has no limit; a line this long is a mistake or an attack,
    /// and everything after this step is linear in it.
    static let maximumLineLength = 1 << 20

    struct Parsed {
        var line: DovecotLine?
        var warning: String?
    }

    /// Parses one logical line (continuations already joined). `nil` line: blank or comment.
    static func parse(_ text: Substring) -> Result<Parsed, DovecotLineError> {
        var parsed = Parsed()
        let blanks: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        var s = text.drop(while: blanks)
        if s.isEmpty || s.first == "#" { return .success(parsed) }
        // Strip a comment: an unquoted '#'. Dovecot warns when it does not follow a blank.
        var quote: Character?
        var escaped = false
        var index = s.startIndex
        while index < s.endIndex {
            let c = s[index]
            if escaped {
                escaped = false
            } else if let q = quote {
                if c == "\\" { escaped = true } else if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#" {
                if index > s.startIndex, !blanks(s[s.index(before: index)]) {
                    parsed.warning =
                        "Ambiguous '#' character in line, treating it as comment. Add a space before it to remove this warning."
                }
                s = s[s.startIndex..<index]
                break
            }
            index = s.index(after: index)
        }
        while let last = s.last, blanks(last) { s = s.dropLast() }
        if s.isEmpty { return .success(parsed) }
        if s == "}" {
            parsed.line = .sectionEnd
            return .success(parsed)
        }
        if s.hasPrefix("!include") {
            let word = s.prefix(while: { !blanks($0) })
            let rest = s[word.endIndex...].drop(while: blanks)
            guard word == "!include" || word == "!include_try" else { return .failure(.unknownDirective(String(word))) }
            guard !rest.isEmpty else { return .failure(.missingIncludeFile) }
            parsed.line = .include(pattern: unquote(rest) ?? String(rest), optional: word == "!include_try")
            return .success(parsed)
        }
        let key = s.prefix(while: { !blanks($0) && $0 != "=" && $0 != "{" })
        var rest = s[key.endIndex...].drop(while: blanks)
        if rest.first == "=" {
            guard !key.isEmpty else { return .failure(.missingKey) }
            rest = rest.dropFirst().drop(while: blanks)
            if rest.first == "<" {
                let path = rest.dropFirst().drop(while: blanks)
                parsed.line = .fileSetting(key: String(key), path: String(path))
            } else if let unquoted = unquote(rest) {
                parsed.line = .setting(key: String(key), value: unquoted, quoted: true)
            } else {
                parsed.line = .setting(key: String(key), value: String(rest), quoted: false)
            }
            return .success(parsed)
        }
        if rest.last == "{" {
            guard !key.isEmpty else { return .failure(.missingKey) }
            var name = rest.dropLast()
            while let last = name.last, blanks(last) { name = name.dropLast() }
            let sectionName = name.isEmpty ? nil : (unquote(name) ?? String(name))
            parsed.line = .sectionStart(kind: String(key), name: sectionName)
            return .success(parsed)
        }
        return .failure(.expectingEquals)
    }

    /// `"..."` or `'...'` around the whole value: the text inside, with `\"`, `\\` and the like
    /// unescaped (Dovecot's `str_unescape()`); `nil` when the value is not quoted.
    static func unquote(_ s: Substring) -> String? {
        guard s.count >= 2, let first = s.first, first == "\"" || first == "'", s.last == first else { return nil }
        var out = ""
        var escaped = false
        for c in s.dropFirst().dropLast() {
            if escaped {
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}

enum DovecotLineError: Error, Equatable {
    case expectingEquals
    case missingKey
    case missingIncludeFile
    case unknownDirective(String)

    var message: String {
        switch self {
        case .expectingEquals: return "Expecting '='"
        case .missingKey: return "Missing key name ('=' at the beginning of line)"
        case .missingIncludeFile: return "Missing include file name"
        case .unknownDirective(let word): return "Unknown command: \(word)"
        }
    }
}

/// Splits file text into logical lines: a `\` at the end of a line joins the next one (its leading
/// blanks removed), and each logical line keeps the number of its first physical line.
enum DovecotPhysicalLines {
    static func split(_ text: String) -> [(line: Int, text: Substring)] {
        var result: [(Int, Substring)] = []
        var pending: String?
        var pendingLine = 0
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var physical = raw.prefix(DovecotLineParser.maximumLineLength)
            if physical.last == "\r" { physical = physical.dropLast() }
            if var joined = pending {
                joined += physical.drop(while: { $0 == " " || $0 == "\t" })
                pending = joined.utf8.count > DovecotLineParser.maximumLineLength ? String(joined.prefix(1024)) : joined
            } else {
                pending = String(physical)
                pendingLine = number
            }
            if pending!.last == "\\" {
                pending!.removeLast()
                continue
            }
            result.append((pendingLine, Substring(pending!)))
            pending = nil
        }
        if let pending { result.append((pendingLine, Substring(pending))) }
        return result
    }
}
