public import TernCore

/// Typed readings of parameter values (postconf(5) "boolean", "time", "size", list syntax).
extension MainConfig {
    /// `yes`/`true` or `no`/`false` (any case); nil for anything else.
    public func bool(_ name: String) -> Bool? {
        switch value(name).lowercased() {
        case "yes", "true": return true
        case "no", "false": return false
        default: return nil
        }
    }

    public func int(_ name: String) -> Int? {
        Int(value(name).trimmingBlanks())
    }

    /// A time parameter in seconds. A bare number takes the parameter's default unit
    /// (`ParameterRegistry.defaultTimeUnit`, e.g. days for maximal_queue_lifetime).
    public func time(_ name: String) -> Int? {
        TimeValue.seconds(value(name), defaultUnit: ParameterRegistry.defaultTimeUnit(name) ?? "s")
    }

    /// A size parameter in bytes.
    public func size(_ name: String) -> Int? {
        SizeValue.bytes(value(name))
    }

    /// The expanded value split on commas and/or blanks (`{...}` groups kept whole). In match lists
    /// (`ParameterRegistry.fileExpandingLists`) a `/file/name` element is replaced by the words in
    /// that file, `#` comments skipped, as Postfix's match_list does; `type:table` elements stay.
    public func list(_ name: String) throws(FileError) -> [String] {
        let words = Self.splitList(value(name))
        guard ParameterRegistry.fileExpandingLists.contains(name) else { return words }
        var result: [String] = []
        for word in words {
            if word.hasPrefix("/") {
                result += try Self.fileWords(word, depth: 0)
            } else if word.hasPrefix("!/") {
                result += try Self.fileWords(String(word.dropFirst()), depth: 0).map { "!" + $0 }
            } else {
                result.append(word)
            }
        }
        return result
    }

    /// Postfix's list splitting: separators are comma, space, tab, CR and LF; text inside `{}` is
    /// one element even when it contains separators.
    public static func splitList(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var depth = 0
        for c in text {
            if c == "{" { depth += 1 }
            if c == "}" { depth = max(0, depth - 1) }
            if depth == 0, c == "," || c == " " || c == "\t" || c == "\r" || c == "\n" {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Files named in match lists may name further files; Postfix allows that, we bound the depth.
    static let maximumFileNesting = 8

    static func fileWords(_ path: String, depth: Int) throws(FileError) -> [String] {
        guard depth < maximumFileNesting else {
            throw FileError(file: path, message: "too many nested /file/name references")
        }
        let text = try ConfigFile.read(path)
        var words: [String] = []
        for line in text.split(separator: "\n") {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for word in splitList(String(content)) {
                if word.hasPrefix("/") {
                    words += try fileWords(word, depth: depth + 1)
                } else {
                    words.append(word)
                }
            }
        }
        return words
    }
}

extension String {
    func trimmingBlanks() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
