/// One piece of a parameter value after mac_parse(3): literal text or a `$` reference. Branch texts
/// stay unparsed so that only the branch taken is expanded (and parsed), as Postfix does.
enum MacroNode: Equatable {
    case literal(String)
    case variable(String)
    case conditional(name: String, ifSet: Substring?, ifUnset: Substring?)
    case relational(lhs: Substring, op: String, rhs: Substring, ifTrue: Substring?, ifFalse: Substring?)
}

enum MacroSyntax {
    static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_")
    }

    static func parse(_ text: Substring) throws(MacroError) -> [MacroNode] {
        var nodes: [MacroNode] = []
        var literal = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            guard c == "$" else {
                literal.append(c)
                i = text.index(after: i)
                continue
            }
            let next = text.index(after: i)
            guard next < text.endIndex else { throw .emptyName(String(text)) }
            let n = text[next]
            if n == "$" {
                literal.append("$")
                i = text.index(after: next)
                continue
            }
            if !literal.isEmpty {
                nodes.append(.literal(literal))
                literal = ""
            }
            if n == "{" || n == "(" {
                let close: Character = n == "{" ? "}" : ")"
                guard let end = matching(text, open: next, openChar: n, closeChar: close) else {
                    throw .truncated(String(text[i...]))
                }
                let inner = text[text.index(after: next)..<end]
                nodes.append(try reference(inner, whole: text))
                i = text.index(after: end)
            } else {
                let name = text[next...].prefix(while: isNameCharacter)
                guard !name.isEmpty else { throw .emptyName(String(text)) }
                nodes.append(.variable(String(name)))
                i = name.endIndex
            }
        }
        if !literal.isEmpty { nodes.append(.literal(literal)) }
        return nodes
    }

    /// Index of the bracket that closes the one at `open`, counting nesting of the same kind.
    static func matching(_ text: Substring, open: Substring.Index, openChar: Character, closeChar: Character)
        -> Substring.Index?
    {
        var depth = 0
        var i = open
        while i < text.endIndex {
            if text[i] == openChar {
                depth += 1
            } else if text[i] == closeChar {
                depth -= 1
                if depth == 0 { return i }
            }
            i = text.index(after: i)
        }
        return nil
    }

    /// The contents of `${...}`: a name with an optional `?`/`:` branch, or a relational expression.
    private static func reference(_ inner: Substring, whole: Substring) throws(MacroError) -> MacroNode {
        if inner.first == "{" { return try relational(inner) }
        let name = inner.prefix(while: isNameCharacter)
        guard !name.isEmpty else { throw .emptyName(String(whole)) }
        let rest = inner[name.endIndex...]
        guard let op = rest.first else { return .variable(String(name)) }
        let body = rest.dropFirst()
        switch op {
        case "?":
            if let (first, after) = braced(body) {
                let tail = skipBlanks(after)
                if tail.isEmpty { return .conditional(name: String(name), ifSet: first, ifUnset: nil) }
                if tail.first == ":", let (second, end) = braced(skipBlanks(tail.dropFirst())),
                    skipBlanks(end).isEmpty
                {
                    return .conditional(name: String(name), ifSet: first, ifUnset: second)
                }
            }
            return .conditional(name: String(name), ifSet: body, ifUnset: nil)
        case ":":
            if let (first, after) = braced(body), skipBlanks(after).isEmpty {
                return .conditional(name: String(name), ifSet: nil, ifUnset: first)
            }
            return .conditional(name: String(name), ifSet: nil, ifUnset: body)
        default:
            throw .badExpression("unexpected character '\(op)' after macro name \"\(name)\"")
        }
    }

    /// `{text1} op {text2} ? {value1} : {value2}` (the `: {value2}` part optional).
    private static func relational(_ inner: Substring) throws(MacroError) -> MacroNode {
        let bad = MacroError.badExpression("malformed expression: \"${\(inner)}\"")
        guard let (lhs, afterLeft) = braced(inner) else { throw bad }
        let opText = skipBlanks(afterLeft).prefix(while: { "=!<>".contains($0) || $0.isLetter })
        let op = String(opText)
        let valid = ["==", "!=", "<", "<=", ">", ">="]
        guard valid.contains(op) || valid.map({ $0 + "level" }).contains(op) else { throw bad }
        guard let (rhs, afterRight) = braced(skipBlanks(skipBlanks(afterLeft).dropFirst(op.count))) else {
            throw bad
        }
        var tail = skipBlanks(afterRight)
        guard tail.first == "?" else { throw bad }
        tail = skipBlanks(tail.dropFirst())
        guard let (ifTrue, afterTrue) = braced(tail) else { throw bad }
        tail = skipBlanks(afterTrue)
        if tail.isEmpty { return .relational(lhs: lhs, op: op, rhs: rhs, ifTrue: ifTrue, ifFalse: nil) }
        guard tail.first == ":", let (ifFalse, end) = braced(skipBlanks(tail.dropFirst())),
            skipBlanks(end).isEmpty
        else { throw bad }
        return .relational(lhs: lhs, op: op, rhs: rhs, ifTrue: ifTrue, ifFalse: ifFalse)
    }

    /// `{text}rest` → (`text`, `rest`), honouring nested braces.
    static func braced(_ s: Substring) -> (Substring, Substring)? {
        guard s.first == "{", let end = matching(s, open: s.startIndex, openChar: "{", closeChar: "}") else {
            return nil
        }
        return (s[s.index(after: s.startIndex)..<end], s[s.index(after: end)...])
    }

    static func skipBlanks(_ s: Substring) -> Substring {
        s.drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
    }
}
