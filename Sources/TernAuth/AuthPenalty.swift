import Foundation
import Synchronization

/// Dovecot's auth penalty (src/auth/auth-penalty.c with anvil's penalty.c): each failed authentication from
/// an address raises its penalty, and the next authentication from there waits 2, 4, 8, then 15 seconds
/// before it is checked. The same wrong user and password again does not raise it (a misconfigured client,
/// not a guesser); a success resets it; it decays with time and is forgotten 29 seconds after the last
/// failure. IPv6 addresses count per /48.
public final class AuthPenalty: Sendable {
    static let initialSeconds = 2
    static let maximumSeconds = 15
    static let maximumPenalty = 4
    /// AUTH_PENALTY_TIMEOUT: after this long without an update anvil drops the address.
    static let expireSeconds = initialSeconds + 4 + 8 + maximumSeconds
    /// anvil keeps this many user+password checksums per address.
    static let checksumsKept = 10
    /// Past this many addresses, expired ones are dropped on the next update (bounds the table).
    static let sweepThreshold = 1024

    private struct Record {
        var penalty: Int
        var lastPenalty: Int
        var lastUpdate: Int
        var checksums: [UInt32]
    }

    private let records = Mutex<[String: Record]>([:])
    private let now: @Sendable () -> Int

    /// `now`: seconds since the epoch (tests pass their own clock).
    public init(now: (@Sendable () -> Int)? = nil) {
        self.now = now ?? { Int(Date().timeIntervalSince1970) }
    }

    /// auth_penalty_to_secs: how long an authentication with this penalty waits.
    public static func seconds(for penalty: Int) -> Int {
        var seconds = initialSeconds
        for _ in 0..<penalty where seconds < maximumSeconds { seconds *= 2 }
        return min(seconds, maximumSeconds)
    }

    /// The address a penalty is kept for (IPv6 masked to /48); nil when there is none.
    public static func ident(_ remoteIP: String?) -> String? {
        guard let remoteIP, !remoteIP.isEmpty else { return nil }
        var v6 = in6_addr()
        guard remoteIP.contains(":"), inet_pton(AF_INET6, remoteIP, &v6) == 1 else { return remoteIP }
        withUnsafeMutableBytes(of: &v6) { bytes in
            for index in 6..<16 { bytes[index] = 0 }
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &text, socklen_t(text.count)) != nil else { return remoteIP }
        return String(cString: text)
    }

    /// The penalty now (anvil's PENALTY-GET and the decay the auth process applies to it): one step less for
    /// each stretch of quiet the higher steps would have waited.
    public func lookup(_ ident: String) -> Int {
        let time = now()
        guard let record = records.withLock({ $0[ident] }) else { return 0 }
        guard time - record.lastUpdate < Self.expireSeconds else { return 0 }
        var penalty = record.penalty
        let last = min(record.lastPenalty, time)
        var drop = Self.maximumPenalty
        while penalty > 0 {
            if time - last < Self.seconds(for: drop) { break }
            drop -= 1
            penalty -= 1
        }
        return penalty
    }

    /// anvil's PENALTY-INC: `value` 0 resets; otherwise a new checksum (of user and password; 0 for none)
    /// sets the penalty to `value`, a known one to `value - 1`.
    public func update(_ ident: String, checksum: UInt32, value: Int) {
        let time = now()
        let value = min(value, Self.maximumPenalty)
        records.withLock { records in
            if records.count >= Self.sweepThreshold {
                records = records.filter { time - $0.value.lastUpdate < Self.expireSeconds }
            }
            var record = records[ident].flatMap { time - $0.lastUpdate < Self.expireSeconds ? $0 : nil }
                ?? Record(penalty: 0, lastPenalty: 0, lastUpdate: time, checksums: [])
            if checksum == 0 {
                record.penalty = value
                record.lastPenalty = time
            } else if let known = record.checksums.firstIndex(of: checksum) {
                record.checksums.remove(at: known)
                record.checksums.insert(checksum, at: 0)
                record.penalty = max(value - 1, 0)
            } else {
                record.checksums.insert(checksum, at: 0)
                if record.checksums.count > Self.checksumsKept { record.checksums.removeLast() }
                record.penalty = value
                record.lastPenalty = time
            }
            record.lastUpdate = time
            records[ident] = record
        }
    }

    /// A checksum of the credentials a failure used, as Dovecot keeps one (never 0, which means none). It
    /// only has to be stable within this process.
    static func checksum(user: String, password: [UInt8]) -> UInt32 {
        var hasher = Hasher()
        hasher.combine(password)
        hasher.combine(user)
        let value = UInt32(truncatingIfNeeded: hasher.finalize())
        return value == 0 ? 1 : value
    }
}
