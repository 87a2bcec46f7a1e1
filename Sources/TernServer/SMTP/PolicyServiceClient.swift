import Foundation
import Glibc
import NIOPosix
import Synchronization
import TernPolicy

/// check_policy_service's client (Postfix SMTPD_POLICY_README): one request per check over `inet:host:port`
/// or `unix:path`, connections kept for reuse (smtpd_policy_service_max_idle, _max_ttl, _request_limit),
/// every read and write bounded by smtpd_policy_service_timeout, smtpd_policy_service_try_limit attempts
/// smtpd_policy_service_retry_delay apart. The socket work runs on the blocking pool.
struct PolicyServiceClient: PolicyService {
    struct Settings: Sendable {
        var timeout = 100
        var maxIdle = 300
        var maxTTL = 1000
        var requestLimit = 0
        var tryLimit = 2
        var retryDelay = 1
        /// Where relative `unix:` names (`private/policy`) live.
        var queueDirectory = "/var/spool/postfix"
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A reply larger than this is not a policy reply.
    static let replyLimit = 64 * 1024

    let settings: Settings

    func query(endpoint: String, attributes: [(String, String)]) async throws -> String {
        let request = Array(PolicyRequest.encode(attributes).utf8)
        let settings = self.settings
        return try await withCheckedThrowingContinuation { continuation in
            BlockingIO.pool.submit { _ in
                continuation.resume(with: Result { try Self.exchange(endpoint, request, settings) })
            }
        }
    }

    private static func exchange(_ endpoint: String, _ request: [UInt8], _ settings: Settings) throws -> String {
        var lastError = Failure(description: "no attempt made")
        var attempt = 0
        var staleRetries = 0
        while attempt < max(1, settings.tryLimit) {
            if attempt > 0 && settings.retryDelay > 0 { sleep(UInt32(settings.retryDelay)) }
            attempt += 1
            let connection: PolicyConnection
            do {
                connection = try PolicyConnectionPool.shared.take(endpoint, settings)
            } catch let error as Failure {
                lastError = error
                continue
            }
            let reused = connection.requests > 0
            do {
                let action = try connection.exchange(request)
                PolicyConnectionPool.shared.give(back: connection, endpoint, settings)
                return action
            } catch let error as Failure {
                connection.close()
                lastError = error
                // A kept connection the server has since closed: try a fresh one at once (a few times).
                if reused && staleRetries < 8 {
                    staleRetries += 1
                    attempt -= 1
                }
            }
        }
        throw lastError
    }
}

/// One open connection to a policy server.
final class PolicyConnection: Sendable {
    let fd: Int32
    let opened: ContinuousClock.Instant
    private let usage = Mutex<(requests: Int, idleSince: ContinuousClock.Instant)>((0, .now))

    init(fd: Int32) {
        self.fd = fd
        opened = .now
    }

    var requests: Int { usage.withLock { $0.requests } }
    var idleSince: ContinuousClock.Instant { usage.withLock { $0.idleSince } }

    func close() { _ = Glibc.close(fd) }

    /// Writes the request, reads up to the empty line, returns the action.
    func exchange(_ request: [UInt8]) throws -> String {
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw PolicyServiceClient.Failure(description: String(cString: strerror(errno))) }
            sent += n
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !(reply.count >= 2 && reply.suffix(2) == [10, 10]) && !(reply == [10]) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw PolicyServiceClient.Failure(description: "lost connection") }
            if n < 0 {
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : String(cString: strerror(errno))
                throw PolicyServiceClient.Failure(description: reason)
            }
            reply += buffer[..<n]
            if reply.count > PolicyServiceClient.replyLimit {
                throw PolicyServiceClient.Failure(description: "reply too long")
            }
        }
        usage.withLock { $0 = ($0.requests + 1, .now) }
        let lines = String(decoding: reply, as: UTF8.self).split(separator: "\n").map(String.init)
        guard let action = PolicyRequest.action(fromReply: lines) else {
            throw PolicyServiceClient.Failure(description: "malformed reply: no action attribute")
        }
        return action
    }
}

/// Idle connections per endpoint, shared by all sessions (smtpd keeps one per server and process).
final class PolicyConnectionPool: Sendable {
    static let shared = PolicyConnectionPool()

    private let idle = Mutex<[String: [PolicyConnection]]>([:])

    func take(_ endpoint: String, _ settings: PolicyServiceClient.Settings) throws -> PolicyConnection {
        let now = ContinuousClock.now
        let reusable: PolicyConnection? = idle.withLock { idle in
            while let connection = idle[endpoint]?.popLast() {
                if now - connection.idleSince < .seconds(settings.maxIdle)
                    && now - connection.opened < .seconds(settings.maxTTL)
                {
                    return connection
                }
                connection.close()
            }
            return nil
        }
        if let reusable { return reusable }
        return PolicyConnection(fd: try Self.connect(endpoint, settings))
    }

    func give(back connection: PolicyConnection, _ endpoint: String, _ settings: PolicyServiceClient.Settings) {
        if settings.requestLimit > 0 && connection.requests >= settings.requestLimit {
            connection.close()
            return
        }
        let extra: PolicyConnection? = idle.withLock { idle in
            var list = idle[endpoint] ?? []
            list.append(connection)
            // A few idle connections per server are enough; the rest are closed.
            let surplus = list.count > 8 ? list.removeFirst() : nil
            idle[endpoint] = list
            return surplus
        }
        extra?.close()
    }

    private static func connect(_ endpoint: String, _ settings: PolicyServiceClient.Settings) throws -> Int32 {
        let failure = { (what: String) in PolicyServiceClient.Failure(description: what) }
        guard let colon = endpoint.firstIndex(of: ":") else { throw failure("bad endpoint \(endpoint)") }
        let type = endpoint[..<colon].lowercased()
        let rest = String(endpoint[endpoint.index(after: colon)...])
        var timeout = timeval(tv_sec: settings.timeout, tv_usec: 0)
        func configure(_ fd: Int32) {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        if type == "unix" {
            let path = rest.hasPrefix("/") ? rest : "\(settings.queueDirectory)/\(rest)"
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw failure("path too long: \(path)") }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw failure(String(cString: strerror(errno))) }
            configure(fd)
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard status == 0 else {
                let reason = String(cString: strerror(errno))
                _ = Glibc.close(fd)
                throw failure(reason)
            }
            return fd
        }
        guard type == "inet", let portColon = rest.lastIndex(of: ":") else {
            throw failure("unsupported policy service endpoint: \(endpoint)")
        }
        var host = String(rest[..<portColon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = String(rest[rest.index(after: portColon)...])
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, port, &hints, &result)
        guard status == 0, let first = result else { throw failure(String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(result) }
        var reason = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            cursor = entry.pointee.ai_next
            let fd = socket(entry.pointee.ai_family, entry.pointee.ai_socktype, entry.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            configure(fd)
            if Glibc.connect(fd, entry.pointee.ai_addr, entry.pointee.ai_addrlen) == 0 { return fd }
            reason = String(cString: strerror(errno))
            _ = Glibc.close(fd)
        }
        throw failure(reason)
    }
}
