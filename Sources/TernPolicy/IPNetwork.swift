import Glibc

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d) plus whether it was written as IPv4.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public let isIPv4: Bool

    /// Parses `1.2.3.4`, `::1`, `[::1]`, `IPv6:...` (the SMTP address-literal prefix).
    public init?(_ text: String) {
        var t = text
        if t.hasPrefix("["), t.hasSuffix("]") { t = String(t.dropFirst().dropLast()) }
        if t.lowercased().hasPrefix("ipv6:") { t = String(t.dropFirst(5)) }
        if let zone = t.firstIndex(of: "%") { t = String(t[..<zone]) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, t, &v4) == 1 {
            let raw = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            bytes = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + raw
            isIPv4 = true
        } else if inet_pton(AF_INET6, t, &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
            isIPv4 = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        } else {
            return nil
        }
    }

    public var description: String {
        if isIPv4 { return bytes[12...].map(String.init).joined(separator: ".") }
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A network in CIDR notation (`127.0.0.0/8`, `[::1]/128`, a bare address = one host), as mynetworks
/// and cidr tables write them.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    /// Prefix length in bits of the 128-bit form (an IPv4 /8 is 104 here).
    let prefixBits: Int

    public init?(_ text: String) {
        var t = text
        var length: Int?
        if let slash = t.lastIndex(of: "/") {
            guard let n = Int(t[t.index(after: slash)...]) else { return nil }
            length = n
            t = String(t[..<slash])
        }
        guard let address = IPAddress(t) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        let bits = length ?? maximum
        guard (0...maximum).contains(bits) else { return nil }
        self.address = address
        prefixBits = address.isIPv4 ? bits + 96 : bits
    }

    public func contains(_ other: IPAddress) -> Bool {
        guard other.isIPv4 == address.isIPv4 else { return false }
        var remaining = prefixBits
        for i in 0..<16 where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if address.bytes[i] & mask != other.bytes[i] & mask { return false }
            remaining -= 8
        }
        return true
    }

    public var description: String {
        let length = address.isIPv4 ? prefixBits - 96 : prefixBits
        return address.isIPv4 ? "\(address)/\(length)" : "[\(address)]/\(length)"
    }
}
