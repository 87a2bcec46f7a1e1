/// masquerade_domains (postconf(5), cleanup_masq.c): `user@host.sub.example.com` becomes
/// `user@example.com` when `example.com` is listed. The first listed domain that equals the address's domain
/// or is a parent of it decides; a `!domain` entry matches the same way but leaves the address alone, so
/// `!sub.example.com, example.com` keeps `sub.example.com` and its subdomains from being stripped to the parent.
/// Localparts in masquerade_exceptions are never masqueraded.
struct Masquerade: Sendable, Equatable {
    let domains: [String]
    /// Lower-cased localparts.
    let exceptions: Set<String>

    init(domains: [String], exceptions: [String]) {
        self.domains = domains
        self.exceptions = Set(exceptions.map { $0.lowercased() })
    }

    var isEmpty: Bool { domains.isEmpty }

    func apply(to address: String) -> String {
        guard !domains.isEmpty, let at = address.lastIndex(of: "@") else { return address }
        if exceptions.contains(address[..<at].lowercased()) { return address }
        let domain = address[address.index(after: at)...].lowercased()
        for entry in domains {
            var masq = Substring(entry)
            var truncate = true
            while masq.first == "!" {
                masq = masq.dropFirst()
                truncate.toggle()
            }
            let name = masq.lowercased()
            if name.isEmpty { continue }
            if domain == name { return address }
            if domain.hasSuffix("." + name) {
                return truncate ? String(address[...at] + masq) : address
            }
        }
        return address
    }
}
