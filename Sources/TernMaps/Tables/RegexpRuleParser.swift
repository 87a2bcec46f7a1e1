import TernCore

/// Parses regexp_table(5) and pcre_table(5) source into rules, with Postfix's warnings for rules it skips.
enum RegexpRuleParser {
    /// Deepest `if` nesting accepted; Postfix has no limit, we bound the stack.
    static let maximumNesting = 100

    struct Pattern {
        var text: String
        var positive: Bool
        /// The flag letters after the closing delimiter, in order (each one the dialect knows).
        var flags: [UInt8]
    }

    static func parse(
        _ bytes: [UInt8], mapName: String, dialect: RegexDialect = .posix, warn: (String) -> Void
    ) throws(FileError) -> [RegexpRule] {
        var rules: [RegexpRule] = []
        var openConditions: [(index: Int, line: Int)] = []
        for line in try LogicalLineReader.lines(of: bytes, file: mapName, warn: warn) {
            let text = line.text.trimmingASCIIWhitespace
            guard !text.isEmpty else { continue }
            let location = "\(dialect.type) map \(mapName), line \(line.lineNumber)"
            if openConditions.count >= maximumNesting && keyword("if", Array(text.utf8)) {
                throw FileError(file: mapName, line: line.lineNumber, message: "IF nesting too deep")
            }
            do throws(SkipRule) {
                let utf8 = Array(text.utf8)
                if !isAlphanumeric(utf8[0]) {
                    rules.append(.match(try parseMatch(utf8, location: location, dialect: dialect, warn: warn)))
                } else if keyword("if", utf8) {
                    var rest = Array(utf8[2...]).drop(while: LogicalLineReader.isSpace)[...]
                    let pattern = try pattern(from: &rest, location: location, dialect: dialect)
                    let extra = String(decoding: rest, as: UTF8.self).trimmingASCIIWhitespace
                    if !extra.isEmpty {
                        warn("\(location): ignoring extra text after IF statement: \"\(extra)\"")
                        warn("\(location): do not prepend whitespace to statements between IF and ENDIF")
                    }
                    let expression = try compile(pattern, groups: false, location: location, dialect: dialect)
                    openConditions.append((rules.count, line.lineNumber))
                    rules.append(.condition(expression, positive: pattern.positive, endif: nil))
                } else if keyword("endif", utf8) {
                    guard let open = openConditions.popLast() else {
                        throw SkipRule(warnings: ["\(location): ignoring ENDIF without matching IF"])
                    }
                    if !String(decoding: utf8[5...], as: UTF8.self).trimmingASCIIWhitespace.isEmpty {
                        warn("\(location): ignoring extra text after ENDIF")
                    }
                    if case .condition(let expression, let positive, _) = rules[open.index] {
                        rules[open.index] = .condition(expression, positive: positive, endif: rules.count)
                    }
                    rules.append(.endif)
                } else {
                    throw SkipRule(warnings: ["\(location): ignoring unrecognized request"])
                }
            } catch {
                error.warnings.forEach(warn)
            }
        }
        for open in openConditions.reversed() {
            warn("\(dialect.type) map \(mapName), line \(open.line): IF has no matching ENDIF")
        }
        return rules
    }

    private static func parseMatch(
        _ utf8: [UInt8], location: String, dialect: RegexDialect, warn: (String) -> Void
    ) throws(SkipRule) -> RegexpRule.Match {
        var rest = utf8[...]
        let first = try pattern(from: &rest, location: location, dialect: dialect)
        var second: Pattern?
        if dialect.secondPattern && rest.first == UInt8(ascii: "!") {
            second = try pattern(from: &rest, location: location, dialect: dialect)
        }
        let replacementText = String(decoding: rest.drop(while: LogicalLineReader.isSpace), as: UTF8.self)
        if replacementText.isEmpty { warn("\(location): no replacement text: using empty string") }
        let replacement = try ReplacementTemplate(replacementText, where: location)
        let highest = replacement.highestGroup
        if highest > 0 && !first.positive {
            throw SkipRule(warnings: ["\(location): $number found in negative match replacement text: skipping this rule"])
        }
        let firstExpression = try compile(first, groups: highest > 0, location: location, dialect: dialect)
        if highest > firstExpression.subexpressionCount {
            throw SkipRule(warnings: ["\(location): out of range replacement index \"\(highest)\": skipping this rule"])
        }
        var secondExpression: (any TableRegex)?
        if let second {
            secondExpression = try compile(second, groups: false, location: location, dialect: dialect)
        }
        return RegexpRule.Match(
            first: firstExpression, firstPositive: first.positive, second: secondExpression,
            secondPositive: second?.positive ?? true, replacement: replacement)
    }

    /// `[!...]<delim>pattern<delim>[flags]`, consuming it from `rest`.
    static func pattern(
        from rest: inout ArraySlice<UInt8>, location: String, dialect: RegexDialect = .posix
    ) throws(SkipRule) -> Pattern {
        var positive = true
        while let byte = rest.first, byte == UInt8(ascii: "!") || LogicalLineReader.isSpace(byte) {
            if byte == UInt8(ascii: "!") { positive.toggle() }
            rest = rest.dropFirst()
        }
        guard let delimiter = rest.first else {
            throw SkipRule(warnings: ["\(location): no regexp: skipping this rule"])
        }
        rest = rest.dropFirst()
        var body: [UInt8] = []
        var closed = false
        while let byte = rest.first {
            rest = rest.dropFirst()
            if byte == UInt8(ascii: "\\"), let next = rest.first {
                body += [byte, next]
                rest = rest.dropFirst()
            } else if byte == delimiter {
                closed = true
                break
            } else {
                body.append(byte)
            }
        }
        guard closed else {
            let shown = String(decoding: [delimiter], as: UTF8.self)
            throw SkipRule(warnings: ["\(location): no closing regexp delimiter \"\(shown)\": skipping this rule"])
        }
        var flags: [UInt8] = []
        while let flag = rest.first, !LogicalLineReader.isSpace(flag), flag != UInt8(ascii: "!") {
            guard dialect.flags.contains(flag) else {
                let shown = String(decoding: [flag], as: UTF8.self)
                throw SkipRule(warnings: ["\(location): unknown regexp option \"\(shown)\": skipping this rule"])
            }
            flags.append(flag)
            rest = rest.dropFirst()
        }
        return Pattern(text: String(decoding: body, as: UTF8.self), positive: positive, flags: flags)
    }

    /// - Parameter groups: whether the rule's result uses `$n`, so the groups' ranges are needed.
    static func compile(
        _ pattern: Pattern, groups: Bool, location: String, dialect: RegexDialect
    ) throws(SkipRule) -> any TableRegex {
        do throws(RegexCompileFailure) {
            return try dialect.compile(pattern, groups)
        } catch {
            throw SkipRule(warnings: ["\(location): \(error.message)"])
        }
    }

    static func keyword(_ word: String, _ utf8: [UInt8]) -> Bool {
        let letters = Array(word.utf8)
        guard utf8.count >= letters.count else { return false }
        for (offset, letter) in letters.enumerated() where utf8[offset] | 0x20 != letter { return false }
        return utf8.count == letters.count || !isAlphanumeric(utf8[letters.count])
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
    }
}
