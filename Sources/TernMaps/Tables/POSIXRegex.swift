import Glibc

/// A compiled POSIX regular expression (regcomp(3)/regexec(3) from glibc, as Postfix's regexp tables use).
/// Not Sendable: a table keeps its expressions behind a lock.
final class POSIXRegex: TableRegex {
    struct Options: OptionSet {
        let rawValue: Int32
        static let extended = Options(rawValue: REG_EXTENDED)
        static let ignoreCase = Options(rawValue: REG_ICASE)
        static let newline = Options(rawValue: REG_NEWLINE)
        static let noSubexpressions = Options(rawValue: REG_NOSUB)
    }

    private let compiled: UnsafeMutablePointer<regex_t>
    /// Number of parenthesised subexpressions.
    let subexpressionCount: Int

    /// - Throws: the regerror(3) text, e.g. `Unmatched ( or \(`.
    init(_ pattern: String, options: Options) throws(CompileFailure) {
        compiled = .allocate(capacity: 1)
        let status = regcomp(compiled, pattern, options.rawValue)
        guard status == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(status, compiled, &buffer, buffer.count)
            compiled.deallocate()
            throw CompileFailure(message: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        subexpressionCount = Int(compiled.pointee.re_nsub)
    }

    deinit {
        regfree(compiled)
        compiled.deallocate()
    }

    struct CompileFailure: Error {
        let message: String
    }

    /// Whether `text` matches; with `groups > 0` also the byte ranges of groups 0...groups (nil: unmatched).
    func matches(_ text: [UInt8], groups: Int = 0) -> (Bool, [Range<Int>?]) {
        var matches = [regmatch_t](repeating: regmatch_t(), count: groups + 1)
        let nulTerminated = text + [0]
        let status = nulTerminated.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                regexec(compiled, chars.baseAddress!, groups > 0 ? groups + 1 : 0, &matches, 0)
            }
        }
        guard status == 0 else { return (false, []) }
        guard groups > 0 else { return (true, []) }
        return (true, matches.map { $0.rm_so < 0 ? nil : Int($0.rm_so)..<Int($0.rm_eo) })
    }
}

/// Replacement text of a regexp rule with `$1`..`$9`, `${n}`, `$(n)` and `$$`, parsed like Postfix's
/// mac_parse(3) + regexp prescan.
struct ReplacementTemplate {
    enum Part {
        case literal([UInt8])
        case group(Int)
    }

    let parts: [Part]
    var highestGroup: Int {
        parts.reduce(0) { if case .group(let n) = $1 { return max($0, n) } else { return $0 } }
    }

    /// - Throws: warnings to emit (in order) when the rule must be skipped.
    init(_ text: String, where location: String) throws(SkipRule) {
        let bytes = Array(text.utf8)
        var parts: [Part] = []
        var literal: [UInt8] = []
        var index = 0
        func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
        }
        let badSyntax = "\(location): bad replacement syntax: skipping this rule"
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "$") else {
                literal.append(byte)
                index += 1
                continue
            }
            if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "$") {
                literal.append(byte)
                index += 2
                continue
            }
            index += 1
            var name: [UInt8] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "(") {
                let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ")")
                guard let end = bytes[(index + 1)...].firstIndex(of: close) else {
                    throw SkipRule(warnings: [badSyntax])
                }
                name = Array(bytes[(index + 1)..<end])
                index = end + 1
            } else {
                while index < bytes.count && isNameByte(bytes[index]) {
                    name.append(bytes[index])
                    index += 1
                }
            }
            let nameText = String(decoding: name, as: UTF8.self)
            guard !name.isEmpty else { throw SkipRule(warnings: [badSyntax]) }
            guard name.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(nameText) else {
                throw SkipRule(warnings: ["\(location): non-numeric replacement index \"\(nameText)\"", badSyntax])
            }
            guard number >= 1 else {
                throw SkipRule(warnings: ["\(location): out-of-range replacement index \"\(nameText)\"", badSyntax])
            }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = []
            parts.append(.group(number))
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    func expand(matched text: [UInt8], groups: [Range<Int>?]) -> String {
        var output: [UInt8] = []
        for part in parts {
            switch part {
            case .literal(let bytes): output += bytes
            case .group(let number):
                if number < groups.count, let range = groups[number] { output += text[range] }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// A rule that Postfix skips with the given warnings.
struct SkipRule: Error {
    let warnings: [String]
}
