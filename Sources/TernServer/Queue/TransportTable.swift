import Foundation
import TernCore
import TernMaps

/// transport(5): `transport_maps` entries `transport:nexthop` searched by the full address (with and without
/// its extension), the domain, each parent as `.parent`, then `*`.
enum TransportTable {
    static func lookup(_ address: MailAddress, in tables: [any LookupTable], delimiter: String) async throws
        -> String?
    {
        guard !tables.isEmpty, let domain = address.domain?.lowercased() else { return nil }
        var keys = [address.text.lowercased()]
        let (localpart, ext) = address.splitExtension(delimiters: delimiter)
        if ext != nil { keys.append("\(localpart)@\(domain)".lowercased()) }
        keys += DomainSearch.keys(domain, parentMatches: false)
        keys.append("*")
        for table in tables {
            for key in keys {
                if let value = try await table.lookup(key) { return value.trimmingCharacters(in: .whitespaces) }
            }
        }
        return nil
    }

    /// A table result over the default: `smtp:[host]` replaces both parts, `smtp:` or `smtp` only the
    /// transport, `:[host]` only the next hop.
    static func merge(_ mapped: String, into current: String) -> String {
        let currentName = String(current.prefix { $0 != ":" })
        let currentHop = current.contains(":") ? String(current.drop { $0 != ":" }.dropFirst()) : ""
        let name = String(mapped.prefix { $0 != ":" })
        let hop = mapped.contains(":") ? String(mapped.drop { $0 != ":" }.dropFirst()) : ""
        let resultName = name.isEmpty ? currentName : name
        let resultHop = hop.isEmpty ? (name.isEmpty || name == currentName ? currentHop : "") : hop
        return resultHop.isEmpty ? resultName : "\(resultName):\(resultHop)"
    }
}
