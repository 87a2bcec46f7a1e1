public import TernCore

/// A Postfix host-or-address match list (namadr_list: smtpd_sasl_exceptions_networks, debug_peer_list, ...):
/// networks in CIDR notation, host names (`.domain` for the names below it, and the name's parents too
/// for lists in parent_domain_matches_subdomains), type:table elements looked up by host name then by
/// address, and `!` exclusions. The first matching element decides (postconf(5) "match lists").
public struct ClientMatchList: Sendable {
    enum Pattern: Sendable {
        case network(IPNetwork)
        case name(String)
        case table(any LookupTable)
    }

    let elements: [(pattern: Pattern, negated: Bool)]
    let parentMatchesSubdomains: Bool

    /// `items` are the list's words after `/file` expansion; `open` turns a `type:name` word into a table.
    public init(
        items: [String], parentMatchesSubdomains: Bool = false, open: (String) throws -> any LookupTable
    ) throws {
        elements = try items.map { item in
            let negated = item.hasPrefix("!")
            let word = negated ? String(item.dropFirst()) : item
            if let network = IPNetwork(word) { return (.network(network), negated) }
            if word.contains(":") && !word.hasPrefix("[") { return (.table(try open(word)), negated) }
            return (.name(word.lowercased()), negated)
        }
        self.parentMatchesSubdomains = parentMatchesSubdomains
    }

    public var isEmpty: Bool { elements.isEmpty }

    /// Whether the client `name` (`unknown` when unverified) at `address` is in the list.
    public func contains(name: String, address: String) async throws -> Bool {
        let host = name.lowercased()
        let ip = IPAddress(address)
        for (pattern, negated) in elements {
            switch pattern {
            case .network(let network):
                if let ip, network.contains(ip) { return !negated }
            case .name(let pattern):
                if pattern.hasPrefix(".") ? host.hasSuffix(pattern) : nameMatches(host, pattern) { return !negated }
            case .table(let table):
                for key in hostKeys(host) + [address] where try await table.lookup(key) != nil {
                    return !negated
                }
            }
        }
        return false
    }

    private func nameMatches(_ host: String, _ pattern: String) -> Bool {
        host == pattern || (parentMatchesSubdomains && host.hasSuffix("." + pattern))
    }

    /// The host name, then its parent domains: `parent` with parent matching, `.parent` without (the keys
    /// Postfix's match_hostname() looks up).
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
