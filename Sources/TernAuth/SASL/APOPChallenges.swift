public import Foundation
import Synchronization

/// The APOP challenges an auth server accepts: `<pid.connection.time.random@host>` with its own pid (in hex,
/// as Dovecot writes it) and a time after it started and not older than `lifetime`. Dovecot checks pid
/// and start time; Tern also remembers the challenges of successful logins and refuses them again, which
/// stops the replay of an overheard APOP login (a failed try does not use the challenge up, as in Dovecot).
public final class APOPChallenges: Sendable {
    private let started: Int
    private let lifetime: Int
    private let used = Mutex<[String: Int]>([:])
    /// At most this many remembered challenges (a flood of forged ones is refused, not stored).
    static let capacity = 100_000

    public init(started: Int = Int(Date().timeIntervalSince1970), lifetime: Int = 600) {
        self.started = started
        self.lifetime = lifetime
    }

    /// The challenge a login sends in its greeting for auth server `serverPID` and connection `connectionID`.
    public static func make(serverPID: Int, connectionID: Int, hostname: String, now: Int) -> String {
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return "<\(String(serverPID, radix: 16)).\(String(connectionID, radix: 16)).\(String(now, radix: 16)).\(random)@\(hostname)>"
    }

    /// Whether `challenge` is this process's, fresh, and not used by a login yet.
    public func isValid(
        _ challenge: String, serverPID: Int = Int(getpid()), now: Int = Int(Date().timeIntervalSince1970)
    ) -> Bool {
        guard let time = Self.time(of: challenge, serverPID: serverPID), time >= started, time <= now + 60,
            now - time <= lifetime
        else { return false }
        return used.withLock { $0[challenge] == nil }
    }

    /// Records a successful login's challenge; false if another login used it already (a replay).
    public func use(_ challenge: String, now: Int = Int(Date().timeIntervalSince1970)) -> Bool {
        used.withLock { used in
            used = used.filter { now - $0.value <= lifetime }
            guard used[challenge] == nil, used.count < Self.capacity else { return false }
            used[challenge] = now
            return true
        }
    }

    /// The time in `<pid.connection.time.random@host>` when the pid is `serverPID`.
    private static func time(of challenge: String, serverPID: Int) -> Int? {
        guard challenge.hasPrefix("<"), challenge.hasSuffix(">"), challenge.utf8.count <= 512 else { return nil }
        let fields = challenge.dropFirst().split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, Int(fields[0], radix: 16) == serverPID, Int(fields[1], radix: 16) != nil else {
            return nil
        }
        return Int(fields[2], radix: 16)
    }
}
