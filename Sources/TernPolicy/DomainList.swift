public import TernCore

/// A Postfix domain match list (mydestination, relay_domains, virtual_*_domains): literal names, `.domain`
/// and (for lists in parent_domain_matches_subdomains) implicit parent matches, `!name` exclusions,
/// and type:table elements looked up by domain (postconf(5) "match lists").
public struct DomainList: Sendable {
    enum Element: Sendable {
        case name(String, negated: Bool)
        case table(any LookupTable, negated: Bool)
    }

    let elements: [Element]
    /// Whether `example.com` also matches `sub.example.com` (parent_domain_matches_subdomains).
    public let parentMatchesSubdomains: Bool

    /// `items` are the list's words after `/file` expansion; `open` turns a `type:name` word into a table.
    public init(
        items: [String], parentMatchesSubdomains: Bool, open: (String) throws -> any LookupTable
    ) rethrows {
        var elements: [Element] = []
        for item in items {
            let negated = item.hasPrefix("!")
            let word = negated ? String(item.dropFirst()) : item
            if word.contains(":"), !word.hasPrefix("[") {
                elements.append(.table(try open(word), negated: negated))
            } else {
                elements.append(.name(word.lowercased(), negated: negated))
            }
        }
        self.elements = elements
        self.parentMatchesSubdomains = parentMatchesSubdomains
    }

    public var isEmpty: Bool { elements.isEmpty }

    /// Whether `domain` is in the list. The first matching element decides (a `!` element says no).
    public func contains(_ domain: String) async throws -> Bool {
        var name = domain.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        for element in elements {
            switch element {
            case .name(let pattern, let negated):
                if matches(name, pattern) { return !negated }
            case .table(let table, let negated):
                for candidate in candidates(name) where try await table.lookup(candidate) != nil {
                    return !negated
                }
            }
        }
        return false
    }

    private func matches(_ name: String, _ pattern: String) -> Bool {
        if pattern.hasPrefix(".") { return name.hasSuffix(pattern) }
        if name == pattern { return true }
        return parentMatchesSubdomains && name.hasSuffix("." + pattern)
    }

    /// The domain, then (with parent matching) `.parent` forms as Postfix looks them up in tables.
    private func candidates(_ name: String) -> [String] {
        var result = [name]
        guard parentMatchesSubdomains else { return result }
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            result.append(String(rest))
        }
        return result
    }
}
