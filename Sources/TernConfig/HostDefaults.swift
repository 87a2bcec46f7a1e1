import Glibc

/// The defaults Postfix computes from the machine instead of compiling in (postconf(5)):
/// `myhostname` (gethostname(3); with `.$mydomain` or `.localdomain` appended when it has no dot),
/// `mydomain` (`$myhostname` minus its first label, or `localdomain`) and `mynetworks` (from the
/// interface addresses according to `mynetworks_style`).
enum HostDefaults {
    static let fallbackDomain = "localdomain"

    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// `myhostname` when main.cf does not set it; `mydomain` is the expanded explicit mydomain, if any.
    static func myhostname(system: String, explicitDomain: String?) -> String {
        if system.contains(".") { return system }
        let domain = explicitDomain.flatMap { $0.isEmpty ? nil : $0 } ?? fallbackDomain
        return system + "." + domain
    }

    /// `mydomain` when main.cf does not set it, from the expanded myhostname.
    static func mydomain(hostname: String) -> String {
        guard let dot = hostname.firstIndex(of: ".") else { return fallbackDomain }
        let rest = hostname[hostname.index(after: dot)...]
        return rest.isEmpty ? fallbackDomain : String(rest)
    }

    /// `mynetworks` for `mynetworks_style` = host, subnet or class, limited to `inet_protocols`.
    static func mynetworks(style: String, protocols: String) -> String {
        let wanted = protocols.split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.lowercased() }
        let all = wanted.isEmpty || wanted.contains("all")
        let v4 = all || wanted.contains("ipv4")
        let v6 = all || wanted.contains("ipv6")
        var v4Nets: [String] = []
        var v6Nets: [String] = []
        for iface in InterfaceAddress.all() {
            let bits = style == "host" ? iface.maximumPrefix : iface.prefixLength
            if iface.isIPv6 {
                guard v6 else { continue }
                let entry = "[\(InterfaceAddress.masked(iface.address, prefix: bits, ipv6: true))]/\(bits)"
                if !v6Nets.contains(entry) { v6Nets.append(entry) }
            } else {
                guard v4 else { continue }
                var prefix = bits
                if style == "class" { prefix = InterfaceAddress.classfulPrefix(iface.address) ?? bits }
                let entry = "\(InterfaceAddress.masked(iface.address, prefix: prefix, ipv6: false))/\(prefix)"
                if !v4Nets.contains(entry) { v4Nets.append(entry) }
            }
        }
        return (v4Nets + v6Nets).joined(separator: " ")
    }
}

/// One configured interface address with its netmask, from getifaddrs(3).
struct InterfaceAddress {
    let address: [UInt8]
    let prefixLength: Int
    var isIPv6: Bool { address.count == 16 }
    var maximumPrefix: Int { address.count * 8 }

    static func all() -> [InterfaceAddress] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var result: [InterfaceAddress] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let addr = entry.pointee.ifa_addr, let mask = entry.pointee.ifa_netmask else { continue }
            guard let bytes = rawBytes(addr), let maskBytes = rawBytes(mask), bytes.count == maskBytes.count
            else { continue }
            let prefix = maskBytes.reduce(0) { $0 + $1.nonzeroBitCount }
            result.append(InterfaceAddress(address: bytes, prefixLength: prefix))
        }
        return result
    }

    private static func rawBytes(_ sa: UnsafeMutablePointer<sockaddr>) -> [UInt8]? {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                withUnsafeBytes(of: p.pointee.sin_addr) { Array($0) }
            }
        case AF_INET6:
            return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) }
            }
        default:
            return nil
        }
    }

    /// The address with the bits past `prefix` cleared, in inet_ntop(3) form.
    static func masked(_ address: [UInt8], prefix: Int, ipv6: Bool) -> String {
        var bytes = address
        for i in 0..<bytes.count {
            let keep = max(0, min(8, prefix - i * 8))
            bytes[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        var buffer = [CChar](repeating: 0, count: 64)
        let family = ipv6 ? AF_INET6 : AF_INET
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Old class A/B/C network size (mynetworks_style = class); nil for class D/E.
    static func classfulPrefix(_ address: [UInt8]) -> Int? {
        guard let first = address.first else { return nil }
        switch first {
        case 0..<128: return 8
        case 128..<192: return 16
        case 192..<224: return 24
        default: return nil
        }
    }
}
