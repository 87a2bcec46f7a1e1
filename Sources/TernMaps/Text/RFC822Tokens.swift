/// RFC 822 tokens as Postfix's tok822_scan(3) produces them, with `|`, `%` and `!` as operators so that alias
/// values like `|"/bin/cmd"` keep their shape. Used by postalias(1) and aliases(5) parsing.
enum RFC822Token: Equatable {
    case atom(String)
    case quoted(String)
    case comment(String)
    case domainLiteral(String)
    case special(UInt8)

    static let operators = Set("|%!()<>@,;:\\\".[]".utf8).subtracting([UInt8(ascii: "\\")])
    /// Postfix stops tokenizing huge inputs; we bound the token count per logical line.
    static let maximumTokens = 10_000

    static func scan(_ text: String) -> [RFC822Token] {
        let bytes = Array(text.utf8)
        var tokens: [RFC822Token] = []
        var index = 0
        func collect(until stop: (UInt8) -> Bool) -> String {
            var out: [UInt8] = []
            while index < bytes.count {
                var byte = bytes[index]
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < bytes.count else { break }
                    byte = bytes[index]
                } else if stop(byte) {
                    break
                }
                out.append(LogicalLineReader.isSpace(byte) ? 0x20 : byte)
                index += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
        while index < bytes.count && tokens.count < maximumTokens {
            let byte = bytes[index]
            index += 1
            if LogicalLineReader.isSpace(byte) { continue }
            switch byte {
            case UInt8(ascii: "("):
                var out: [UInt8] = [byte]
                var level = 1
                while index < bytes.count {
                    let next = bytes[index]
                    out.append(next)
                    index += 1
                    if next == UInt8(ascii: "(") {
                        level += 1
                    } else if next == UInt8(ascii: ")") {
                        level -= 1
                        if level == 0 { break }
                    } else if next == UInt8(ascii: "\\"), index < bytes.count {
                        out.append(bytes[index])
                        index += 1
                    }
                }
                tokens.append(.comment(String(decoding: out, as: UTF8.self)))
            case UInt8(ascii: "["):
                tokens.append(.domainLiteral(collect { $0 == UInt8(ascii: "]") }))
                if index < bytes.count { index += 1 }
            case UInt8(ascii: "\""):
                tokens.append(.quoted(collect { $0 == UInt8(ascii: "\"") }))
                if index < bytes.count { index += 1 }
            case let op where operators.contains(op):
                tokens.append(.special(op))
            default:
                index -= 1
                let atom = collect { LogicalLineReader.isSpace($0) || operators.contains($0) }
                let needsQuote = atom.utf8.contains { $0 == 0x20 || $0 < 0x20 || $0 == 0x7F || operators.contains($0) }
                tokens.append(needsQuote ? .quoted(atom) : .atom(atom))
            }
        }
        return tokens
    }

    private var isWord: Bool {
        if case .special = self { return false }
        return true
    }

    private static func needsSpace(_ token: RFC822Token, before next: RFC822Token?) -> Bool {
        guard let next else { return false }
        if token == .special(UInt8(ascii: ",")) || next == .special(UInt8(ascii: "<")) { return true }
        return token.isWord && next.isWord
    }

    /// Internal (unquoted) form, tok822_internalize: how postalias stores alias names.
    static func internalize(_ tokens: ArraySlice<RFC822Token>) -> String {
        render(tokens, external: false)
    }

    /// External (quoted) form, tok822_externalize: how postalias stores alias values.
    static func externalize(_ tokens: ArraySlice<RFC822Token>) -> String {
        render(tokens, external: true)
    }

    private static func render(_ tokens: ArraySlice<RFC822Token>, external: Bool) -> String {
        var out = ""
        var index = tokens.startIndex
        while index < tokens.endIndex {
            let token = tokens[index]
            switch token {
            case .atom(let text), .comment(let text): out += text
            case .quoted(let text): out += external ? "\"\(escape(text, quoting: "\"\\\r\n"))\"" : text
            case .domainLiteral(let text): out += "[\(external ? escape(text, quoting: "\\\r\n") : text)]"
            case .special(let byte): out += String(UnicodeScalar(byte))
            }
            let next = index + 1 < tokens.endIndex ? tokens[index + 1] : nil
            if needsSpace(token, before: next) { out += " " }
            index += 1
        }
        return out
    }

    private static func escape(_ text: String, quoting: String) -> String {
        var out = ""
        for character in text {
            if quoting.contains(character) { out += "\\" }
            out.append(character)
        }
        return out
    }
}
