import Glibc

/// A listening TCP socket bound by the root master before it hands the port to the unprivileged daemon
/// (so ports below 1024 work while no network-facing code runs as root).
enum ListenSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The address to bind for "all interfaces": `::` (dual-stack, IPv4 too) when inet_protocols allows
    /// IPv6 and the machine has it, else `0.0.0.0`.
    static func wildcard(protocols: [String]) -> String {
        let wantsIPv6 = protocols.isEmpty || protocols.contains("all") || protocols.contains("ipv6")
        guard wantsIPv6 else { return "0.0.0.0" }
        let probe = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard probe >= 0 else { return "0.0.0.0" }
        close(probe)
        return "::"
    }

    /// Binds `host:port` (a numeric address; nil = all addresses) and returns the descriptor.
    static func bind(host: String?, port: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host ?? "0.0.0.0", String(port), &hints, &result)
        guard status == 0, let info = result else {
            throw Failure(description: "\(host ?? "*"):\(port): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if info.pointee.ai_family == AF_INET6 && host == "::" {
            var zero: Int32 = 0  // dual-stack: `::` also accepts IPv4 clients
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        guard Glibc.bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "bind \(host ?? "*") port \(port): \(reason)")
        }
        guard listen(fd, 256) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "listen \(host ?? "*") port \(port): \(reason)")
        }
        return fd
    }
}
