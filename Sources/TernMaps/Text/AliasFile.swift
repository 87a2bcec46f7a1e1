public import TernCore

/// One aliases(5) entry: `name: value, value, ...` with where it came from.
public struct AliasEntry: Sendable, Equatable {
    /// The alias name in internal (unquoted) form, as written (postalias folds it when storing).
    public let name: String
    /// The value in external (quoted) form with `, ` between members, exactly as postalias stores it.
    public let value: String
    public let file: String
    public let lineNumber: Int

    public init(name: String, value: String, file: String, lineNumber: Int) {
        self.name = name
        self.value = value
        self.file = file
        self.lineNumber = lineNumber
    }

    /// The comma-separated members of the value: addresses, `/file`, `|command`, `:include:/file`.
    public var members: [String] { AliasFile.members(of: value) }
}

/// Parser for aliases(5) files as postalias(1) reads them: logical lines with continuations, `#` comments,
/// RFC 822 tokenization so that quoted names and values keep special characters.
public enum AliasFile {
    /// - Parameter warn: receives `FILE, line N: need name:value pair` and `... name must be local`.
    public static func parse(
        _ bytes: [UInt8], file: String, warn: (String) -> Void = { _ in }
    ) throws(FileError) -> [AliasEntry] {
        var entries: [AliasEntry] = []
        for line in try LogicalLineReader.lines(of: bytes, file: file, warn: warn) {
            let tokens = RFC822Token.scan(line.text)
            if tokens.isEmpty { continue }
            let colonToken = RFC822Token.special(UInt8(ascii: ":"))
            guard let colon = tokens.firstIndex(of: colonToken), colon > 0, colon + 1 < tokens.count,
                !tokens[..<colon].contains(.special(UInt8(ascii: ",")))
            else {
                warn("\(file), line \(line.lineNumber): need name:value pair")
                continue
            }
            let nameTokens = tokens[..<colon]
            if nameTokens.contains(.special(UInt8(ascii: "@"))) || nameTokens.contains(.special(UInt8(ascii: "%"))) {
                warn("\(file), line \(line.lineNumber): name must be local")
                continue
            }
            entries.append(
                AliasEntry(
                    name: RFC822Token.internalize(nameTokens),
                    value: RFC822Token.externalize(tokens[(colon + 1)...]),
                    file: file, lineNumber: line.lineNumber))
        }
        return entries
    }

    /// Reads and parses an aliases file.
    public static func parse(path: String, warn: (String) -> Void = { _ in }) throws(FileError) -> [AliasEntry] {
        let bytes: [UInt8]
        do throws(SourceFile.Failure) {
            bytes = try SourceFile.read(path)
        } catch {
            throw FileError(file: path, message: error.reason)
        }
        return try parse(bytes, file: path, warn: warn)
    }

    /// Splits an alias value at top-level commas (commas inside quotes or comments do not split).
    public static func members(of value: String) -> [String] {
        let tokens = RFC822Token.scan(value)
        var members: [String] = []
        var start = tokens.startIndex
        for index in tokens.indices where tokens[index] == .special(UInt8(ascii: ",")) {
            if index > start { members.append(RFC822Token.externalize(tokens[start..<index])) }
            start = index + 1
        }
        if start < tokens.endIndex { members.append(RFC822Token.externalize(tokens[start...])) }
        return members
    }
}
