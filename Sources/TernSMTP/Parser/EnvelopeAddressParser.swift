/// Extracts the envelope address from a MAIL/RCPT/VRFY argument the way Postfix's extract_addr() does
/// with strict_rfc821_envelopes = no: outer `<>` removed, a source route `@a,@b:` dropped, RFC 822
/// comments and phrases tolerated (`Joe <a@b>`), quoted local parts unquoted, and exactly one address
/// allowed. The result is Postfix's internal (unquoted) form; `""` is the null sender.
/// The domain is then checked as trivial-rewrite does (host name or address literal).
public enum EnvelopeAddressParser {
    public enum Failure: Error, Sendable, Hashable {
        case multipleAddresses
        case emptyAddress
        case badDomain
        case notStrict
    }

    /// - Parameters:
    ///   - token: the argument token, in external form (`<"a b"@example.com>`).
    ///   - allowEmpty: MAIL FROM accepts `<>`, RCPT TO and VRFY do not.
    ///   - allowUTF8: SMTPUTF8 was requested, so non-ASCII domains are accepted.
    ///   - strict: strict_rfc821_envelopes.
    public static func extract(_ token: String, allowEmpty: Bool, allowUTF8: Bool = false, strict: Bool = false)
        -> Result<String, Failure>
    {
        var text = Substring(token)
        if text.count >= 2, text.first == "<", text.last == ">" { text = text.dropFirst().dropLast() }
        if text.first == "@", let colon = text.firstIndex(of: ":") { text = text[text.index(after: colon)...] }

        let tokens = RFC822Tokenizer.tokenize(Array(text.utf8))
        let (addresses, nonAddress) = group(tokens)
        if addresses.count > 1 { return .failure(.multipleAddresses) }
        if strict && (nonAddress > 0 || !token.hasPrefix("<")) { return .failure(.notStrict) }
        let address = addresses.first.map(internalize) ?? ""
        if address.isEmpty && !allowEmpty { return .failure(.emptyAddress) }
        if strict && address.hasPrefix("@") { return .failure(.notStrict) }
        if !address.isEmpty && !domainIsValid(address, allowUTF8: allowUTF8) { return .failure(.badDomain) }
        return .success(address)
    }

    /// trivial-rewrite's resolve check: the part after the last `@` (one trailing dot ignored) must be
    /// a valid host name or address literal; an address without `@` is a local name.
    static func domainIsValid(_ address: String, allowUTF8: Bool) -> Bool {
        guard let at = address.lastIndex(of: "@") else { return true }
        var domain = Substring(address[address.index(after: at)...])
        if domain.hasSuffix(".") { domain = domain.dropLast() }
        guard !domain.isEmpty else { return false }
        if domain.first == "[" { return HostnameSyntax.isValidAddressLiteral(String(domain)) }
        return HostnameSyntax.isValidHostname(String(domain), allowUTF8: allowUTF8)
    }

    /// Splits RFC 822 tokens into addresses like tok822_parse(): `,` `;` separate addresses, a `:` ends a
    /// group name, `<…>` marks the address within a phrase, and two words in a row (without `.` or `@`
    /// between) start a new address. Returns the address token runs and the count of non-address tokens.
    static func group(_ tokens: [RFC822Token]) -> (addresses: [[RFC822Token]], nonAddress: Int) {
        var addresses: [[RFC822Token]] = []
        var nonAddress = 0
        var run: [RFC822Token] = []
        var angle: [RFC822Token]? = nil
        func flush() {
            if !run.isEmpty { addresses.append(run) }
            run = []
        }
        for token in tokens {
            if var inside = angle {
                if token == .special(">") {
                    var routeFree = inside
                    if routeFree.first == .special("@"), let colon = routeFree.firstIndex(of: .special(":")) {
                        routeFree = Array(routeFree[(colon + 1)...])
                    }
                    if !routeFree.isEmpty { addresses.append(routeFree) }
                    angle = nil
                } else if case .comment = token {
                    nonAddress += 1
                } else {
                    inside.append(token)
                    angle = inside
                }
                continue
            }
            switch token {
            case .comment:
                nonAddress += 1
            case .special("<"):
                nonAddress += run.count  // the phrase before a route address
                run = []
                angle = []
            case .special(">"):
                continue
            case .special(","), .special(";"):
                flush()
            case .special(":"):
                nonAddress += run.count
                run = []
            case .special("."), .special("@"):
                run.append(token)
            case .special:
                nonAddress += 1
            case .atom, .quoted, .literal:
                if let last = run.last, last.isWord { flush() }
                run.append(token)
            }
        }
        if let inside = angle, !inside.isEmpty { addresses.append(inside) }
        flush()
        return (addresses, nonAddress)
    }

    static func internalize(_ tokens: [RFC822Token]) -> String {
        var out = ""
        for token in tokens {
            switch token {
            case .atom(let s), .quoted(let s), .literal(let s): out += s
            case .special(let c): out.append(c)
            case .comment: continue
            }
        }
        return out
    }
}

/// RFC 822 lexical tokens, enough for envelope addresses (Postfix tok822_parse.c).
enum RFC822Token: Hashable {
    case atom(String)
    /// A quoted string, content unquoted.
    case quoted(String)
    /// A domain literal including its brackets.
    case literal(String)
    case special(Character)
    case comment

    var isWord: Bool {
        switch self {
        case .atom, .quoted, .literal: return true
        default: return false
        }
    }
}

enum RFC822Tokenizer {
    static let specials: Set<UInt8> = Set("<>@,;:.".utf8)

    static func tokenize(_ s: [UInt8]) -> [RFC822Token] {
        var tokens: [RFC822Token] = []
        var i = 0
        func string(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        while i < s.count {
            let c = s[i]
            if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A {
                i += 1
            } else if c == UInt8(ascii: "(") {
                var depth = 0
                while i < s.count {
                    let d = s[i]
                    i += 1
                    if d == UInt8(ascii: "\\") {
                        i += 1
                        continue
                    }
                    if d == UInt8(ascii: "(") { depth += 1 }
                    if d == UInt8(ascii: ")") {
                        depth -= 1
                        if depth == 0 { break }
                    }
                }
                tokens.append(.comment)
            } else if c == UInt8(ascii: "\"") {
                i += 1
                var value: [UInt8] = []
                while i < s.count, s[i] != UInt8(ascii: "\"") {
                    if s[i] == UInt8(ascii: "\\"), i + 1 < s.count { i += 1 }
                    value.append(s[i])
                    i += 1
                }
                i += 1
                tokens.append(.quoted(string(value)))
            } else if c == UInt8(ascii: "[") {
                var value: [UInt8] = []
                while i < s.count {
                    value.append(s[i])
                    i += 1
                    if value.last == UInt8(ascii: "]") { break }
                }
                tokens.append(.literal(string(value)))
            } else if specials.contains(c) {
                tokens.append(.special(Character(Unicode.Scalar(c))))
                i += 1
            } else if c == UInt8(ascii: ")") {
                i += 1  // stray close parenthesis: ignored
            } else {
                var value: [UInt8] = []
                while i < s.count {
                    let d = s[i]
                    if d == 0x20 || d == 0x09 || d == 0x0D || d == 0x0A || specials.contains(d)
                        || d == UInt8(ascii: "(") || d == UInt8(ascii: ")") || d == UInt8(ascii: "\"")
                        || d == UInt8(ascii: "[")
                    {
                        break
                    }
                    if d == UInt8(ascii: "\\"), i + 1 < s.count { i += 1 }
                    value.append(s[i])
                    i += 1
                }
                tokens.append(.atom(string(value)))
            }
        }
        return tokens
    }
}
