/// Splits an alias value, a .forward line or an :include: line into destinations, the way Postfix's
/// RFC 822 tokenizer does (tok822_parse + tok822_internalize): commas separate entries, and so do
/// two adjacent words with nothing between them (`user1 user2`); `"quoted strings"` keep spaces
/// (`"|/usr/bin/procmail -a x"`); a backslash quotes the next character (so `\user` becomes `user`);
/// `(comments)` are dropped; `Phrase <addr>` yields `addr`. Results are in internal (unquoted) form.
public enum AddressListTokenizer {
    /// Upper bound on tokens per input, so a hostile alias value cannot make us allocate without end.
    public static let tokenLimit = 10_000

    enum Token: Equatable {
        case word(String)  // atom, quoted string or [domain literal] (internal form)
        case op(Character)
    }

    /// Operators: Postfix adds `|`, `%` and `!` to the RFC 822 specials (tok822_opchar).
    static let operators: Set<Character> = [
        "|", "%", "!", "(", ")", "<", ">", "@", ",", ";", ":", "\\", "\"", ".", "[", "]",
    ]

    public static func destinations(in text: String) -> [String] {
        let tokens = scan(text)
        var result: [String] = []
        for segment in splitAtCommas(tokens) {
            result.append(contentsOf: addresses(in: segment))
        }
        return result.filter { !$0.isEmpty }
    }

    /// Tokenizes like tok822_scan: whitespace separates, specials are single tokens.
    static func scan(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var chars = Array(text)[...]
        while let c = chars.first, tokens.count < tokenLimit {
            if c == " " || c == "\t" || c == "\r" || c == "\n" {
                chars.removeFirst()
            } else if c == "(" {
                skipComment(&chars)
            } else if c == "\"" || c == "[" {
                chars.removeFirst()
                let body = collect(&chars) { $0 != (c == "\"" ? "\"" : "]") }
                if !chars.isEmpty { chars.removeFirst() }
                tokens.append(.word(c == "[" ? "[\(body)]" : body))
            } else if c != "\\" && operators.contains(c) {
                chars.removeFirst()
                tokens.append(.op(c))
            } else {
                let body = collect(&chars) {
                    !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n") && !operators.contains($0)
                }
                tokens.append(.word(body))
            }
        }
        return tokens
    }

    /// COLLECT: take characters while `condition` holds; a backslash takes the next character literally.
    private static func collect(_ chars: inout ArraySlice<Character>, while condition: (Character) -> Bool) -> String {
        var out = ""
        while let c = chars.first {
            if c == "\\" {
                chars.removeFirst()
                guard let next = chars.first else { break }
                out.append(next == "\t" || next == "\r" || next == "\n" ? " " : next)
                chars.removeFirst()
                continue
            }
            guard condition(c) else { break }
            out.append(c == "\t" || c == "\r" || c == "\n" ? " " : c)
            chars.removeFirst()
        }
        return out
    }

    /// Comments nest and may contain backslash-quoted parentheses.
    private static func skipComment(_ chars: inout ArraySlice<Character>) {
        var depth = 0
        while let c = chars.popFirst() {
            if c == "\\" {
                _ = chars.popFirst()
            } else if c == "(" {
                depth += 1
            } else if c == ")" {
                depth -= 1
                if depth == 0 { return }
            }
        }
    }

    /// Commas outside `<...>` end an entry.
    private static func splitAtCommas(_ tokens: [Token]) -> [[Token]] {
        var segments: [[Token]] = [[]]
        var angle = 0
        for token in tokens {
            switch token {
            case .op("<"): angle += 1
            case .op(">"): angle = max(0, angle - 1)
            case .op(",") where angle == 0:
                segments.append([])
                continue
            default: break
            }
            segments[segments.count - 1].append(token)
        }
        return segments.filter { !$0.isEmpty }
    }

    /// One comma-separated entry: the route address of `phrase <addr>`, else split where two words touch.
    private static func addresses(in segment: [Token]) -> [String] {
        if let open = segment.firstIndex(of: .op("<")) {
            let rest = segment[(open + 1)...]
            let close = rest.firstIndex(of: .op(">")) ?? segment.endIndex
            return [internalize(Array(segment[(open + 1)..<close]))]
        }
        var result: [String] = []
        var current: [Token] = []
        for token in segment {
            if case .word = token, case .word = current.last {
                result.append(internalize(current))
                current = []
            }
            current.append(token)
        }
        if !current.isEmpty { result.append(internalize(current)) }
        return result
    }

    private static func internalize(_ tokens: [Token]) -> String {
        var out = ""
        for token in tokens {
            switch token {
            case .word(let text): out += text
            case .op(let c): out.append(c)
            }
        }
        return out
    }
}
