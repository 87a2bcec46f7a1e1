import Foundation

/// The `allow_nets=` passdb extra field: comma-separated networks (`10.0.0.0/8,::1,local`) the user may log
/// in from (https://doc.dovecot.org/2.3/configuration_manual/authentication/allow_nets/).
struct AllowNets: Sendable {
    let networks: [String]

    init(_ value: String) {
        networks = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// nil when allowed, else the reason Dovecot logs.
    func check(remoteIP: String?) -> String? {
        guard let remoteIP, let address = Self.bytes(remoteIP) else {
            if networks.contains("local") { return nil }
            return "allow_nets check failed: Remote IP not known and 'local' missing"
        }
        for network in networks where network != "local" {
            let parts = network.split(separator: "/", maxSplits: 1)
            guard let base = Self.bytes(String(parts[0])), base.count == address.count else { continue }
            let bits = parts.count == 2 ? Int(parts[1]) ?? -1 : base.count * 8
            guard bits >= 0, bits <= base.count * 8 else { continue }
            if Self.prefixMatches(address, base, bits: bits) { return nil }
        }
        return "allow_nets check failed: IP \(remoteIP) not in allowed networks"
    }

    static func prefixMatches(_ lhs: [UInt8], _ rhs: [UInt8], bits: Int) -> Bool {
        for index in 0..<(bits / 8) where lhs[index] != rhs[index] { return false }
        let rest = bits % 8
        guard rest > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - rest)
        return lhs[bits / 8] & mask == rhs[bits / 8] & mask
    }

    /// The 4 or 16 bytes of an address (an IPv4-mapped IPv6 address counts as IPv4).
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Array(bytes[12...])
        }
        return bytes
    }
}
