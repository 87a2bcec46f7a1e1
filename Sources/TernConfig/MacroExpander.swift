/// Why a `$name` expansion failed; `postfixWarning` is the text Postfix's mac_expand(3) warns with
/// before it gives up with "macro processing error".
public enum MacroError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `$` followed by neither a name, `$`, `{` nor `(`.
    case emptyName(String)
    /// `${name` without its closing bracket.
    case truncated(String)
    /// Expansion went deeper than `MacroExpander.maximumNesting` (a `$a` → `$b` → `$a` loop).
    case nesting(String)
    /// A `${{a} op {b}?...}` expression that does not parse or compares non-numbers numerically.
    case badExpression(String)

    public var postfixWarning: String {
        switch self {
        case .emptyName(let text): return "empty macro name: \"\(text)\""
        case .truncated(let text): return "truncated macro reference: \"\(text)\""
        case .nesting(let name): return "unreasonable macro call nesting: \"\(name)\""
        case .badExpression(let text): return "\(text)"
        }
    }

    public var description: String { postfixWarning }
}

/// Postfix `$name` expansion (postconf(5) "parameter expansion", mac_expand(3)): `$name`, `${name}`,
/// `$(name)`, `${name?value}`, `${name:value}`, `${name?{value}}`, `${name:{value}}`,
/// `${name?{value1}:{value2}}`, `$$`, and the relational form `${{text1} op {text2} ? {v1} : {v2}}` with
/// `==`, `!=`, `<`, `<=`, `>`, `>=` (decimal numbers) and their `level` variants (compatibility levels).
/// Undefined names expand to the empty string; values of names are expanded in turn.
struct MacroExpander {
    /// Postfix's mac_expand limit; deeper means a loop.
    static let maximumNesting = 100

    /// Returns the unexpanded value of a parameter, or nil when nothing defines it.
    let lookup: (String) -> String?

    func expand(_ text: String) throws(MacroError) -> String {
        try expand(Substring(text), level: 0)
    }

    private func expand(_ text: Substring, level: Int) throws(MacroError) -> String {
        var out = ""
        for node in try MacroSyntax.parse(text) {
            out += try evaluate(node, level: level)
        }
        return out
    }

    private func evaluate(_ node: MacroNode, level: Int) throws(MacroError) -> String {
        switch node {
        case .literal(let text):
            return text
        case .variable(let name):
            guard let value = lookup(name) else { return "" }
            if level >= Self.maximumNesting { throw .nesting(name) }
            return try expand(Substring(value), level: level + 1)
        case .conditional(let name, let ifSet, let ifUnset):
            let set: Bool
            if let value = lookup(name) {
                if level >= Self.maximumNesting { throw .nesting(name) }
                set = !(try expand(Substring(value), level: level + 1)).isEmpty
            } else {
                set = false
            }
            guard let branch = set ? ifSet : ifUnset else { return "" }
            return try expand(branch, level: level)
        case .relational(let lhs, let op, let rhs, let ifTrue, let ifFalse):
            let left = try expand(lhs, level: level)
            let right = try expand(rhs, level: level)
            guard let branch = try Self.compare(left, op, right) ? ifTrue : ifFalse else { return "" }
            return try expand(branch, level: level)
        }
    }

    static func compare(_ left: String, _ op: String, _ right: String) throws(MacroError) -> Bool {
        if op == "==" || op == "!=" {
            return (left == right) == (op == "==")
        }
        let ordering: Int
        if op.hasSuffix("level") {
            guard let l = CompatibilityLevel(left), let r = CompatibilityLevel(right) else {
                throw .badExpression("invalid compatibility level in \"\(left) \(op) \(right)\"")
            }
            ordering = l < r ? -1 : (l == r ? 0 : 1)
        } else {
            guard let l = Int(left), let r = Int(right) else {
                throw .badExpression("non-numeric operand in \"\(left) \(op) \(right)\"")
            }
            ordering = l < r ? -1 : (l == r ? 0 : 1)
        }
        switch op.hasSuffix("level") ? String(op.dropLast(5)) : op {
        case "==": return ordering == 0
        case "!=": return ordering != 0
        case "<": return ordering < 0
        case "<=": return ordering <= 0
        case ">": return ordering > 0
        case ">=": return ordering >= 0
        default: throw .badExpression("unknown operator \"\(op)\"")
        }
    }

    /// Every parameter name the text refers to, in every branch, once per occurrence (the order
    /// Postfix scans them in to decide which user-defined parameters are used).
    static func references(in text: String) -> [String] {
        guard let nodes = try? MacroSyntax.parse(Substring(text)) else { return [] }
        var names: [String] = []
        func visit(_ nodes: [MacroNode]) {
            for node in nodes {
                switch node {
                case .literal: break
                case .variable(let name): names.append(name)
                case .conditional(let name, let a, let b):
                    names.append(name)
                    for branch in [a, b].compactMap({ $0 }) { visit((try? MacroSyntax.parse(branch)) ?? []) }
                case .relational(let l, _, let r, let a, let b):
                    for part in [l, r, a, b].compactMap({ $0 }) { visit((try? MacroSyntax.parse(part)) ?? []) }
                }
            }
        }
        visit(nodes)
        return names
    }
}

/// A Postfix compatibility level such as `3.6` or `2`, compared field by field (postconf(5)
/// "compatibility_level").
struct CompatibilityLevel: Comparable {
    let parts: [Int]

    init?(_ text: String) {
        let fields = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !fields.isEmpty, fields.count <= 3 else { return nil }
        var parts: [Int] = []
        for field in fields {
            guard let n = Int(field), n >= 0 else { return nil }
            parts.append(n)
        }
        while parts.count < 3 { parts.append(0) }
        self.parts = parts
    }

    static func < (a: CompatibilityLevel, b: CompatibilityLevel) -> Bool {
        a.parts.lexicographicallyPrecedes(b.parts)
    }
}
