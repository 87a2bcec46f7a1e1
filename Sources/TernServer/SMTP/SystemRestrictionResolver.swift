import CResolv
import Foundation
import NIOPosix
import Synchronization
import TernPolicy

/// The DNS lookups of smtpd's restrictions through the system resolver (libresolv via CResolv, getaddrinfo),
/// run on the blocking pool. DNS list answers are cached for a minute, as smtpd caches them per process.
struct SystemRestrictionResolver: RestrictionResolver {
    static let shared = SystemRestrictionResolver()

    private static let listCache = Mutex<[String: (answer: DNSListAnswer, expires: ContinuousClock.Instant)]>([:])
    /// Bounded: a flood of distinct clients cannot grow it without limit.
    private static let listCacheLimit = 4096

    func mailHost(_ domain: String) async -> DNSLookupStatus {
        await Self.blocking {
            switch Self.mx(domain) {
            case .found: return .found
            case .tryAgain: return .tryAgain
            case .notFound: return Self.addresses(domain)
            }
        }
    }

    func host(_ name: String) async -> DNSLookupStatus {
        await Self.blocking {
            let byAddress = Self.addresses(name)
            return byAddress == .notFound ? Self.mx(name) : byAddress
        }
    }

    func list(_ query: String) async -> DNSListAnswer {
        let now = ContinuousClock.now
        if let cached = Self.listCache.withLock({ $0[query] }), cached.expires > now { return cached.answer }
        let answer: DNSListAnswer = await Self.blocking {
            var records = [UInt32](repeating: 0, count: 32)
            var count: Int32 = 0
            let status = tern_a_query(query, &records, Int32(records.count), &count)
            switch Int(status) {
            case Int(TERN_DNS_OK):
                let addresses = records.prefix(Int(count)).map { value in
                    [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
                }
                var text = [CChar](repeating: 0, count: 501)
                let txt = tern_txt_query(query, &text, Int32(text.count))
                let reason = txt == Int32(TERN_DNS_OK) ? String(cString: text) : nil
                return .listed(addresses: addresses, text: reason)
            case Int(TERN_DNS_NOT_FOUND), Int(TERN_DNS_NO_DATA):
                return .notListed
            default:
                return .tryAgain("Host or domain name not found. Name service error for name=\(query) type=A: Host not found, try again")
            }
        }
        Self.listCache.withLock { cache in
            if cache.count >= Self.listCacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[query] = (answer, now + .seconds(60))
        }
        return answer
    }

    private static func mx(_ name: String) -> DNSLookupStatus {
        var records = [tern_mx_record](repeating: tern_mx_record(), count: 4)
        var count: Int32 = 0
        switch Int(tern_mx_query(name, &records, Int32(records.count), &count)) {
        case Int(TERN_DNS_OK): return .found
        case Int(TERN_DNS_TRY_AGAIN): return .tryAgain
        default: return .notFound
        }
    }

    private static func addresses(_ name: String) -> DNSLookupStatus {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &result)
        if let result { freeaddrinfo(result) }
        switch status {
        case 0: return .found
        case EAI_AGAIN: return .tryAgain
        default: return .notFound
        }
    }

    private static func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            BlockingIO.pool.submit { _ in continuation.resume(returning: work()) }
        }
    }
}
