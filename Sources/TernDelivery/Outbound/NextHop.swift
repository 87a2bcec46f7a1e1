import CResolv
import Glibc

/// Where the smtp transport sends mail: the relayhost, a transport_maps next hop, or the recipient's
/// domain. `[host]` and `[host]:port` suppress the MX lookup (postconf(5) relayhost).
public struct NextHop: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var lookUpMX: Bool
    /// An LMTP server's UNIX-domain socket (`unix:private/dovecot-lmtp`; relative to queue_directory).
    public var unixPath: String?

    public init(host: String, port: Int = 25, lookUpMX: Bool = true, unixPath: String? = nil) {
        self.host = host
        self.port = port
        self.lookUpMX = lookUpMX
        self.unixPath = unixPath
    }

    /// `example.com`, `example.com:587`, `[mail.example.com]`, `[192.0.2.1]:2525`, `[ipv6:2001:db8::1]:25`,
    /// and for LMTP `unix:/path` and `inet:host:port`.
    public init?(parsing text: String, defaultPort: Int = 25) {
        var rest = Substring(text).drop { $0 == " " || $0 == "\t" }
        if rest.hasPrefix("unix:") {
            let path = String(rest.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self.init(host: path, port: 0, lookUpMX: false, unixPath: path)
            return
        }
        if rest.hasPrefix("inet:") { rest = rest.dropFirst(5) }
        guard !rest.isEmpty else { return nil }
        var lookUpMX = true
        var host: String
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            if host.lowercased().hasPrefix("ipv6:") { host = String(host.dropFirst(5)) }
            lookUpMX = false
            rest = rest[rest.index(after: close)...]
        } else if let colon = rest.lastIndex(of: ":"), !rest[..<colon].contains(":") {
            host = String(rest[..<colon])
            rest = rest[colon...]
        } else {
            host = String(rest)
            rest = ""
        }
        var port = defaultPort
        if rest.first == ":" {
            guard let number = Int(rest.dropFirst()), (1...65535).contains(number) else { return nil }
            port = number
        } else if !rest.isEmpty {
            return nil
        }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port, lookUpMX: lookUpMX)
    }

    public var description: String {
        if let unixPath { return "unix:\(unixPath)" }
        return lookUpMX ? (port == 25 ? host : "\(host):\(port)") : "[\(host)]:\(port)"
    }
}

/// One address to try: the host's name (as logged, `name[address]:port`) and its address.
public struct MailServerAddress: Sendable, Hashable {
    public var name: String
    /// An IP address, or for a UNIX-domain socket its path.
    public var address: String
    public var port: Int
    public var isUnixSocket = false

    public init(name: String, address: String, port: Int, isUnixSocket: Bool = false) {
        self.name = name
        self.address = address
        self.port = port
        self.isUnixSocket = isUnixSocket
    }

    /// `mx.example.com[192.0.2.1]:25`, or `host[private/dovecot-lmtp]` for a socket.
    public var logName: String { isUnixSocket ? "\(name)[\(address)]" : "\(name)[\(address)]:\(port)" }
}

/// Why a destination has no address to connect to, with Postfix's wording.
public struct NextHopLookupError: Error, Sendable {
    /// A permanent failure (the domain does not exist) bounces; a temporary one defers.
    public var permanent: Bool
    public var text: String
}

/// Finds the servers for a next hop (smtp(8) with the system resolver): MX records, lowest preference first
/// and random among equal preferences, each host's A/AAAA addresses; without MX records the host's own
/// addresses; for `[host]` only the host's addresses.
public enum NextHopResolver {
    public static func addresses(for hop: NextHop, ipv6: Bool = true) throws(NextHopLookupError) -> [MailServerAddress] {
        if !hop.lookUpMX || isAddressLiteral(hop.host) {
            return try hostAddresses(hop.host, port: hop.port, ipv6: ipv6)
        }
        var records = [tern_mx_record](repeating: tern_mx_record(), count: 64)
        var count: Int32 = 0
        let status = records.withUnsafeMutableBufferPointer { tern_mx_query(hop.host, $0.baseAddress, 64, &count) }
        switch Int(status) {
        case Int(TERN_DNS_OK):
            let exchanges = records.prefix(Int(count)).map { record -> (Int, String) in
                var copy = record
                let name = withUnsafeBytes(of: &copy.host) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                return (Int(record.preference), name)
            }
            var result: [MailServerAddress] = []
            var lastError: NextHopLookupError?
            for host in ordered(exchanges) {
                do {
                    result += try hostAddresses(host, port: hop.port, ipv6: ipv6)
                } catch {
                    lastError = error
                }
            }
            if result.isEmpty, let lastError { throw lastError }
            return result
        case Int(TERN_DNS_NO_DATA):
            return try hostAddresses(hop.host, port: hop.port, ipv6: ipv6)
        case Int(TERN_DNS_NOT_FOUND):
            throw NextHopLookupError(
                permanent: true, text: "Host or domain name not found. Name service error for name=\(hop.host) type=MX: Host not found")
        default:
            throw NextHopLookupError(
                permanent: false,
                text: "Host or domain name not found. Name service error for name=\(hop.host) type=MX: Host not found, try again")
        }
    }

    /// Lowest preference first; hosts of equal preference in random order (RFC 5321 §5.1).
    static func ordered(_ exchanges: [(Int, String)]) -> [String] {
        Dictionary(grouping: exchanges, by: { $0.0 }).sorted { $0.key < $1.key }.flatMap { $0.value.shuffled().map(\.1) }
    }

    static func isAddressLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// getaddrinfo(3): /etc/hosts and DNS A/AAAA.
    static func hostAddresses(_ host: String, port: Int, ipv6: Bool) throws(NextHopLookupError) -> [MailServerAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = ipv6 ? AF_UNSPEC : AF_INET
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            let permanent = status == EAI_NONAME || status == -5  /* EAI_NODATA */
            throw NextHopLookupError(
                permanent: permanent,
                text: "Host or domain name not found. Name service error for name=\(host) type=A: Host not found"
                    + (permanent ? "" : ", try again"))
        }
        defer { freeaddrinfo(list) }
        var result: [MailServerAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0,
                NI_NUMERICHOST) == 0
            {
                let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let server = MailServerAddress(name: host, address: address, port: port)
                if !result.contains(server) { result.append(server) }
            }
            cursor = entry.pointee.ai_next
        }
        return result
    }
}
