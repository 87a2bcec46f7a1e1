import Foundation
import NIOCore
import NIOPosix

/// Who is connecting, as smtpd(8) names it in the log and the Received: line: the address, and the name
/// from a reverse lookup that a forward lookup confirms (otherwise `unknown`).
struct ClientIdentity: Sendable {
    let address: String
    let port: Int
    let name: String

    /// `localhost[127.0.0.1]`, the form of Postfix's log lines.
    var logName: String { "\(name)[\(address)]" }

    static func resolve(_ remote: SocketAddress?) async -> ClientIdentity {
        guard let remote, let ip = remote.ipAddress else {
            return ClientIdentity(address: "unknown", port: 0, name: "unknown")
        }
        let port = remote.port ?? 0
        let name =
            (try? await NIOThreadPool.singleton.runIfActive { confirmedName(remote: remote, ip: ip) }) ?? "unknown"
        return ClientIdentity(address: ip, port: port, name: name)
    }

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
