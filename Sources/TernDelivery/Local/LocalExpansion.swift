/// `$name` expansion of local(8) attributes in forward_path and luser_relay (Postfix mac_expand(3) with
/// local_expand(3)'s names: user, home, shell, domain, local, mailbox, recipient, extension,
/// recipient_delimiter). Supports `$name`, `${name}`, `$(name)`, `${name?text}`, `${name:text}`, `$$`.
struct LocalExpansion {
    struct Result: Equatable {
        var text: String
        /// An unconditional `$name` had no value (the forward_path entry is then skipped).
        var undefined = false
        /// Bad syntax, e.g. an unterminated `${`.
        var syntaxError = false
        /// `$extension` was used unconditionally (the .forward file name carries the extension).
        var usedExtension = false
    }

    /// Conditional nesting is bounded; real patterns nest once or twice.
    static let maxDepth = 10

    let values: [String: String]
    /// Allowed characters in substituted values (others become `_`), nil for no filtering.
    let filter: Set<Character>?

    init(values: [String: String], filter: String?) {
        self.values = values
        self.filter = filter.map(Set.init)
    }

    func expand(_ pattern: String) -> Result {
        var result = Result(text: "")
        expand(Array(pattern)[...], into: &result, depth: 0)
        return result
    }

    private func expand(_ pattern: ArraySlice<Character>, into result: inout Result, depth: Int) {
        guard depth <= Self.maxDepth else {
            result.syntaxError = true
            return
        }
        var i = pattern.startIndex
        while i < pattern.endIndex {
            let c = pattern[i]
            guard c == "$", pattern.index(after: i) < pattern.endIndex else {
                result.text.append(c)
                i = pattern.index(after: i)
                continue
            }
            let next = pattern[pattern.index(after: i)]
            if next == "$" {
                result.text.append("$")
                i = pattern.index(i, offsetBy: 2)
            } else if next == "{" || next == "(" {
                let close: Character = next == "{" ? "}" : ")"
                let start = pattern.index(i, offsetBy: 2)
                guard let end = matching(close, open: next, in: pattern[start...]) else {
                    result.syntaxError = true
                    return
                }
                substitute(pattern[start..<end], into: &result, depth: depth)
                i = pattern.index(after: end)
            } else if next.isLetter || next.isNumber || next == "_" {
                var end = pattern.index(after: i)
                while end < pattern.endIndex, pattern[end].isLetter || pattern[end].isNumber || pattern[end] == "_" {
                    end = pattern.index(after: end)
                }
                substitute(pattern[pattern.index(after: i)..<end], into: &result, depth: depth)
                i = end
            } else {
                result.text.append(c)
                i = pattern.index(after: i)
            }
        }
    }

    /// The index of the bracket closing the one just before `text`, honouring nesting.
    private func matching(_ close: Character, open: Character, in text: ArraySlice<Character>) -> ArraySlice<Character>
        .Index?
    {
        var depth = 1
        for i in text.indices {
            if text[i] == open { depth += 1 }
            if text[i] == close {
                depth -= 1
                if depth == 0 { return i }
            }
        }
        return nil
    }

    /// `name`, `name?text` or `name:text` (the text is itself expanded).
    private func substitute(_ body: ArraySlice<Character>, into result: inout Result, depth: Int) {
        if let op = body.firstIndex(where: { $0 == "?" || $0 == ":" }) {
            let name = String(body[body.startIndex..<op])
            let defined = values[name] != nil
            if (body[op] == "?") == defined {
                expand(body[body.index(after: op)...], into: &result, depth: depth + 1)
            }
            return
        }
        let name = String(body)
        if name == "extension" { result.usedExtension = true }
        guard let value = values[name] else {
            result.undefined = true
            return
        }
        if let filter {
            result.text += String(value.map { filter.contains($0) ? $0 : "_" })
        } else {
            result.text += value
        }
    }
}

/// Postfix split_addr(3): split a local part at the first recipient delimiter, except for the
/// reserved names (postmaster, mailer-daemon, double_bounce_sender) and, when `-` is a delimiter,
/// `owner-*` and `*-request`. Returns nil when there is no usable extension.
func splitAddressExtension(_ localPart: String, delimiters: String, doubleBounceSender: String) -> (
    user: String, extension: String
)? {
    guard !delimiters.isEmpty else { return nil }
    let folded = localPart.lowercased()
    if folded == "postmaster" || folded == "mailer-daemon" || folded == doubleBounceSender.lowercased() {
        return nil
    }
    if delimiters.contains("-") {
        if folded.hasPrefix("owner-") { return nil }
        if folded.count > 8 && folded.hasSuffix("-request") { return nil }
    }
    guard let i = localPart.firstIndex(where: { delimiters.contains($0) }), i != localPart.startIndex else {
        return nil
    }
    return (String(localPart[..<i]), String(localPart[localPart.index(after: i)...]))
}
