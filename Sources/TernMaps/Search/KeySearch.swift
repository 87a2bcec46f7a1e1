public import TernCore

/// The result of a search order: the value found and the key that found it.
public struct SearchMatch: Sendable, Equatable {
    public let value: String
    public let key: String
    public init(value: String, key: String) {
        self.value = value
        self.key = key
    }
}

/// One key of a search order. Partial keys (parent domains, `user@`, network prefixes) are skipped for
/// pattern tables (regexp, cidr), which Postfix queries with the complete string only.
struct SearchKey {
    let key: String
    let partial: Bool
}

func firstMatch(_ keys: [SearchKey], in table: any LookupTable) async throws -> SearchMatch? {
    let pattern = MapOpener.isPatternTable(table)
    for candidate in keys where !(pattern && candidate.partial) {
        if let value = try await table.lookup(candidate.key) { return SearchMatch(value: value, key: candidate.key) }
    }
    return nil
}

/// Address search orders of access(5), virtual(5), canonical(5) and generic(5).
public enum AddressSearch {
    /// Splits a localpart at the first recipient delimiter character as Postfix's split_addr(3) does:
    /// `owner-x` and `x-request` are not split when `-` is a delimiter; an empty base is not split.
    /// - Returns: the base localpart and the extension (without the delimiter), or nil.
    public static func splitExtension(_ localpart: String, delimiters: String) -> (base: String, extension: String)? {
        guard !delimiters.isEmpty else { return nil }
        if delimiters.contains("-") {
            let lower = localpart.lowercased()
            if lower.hasPrefix("owner-") || (lower.count > 8 && lower.hasSuffix("-request")) { return nil }
        }
        guard let index = localpart.firstIndex(where: { delimiters.contains($0) }), index != localpart.startIndex
        else { return nil }
        return (String(localpart[..<index]), String(localpart[localpart.index(after: index)...]))
    }

    /// access(5) for sender/recipient addresses: `user+ext@domain`, `user@domain`, the domain and its parents
    /// (`parent.tld` when `parentMatches` — smtpd_access_maps in parent_domain_matches_subdomains — else
    /// `.parent.tld`), `user+ext@`, `user@`. An address without `@domain` finds nothing, as in Postfix.
    public static func access(
        address: String, table: any LookupTable, delimiter: String = "", parentMatches: Bool = false
    ) async throws -> SearchMatch? {
        guard let at = address.lastIndex(of: "@"), address.index(after: at) != address.endIndex else { return nil }
        let localpart = String(address[..<at])
        let domain = String(address[address.index(after: at)...])
        let split = splitExtension(localpart, delimiters: delimiter)
        var keys = [SearchKey(key: address, partial: false)]
        if let split { keys.append(SearchKey(key: "\(split.base)@\(domain)", partial: true)) }
        keys += DomainSearch.keys(domain, parentMatches: parentMatches).map { SearchKey(key: $0, partial: true) }
        keys.append(SearchKey(key: "\(localpart)@", partial: true))
        if let split { keys.append(SearchKey(key: "\(split.base)@", partial: true)) }
        return try await firstMatch(keys, in: table)
    }

    /// virtual(5) / canonical(5) / generic(5): `user+ext@domain`, `user@domain`, then — only when
    /// `localDomain` (the domain is in $myorigin, $mydestination, $inet_interfaces or $proxy_interfaces) —
    /// `user+ext` and `user`, and finally `@domain`.
    public static func virtual(
        address: String, table: any LookupTable, delimiter: String = "", localDomain: Bool = false
    ) async throws -> SearchMatch? {
        guard let at = address.lastIndex(of: "@") else {
            let split = splitExtension(address, delimiters: delimiter)
            var keys = [SearchKey(key: address, partial: false)]
            if let split { keys.append(SearchKey(key: split.base, partial: true)) }
            return try await firstMatch(keys, in: table)
        }
        let localpart = String(address[..<at])
        let domain = String(address[address.index(after: at)...])
        let split = splitExtension(localpart, delimiters: delimiter)
        var keys = [SearchKey(key: address, partial: false)]
        if let split { keys.append(SearchKey(key: "\(split.base)@\(domain)", partial: true)) }
        if localDomain {
            keys.append(SearchKey(key: localpart, partial: true))
            if let split { keys.append(SearchKey(key: split.base, partial: true)) }
        }
        keys.append(SearchKey(key: "@\(domain)", partial: true))
        return try await firstMatch(keys, in: table)
    }
}

/// Domain and host name search orders (access(5) HOST NAME PATTERNS, transport(5), relay_domains).
public enum DomainSearch {
    /// `a.b.example.com`, then `b.example.com`, `example.com`, `com` when `parentMatches`, else
    /// `.b.example.com`, `.example.com`, `.com`.
    public static func keys(_ domain: String, parentMatches: Bool) -> [String] {
        var keys = [domain]
        var rest = Substring(domain)
        while let dot = rest.dropFirst().firstIndex(of: ".") {
            rest = rest[dot...]
            keys.append(parentMatches ? String(rest.dropFirst()) : String(rest))
        }
        return keys
    }

    /// Looks up a domain or client host name in the access(5) order.
    public static func search(
        domain: String, table: any LookupTable, parentMatches: Bool = false
    ) async throws -> SearchMatch? {
        let keys = keys(domain, parentMatches: parentMatches).enumerated().map {
            SearchKey(key: $0.element, partial: $0.offset > 0)
        }
        return try await firstMatch(keys, in: table)
    }
}

/// Client address search order of access(5): `1.2.3.4`, `1.2.3`, `1.2`, `1`; IPv6 truncated at `:`.
public enum ClientAddressSearch {
    /// The keys for an address as Postfix prints it (`[...]` removed, IPv6 in compressed form).
    public static func keys(_ address: String) -> [String] {
        var text = address
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text.lowercased().hasPrefix("ipv6:") { text = String(text.dropFirst(5)) }
        let delimiter: Character = text.contains(":") ? ":" : "."
        var keys = [text]
        var rest = Substring(text)
        while let index = rest.lastIndex(of: delimiter) {
            rest = rest[..<index]
            if rest.isEmpty { break }
            keys.append(String(rest))
        }
        return keys
    }

    public static func search(address: String, table: any LookupTable) async throws -> SearchMatch? {
        let keys = keys(address).enumerated().map { SearchKey(key: $0.element, partial: $0.offset > 0) }
        return try await firstMatch(keys, in: table)
    }
}
