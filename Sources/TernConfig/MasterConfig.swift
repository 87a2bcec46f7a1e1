public import TernCore

/// Postfix's master.cf (master(5)): one service per logical line, continuation lines starting with
/// whitespace, `#` comment lines. Errors use postconf's words: `bad field count` (with file and line),
/// `invalid private field "x" in "<entry>"`.
public struct MasterConfig: Sendable {
    public let file: String
    public let services: [MasterService]
    /// Non-fatal problems, worded as postconf words them (`master.cf: missing '}' in "{ x =1 "`).
    public let parseWarnings: [String]

    public init(file: String, services: [MasterService], parseWarnings: [String] = []) {
        self.file = file
        self.services = services
        self.parseWarnings = parseWarnings
    }

    /// The seven fixed fields every entry has before the command.
    static let fixedFieldCount = 8
    static let fieldNames = ["service", "type", "private", "unprivileged", "chroot", "wakeup", "process_limit"]

    public static func load(directory: String) throws(FileError) -> MasterConfig {
        let path = directory + "/master.cf"
        return try parse(text: try ConfigFile.read(path), file: path)
    }

    public static func parse(text: String, file: String) throws(FileError) -> MasterConfig {
        var services: [MasterService] = []
        var warnings: [String] = []
        for logical in LogicalLineReader.split(text).lines {
            services.append(try parseEntry(logical, file: file, warnings: &warnings))
        }
        return MasterConfig(file: file, services: services, parseWarnings: warnings)
    }

    /// Services matching `name` and, when given, `type` (the `-M name/type` filter).
    public func services(named name: String, type: String? = nil) -> [MasterService] {
        services.filter { $0.name == name && (type == nil || $0.type.rawValue == type) }
    }

    static func parseEntry(_ logical: LogicalLine, file: String, warnings: inout [String]) throws(FileError)
        -> MasterService
    {
        let raw = logical.text
        let words = splitQuoted(raw)
        guard words.count >= fixedFieldCount else {
            throw FileError(file: file, line: logical.line, message: "bad field count")
        }
        func invalid(_ field: Int) -> FileError {
            FileError(
                file: file, line: logical.line,
                message: "invalid \(fieldNames[field]) field \"\(words[field])\" in \"\(raw)\"")
        }
        guard let type = MasterService.ServiceType(rawValue: words[1]) else { throw invalid(1) }
        for field in 2...4 where !(words[field].count == 1 && "yn-".contains(words[field])) {
            throw invalid(field)
        }
        var wakeup = Substring(words[5])
        if wakeup.last == "?" { wakeup = wakeup.dropLast() }
        if !(wakeup == "-" || (!wakeup.isEmpty && wakeup.allSatisfy(\.isASCIIDigit))) { throw invalid(5) }
        if !(words[6] == "-" || words[6].allSatisfy(\.isASCIIDigit)) { throw invalid(6) }
        let arguments = normalizeArguments(Array(words[8...]), warnings: &warnings)
        return MasterService(
            name: words[0], type: type, privateField: words[2], unprivilegedField: words[3],
            chrootField: words[4], wakeupField: words[5], maxprocField: words[6], command: words[7],
            arguments: arguments, line: logical.line)
    }

    /// Splits on blanks, keeping `{...}` groups (with their braces) inside one word, like argv_splitq().
    static func splitQuoted(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var depth = 0
        var inWord = false
        for c in text {
            if depth == 0, c == " " || c == "\t" || c == "\r" || c == "\n" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
                continue
            }
            if c == "{" { depth += 1 } else if c == "}", depth > 0 { depth -= 1 }
            current.append(c)
            inWord = true
        }
        if inWord { words.append(current) }
        return words
    }

    /// Brings daemon arguments into the form postconf shows: `-ozz` → `-o zz`, `-vo x` → `-v -o x`,
    /// `{ name = value }` → `name=value`, `{text}` → `text`.
    static func normalizeArguments(_ input: [String], warnings: inout [String]) -> [String] {
        var args = input
        var i = 0
        while i < args.count {
            let arg = args[i]
            // GNU-style long options (`--delay=60` of a `postgrey` service) are no Postfix daemon options.
            if !arg.hasPrefix("-") || arg.hasPrefix("--") { break }
            if let o = arg.dropFirst(2).firstIndex(of: "o") {
                args[i] = String(arg[..<o])
                args.insert("-" + arg[o...], at: i + 1)
                i += 1
                continue
            }
            guard arg.dropFirst().first == "o" else {
                i += 1
                continue
            }
            if arg.count > 2 {
                args[i] = "-o"
                args.insert(String(arg.dropFirst(2)), at: i + 1)
            }
            guard i + 1 < args.count else { break }
            i += 1
            if args[i].hasPrefix("{") {
                let inner = extractBraced(args[i], warnings: &warnings)
                if case .success(let pair) = NameValue.split(inner) {
                    args[i] = pair.name + "=" + pair.value
                } else if case .failure(let error) = NameValue.split(inner) {
                    warnings.append("master.cf: \(error.text): \"\(inner)\"")
                    args[i] = inner
                }
            }
            i += 1
        }
        while i < args.count {
            if args[i].hasPrefix("{") { args[i] = extractBraced(args[i], warnings: &warnings) }
            i += 1
        }
        return args
    }

    /// `{ text }` → `text` with surrounding blanks stripped (extpar with EXTPAR_FLAG_STRIP).
    static func extractBraced(_ word: String, warnings: inout [String]) -> String {
        var inner = Substring(word.dropFirst())
        if inner.last == "}" {
            inner = inner.dropLast()
        } else {
            warnings.append("master.cf: missing '}' in \"\(word)\"")
        }
        return String(inner).trimmingBlanks()
    }

    /// Postconf's diagnostic for a master.cf error: `file F: line N: bad field count`, or the bare
    /// message for field errors (postconf names the entry text, not the line, for those).
    public static func postconfText(_ error: FileError) -> String {
        if error.message == "bad field count", let line = error.line {
            return "file \(error.file): line \(line): \(error.message)"
        }
        return error.message
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
