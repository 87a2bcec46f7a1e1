import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Who is connecting, as smtpd(8) names it in the log and the Received: line: the address, and the name
/// from a reverse lookup that a forward lookup confirms (otherwise `unknown`).
struct ClientIdentity: Sendable {
    let address: String
    let port: Int
    let name: String

    /// `localhost[127.0.0.1]`, the form of Postfix's log lines.
    var logName: String { "\(name)[\(address)]" }

    /// The identity from the recent-answers cache, if the address is in it.
    static func cached(_ remote: SocketAddress?) -> ClientIdentity? {
        guard let remote, let ip = remote.ipAddress else {
            return ClientIdentity(address: "unknown", port: 0, name: "unknown")
        }
        guard let name = nameCache.lookup(ip) else { return nil }
        return ClientIdentity(address: ip, port: remote.port ?? 0, name: name)
    }

    /// Looks the name up (blocking: DNS or /etc/hosts) and remembers it.
    static func lookUp(_ remote: SocketAddress?) -> ClientIdentity {
        if let known = cached(remote) { return known }
        guard let remote, let ip = remote.ipAddress else {
            return ClientIdentity(address: "unknown", port: 0, name: "unknown")
        }
        let name = confirmedName(remote: remote, ip: ip)
        nameCache.store(ip, name)
        return ClientIdentity(address: ip, port: remote.port ?? 0, name: name)
    }

    /// Recent answers, so that a client that connects again and again (a busy relay, a load test) costs one
    /// lookup a minute rather than one per connection.
    static let nameCache = ClientNameCache(capacity: 4096, lifetime: 60)

    /// Reverse lookup, then forward confirmation (getnameinfo / getaddrinfo use /etc/hosts and DNS).
    private static func confirmedName(remote: SocketAddress, ip: String) -> String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status: Int32 = remote.withSockAddr { pointer, length in
            getnameinfo(pointer, socklen_t(length), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
        }
        guard status == 0 else { return "unknown" }
        let name = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return "unknown" }
        defer { freeaddrinfo(result) }
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0,
                NI_NUMERICHOST) == 0
            {
                let candidate = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if candidate == ip { return name }
            }
            cursor = entry.pointee.ai_next
        }
        return "unknown"
    }
}

/// A small time-bounded map from client address to verified name.
final class ClientNameCache: Sendable {
    private let entries = Mutex<[String: (name: String, expires: ContinuousClock.Instant)]>([:])
    let capacity: Int
    let lifetime: Duration

    init(capacity: Int, lifetime: Int) {
        self.capacity = capacity
        self.lifetime = .seconds(lifetime)
    }

    func lookup(_ address: String) -> String? {
        entries.withLock { entries in
            guard let entry = entries[address], entry.expires > .now else { return nil }
            return entry.name
        }
    }

    func store(_ address: String, _ name: String) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[address] = (name, .now + lifetime)
        }
    }
}
