import Foundation

/// A list of networks (`10.0.0.0/8 ::1 local`, comma- or space-separated): the `allow_nets=` passdb extra
/// field (https://doc.dovecot.org/2.3/configuration_manual/authentication/allow_nets/) and
/// login_trusted_networks.
public struct AllowNets: Sendable {
    let networks: [String]

    public init(_ value: String) {
        networks = value.split { $0 == "," || $0 == " " || $0 == "\t" }.map(String.init)
    }

    /// nil when allowed, else the reason Dovecot logs.
    func check(remoteIP: String?) -> String? {
        guard let remoteIP, Self.bytes(remoteIP) != nil else {
            if networks.contains("local") { return nil }
            return "allow_nets check failed: Remote IP not known and 'local' missing"
        }
        return contains(remoteIP) ? nil : "allow_nets check failed: IP \(remoteIP) not in allowed networks"
    }

    /// Whether the address is in one of the networks.
    public func contains(_ remoteIP: String) -> Bool {
        guard let address = Self.bytes(remoteIP) else { return false }
        return networks.contains { network in
            guard let (base, bits) = Self.network(network), base.count == address.count else { return false }
            return Self.prefixMatches(address, base, bits: bits)
        }
    }

    /// `ip` or `ip/bits` as bytes and prefix length (Dovecot's net_parse_range); nil when it is not one.
    public static func network(_ text: String) -> (bytes: [UInt8], bits: Int)? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let base = bytes(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return (base, base.count * 8) }
        guard let bits = Int(parts[1]), bits >= 0, bits <= base.count * 8 else { return nil }
        return (base, bits)
    }

    static func prefixMatches(_ lhs: [UInt8], _ rhs: [UInt8], bits: Int) -> Bool {
        for index in 0..<(bits / 8) where lhs[index] != rhs[index] { return false }
        let rest = bits % 8
        guard rest > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - rest)
        return lhs[bits / 8] & mask == rhs[bits / 8] & mask
    }

    /// The 4 or 16 bytes of an address (an IPv4-mapped IPv6 address counts as IPv4); nil when it is none.
    public static func bytes(_ text: String) -> [UInt8]? {
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
