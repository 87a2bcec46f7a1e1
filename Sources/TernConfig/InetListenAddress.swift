import Glibc

/// Where an `inet` master.cf service listens (master(5) "service name"): `[host:]port`, where port is
/// a number or a services(5) name and host a name, an IPv4 address or a bracketed IPv6 address.
/// Without a host the service listens on every `inet_interfaces` address.
public struct InetListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// nil means the wildcard address (inet_interfaces = all).
    public let host: String?
    public let port: Int

    public init(host: String?, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        guard let host else { return "*:\(port)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Ports for the names master.cf commonly uses, when services(5) does not know them.
    static let wellKnownPorts: [String: Int] = ["smtp": 25, "submission": 587, "submissions": 465, "smtps": 465]

    /// Resolves a port name or number; nil when neither services(5) nor the fallback table knows it.
    public static func port(_ text: String) -> Int? {
        if let n = Int(text) { return (1...65535).contains(n) ? n : nil }
        if let entry = getservbyname(text, "tcp") {
            return Int(UInt16(bigEndian: UInt16(truncatingIfNeeded: entry.pointee.s_port)))
        }
        return wellKnownPorts[text]
    }

    /// Splits a service name into host (nil when absent) and port text.
    public static func split(_ service: String) -> (host: String?, port: String) {
        if service.hasPrefix("["), let close = service.firstIndex(of: "]") {
            let host = String(service[service.index(after: service.startIndex)..<close])
            let rest = service[service.index(after: close)...]
            return (host, rest.hasPrefix(":") ? String(rest.dropFirst()) : String(rest))
        }
        if let colon = service.lastIndex(of: ":") {
            let host = String(service[..<colon])
            return (host.isEmpty || host == "*" ? nil : host, String(service[service.index(after: colon)...]))
        }
        return (nil, service)
    }

    /// The addresses an inet service listens on. `interfaces` is the expanded inet_interfaces list;
    /// `all` (or an empty list) means the wildcard, `loopback-only` means 127.0.0.1 and ::1
    /// (subject to `protocols`, the inet_protocols list).
    public static func addresses(service: String, interfaces: [String], protocols: [String] = ["all"])
        -> [InetListenAddress]?
    {
        let (host, portText) = split(service)
        guard let port = port(portText) else { return nil }
        if let host { return [InetListenAddress(host: host, port: port)] }
        let lowered = interfaces.map { $0.lowercased() }
        if lowered.isEmpty || lowered.contains("all") { return [InetListenAddress(host: nil, port: port)] }
        let all = protocols.isEmpty || protocols.contains("all")
        var result: [InetListenAddress] = []
        for interface in interfaces {
            if interface.lowercased() == "loopback-only" {
                if all || protocols.contains("ipv4") { result.append(InetListenAddress(host: "127.0.0.1", port: port)) }
                if all || protocols.contains("ipv6") { result.append(InetListenAddress(host: "::1", port: port)) }
            } else {
                var name = interface
                if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
                result.append(InetListenAddress(host: name, port: port))
            }
        }
        return result
    }
}
