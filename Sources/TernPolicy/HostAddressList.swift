public import TernCore

/// A Postfix host-or-address match list (namadr_list: smtpd_client_event_limit_exceptions and the like):
/// networks (`127.0.0.0/8`, `[::1]/128`, a bare address), host names (`mx.example.com`) and domains
/// (`.example.com` for its subdomains; `example.com` too for lists in parent_domain_matches_subdomains),
/// `type:table` elements looked up by client name, its parent domains, then by address, and `!`
/// exclusions. The first matching element decides (postconf(5) "match lists").
public struct HostAddressList: Sendable {
    enum Pattern: Sendable {
        case network(IPNetwork)
        case name(String)
        case table(any LookupTable)
    }

    let elements: [(pattern: Pattern, negated: Bool)]
    /// Whether `example.com` also matches `sub.example.com` (parent_domain_matches_subdomains).
    let parentMatchesSubdomains: Bool

    /// The empty list: nothing matches.
    public init() {
        elements = []
        parentMatchesSubdomains = false
    }

    /// `items` are the list's words after `/file` expansion; `open` turns a `type:name` word into a table.
    public init(
        items: [String], parentMatchesSubdomains: Bool = false, open: (String) throws -> any LookupTable
    ) rethrows {
        self.parentMatchesSubdomains = parentMatchesSubdomains
        var elements: [(Pattern, Bool)] = []
        for item in items {
            let negated = item.hasPrefix("!")
            let word = negated ? String(item.dropFirst()) : item
            if let network = IPNetwork(word) {
                elements.append((.network(network), negated))
            } else if word.contains(":"), !word.hasPrefix("[") {
                elements.append((.table(try open(word)), negated))
            } else {
                elements.append((.name(word.lowercased()), negated))
            }
        }
        self.elements = elements
    }

    public var isEmpty: Bool { elements.isEmpty }

    /// The answer when it needs no table lookup (networks and names decide first, or there is no table),
    /// nil when `contains` must consult a table.
    public func matchWithoutLookups(name: String, address: String) -> Bool? {
        guard let (_, decision) = scan(from: 0, host: name.lowercased(), ip: IPAddress(address)) else { return false }
        return decision
    }

    /// Whether the client (its verified name, or `unknown`, and its address) is in the list.
    public func contains(name: String, address: String) async throws -> Bool {
        let host = name.lowercased()
        let ip = IPAddress(address)
        var start = 0
        while let (index, decision) = scan(from: start, host: host, ip: ip) {
            if let decision { return decision }
            guard case .table(let table) = elements[index].pattern else { break }
            for key in hostKeys(host) + [address] where try await table.lookup(key) != nil {
                return !elements[index].negated
            }
            start = index + 1
        }
        return false
    }

    /// From `start` on, the first network or name that matches (with its decision) or the first table
    /// (decision nil); nil when neither comes.
    private func scan(from start: Int, host: String, ip: IPAddress?) -> (index: Int, decision: Bool?)? {
        for index in elements.indices.dropFirst(start) {
            let (pattern, negated) = elements[index]
            if case .table = pattern { return (index, nil) }
            if matches(pattern, host: host, ip: ip) { return (index, !negated) }
        }
        return nil
    }

    private func matches(_ pattern: Pattern, host: String, ip: IPAddress?) -> Bool {
        switch pattern {
        case .network(let network): return ip.map(network.contains) ?? false
        case .name(let name):
            if name.hasPrefix(".") { return host.hasSuffix(name) }
            return host == name || (parentMatchesSubdomains && host.hasSuffix("." + name))
        case .table: return false
        }
    }

    /// The host name, then its parent domains: `parent` with parent matching, `.parent` without (the keys
    /// Postfix's match_hostname() looks up). An unverified client (`unknown`) has none.
    private func hostKeys(_ host: String) -> [String] {
        guard host != "unknown" else { return [] }
        var keys = [host]
        var rest = Substring(host)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            keys.append(parentMatchesSubdomains ? String(rest) : "." + rest)
        }
        return keys
    }
}
