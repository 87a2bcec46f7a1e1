import Glibc
import Synchronization
public import TernCore

/// A UNIX account as local(8) sees it: the passwd entry (getpwnam(3)) plus supplementary groups
/// (getgrouplist(3)), used for mailbox ownership and the rights of `|command` and `/file` deliveries.
public struct SystemUser: Sendable, Hashable {
    public let name: String
    public let uid: UInt32
    public let gid: UInt32
    public let home: String
    public let shell: String
    /// Supplementary group IDs, primary group included (as getgrouplist(3) reports them).
    public let groups: [UInt32]

    public init(name: String, uid: UInt32, gid: UInt32, home: String, shell: String, groups: [UInt32] = []) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell
        self.groups = groups.isEmpty ? [gid] : groups
    }
}

/// A passwd lookup failed for a reason other than "no such user" (NSS or LDAP trouble).
/// Postfix defers with `4.0.0 user lookup error` in that case.
public struct UserLookupError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let errno: Int32
    public init(key: String, errno: Int32) {
        self.key = key
        self.errno = errno
    }
    public var description: String { "error looking up passwd info for \(key): \(String(cString: strerror(errno)))" }
}

/// Where local delivery finds accounts. The default reads the system passwd database; tests and
/// embedded setups can supply their own.
public protocol SystemUserDirectory: Sendable {
    /// The account called `name` (already lower-cased by the caller, as Postfix does), nil when none.
    func user(named name: String) throws(UserLookupError) -> SystemUser?
    /// The account with `uid`, nil when none (alias database and :include: file owners).
    func user(uid: UInt32) throws(UserLookupError) -> SystemUser?
}

/// The system passwd database through the reentrant getpwnam_r(3) / getpwuid_r(3). Accounts found are
/// remembered for a few seconds (as Postfix's local(8) keeps its passwd cache): with NSS modules such as
/// systemd's, one lookup plus getgrouplist(3) costs dozens of system calls, and a busy mailbox is looked up
/// for every recipient check and every delivery. Unknown names are not remembered, so a new account gets
/// mail at once.
public struct SystemPasswd: SystemUserDirectory {
    public init() {}

    static let recent = RecentUsers(lifetime: .seconds(5))

    public func user(named name: String) throws(UserLookupError) -> SystemUser? {
        // Names with '@' or '/' never name accounts; skip NSS round trips (and odd NSS modules).
        guard !name.isEmpty, !name.contains("/"), !name.contains("@") else { return nil }
        if let known = Self.recent.user(named: name) { return known }
        let user = try Self.lookup(key: name) { pwd, buffer, size, result in
            getpwnam_r(name, pwd, buffer, size, result)
        }
        if let user { Self.recent.store(user, name: name) }
        return user
    }

    public func user(uid: UInt32) throws(UserLookupError) -> SystemUser? {
        if let known = Self.recent.user(uid: uid) { return known }
        let user = try Self.lookup(key: String(uid)) { pwd, buffer, size, result in
            getpwuid_r(uid_t(uid), pwd, buffer, size, result)
        }
        if let user { Self.recent.store(user, name: nil) }
        return user
    }

    /// Runs one *_r lookup, growing the buffer on ERANGE up to 1 MiB (getpwnam_r's documented protocol).
    private static func lookup(
        key: String,
        _ call: (
            UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int,
            UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>
        ) -> Int32
    ) throws(UserLookupError) -> SystemUser? {
        var size = 1024
        while size <= 1 << 20 {
            var pwd = passwd()
            var result: UnsafeMutablePointer<passwd>? = nil
            var buffer = [CChar](repeating: 0, count: size)
            let rc = buffer.withUnsafeMutableBufferPointer { call(&pwd, $0.baseAddress!, size, &result) }
            if rc == ERANGE {
                size *= 4
                continue
            }
            // ENOENT, ESRCH, EBADF and EPERM all mean "no such user" per getpwnam_r(3).
            if rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM {
                throw UserLookupError(key: key, errno: rc)
            }
            guard rc == 0, result != nil else { return nil }
            let name = String(cString: pwd.pw_name)
            return SystemUser(
                name: name, uid: pwd.pw_uid, gid: pwd.pw_gid,
                home: String(cString: pwd.pw_dir), shell: String(cString: pwd.pw_shell),
                groups: supplementaryGroups(name: name, gid: pwd.pw_gid))
        }
        throw UserLookupError(key: key, errno: ERANGE)
    }

    /// getgrouplist(3), retried with the size it asks for.
    static func supplementaryGroups(name: String, gid: gid_t) -> [UInt32] {
        var count: Int32 = 32
        for _ in 0..<4 {
            var groups = [gid_t](repeating: 0, count: Int(count))
            let n = getgrouplist(name, gid, &groups, &count)
            if n >= 0 { return Array(groups.prefix(Int(count))) }
            count = max(count, 64) * 2
        }
        return [gid]
    }
}

/// Accounts looked up in the last few seconds, by name and by uid.
final class RecentUsers: Sendable {
    private struct Entry {
        let user: SystemUser
        let expires: ContinuousClock.Instant
    }
    private let entries = Mutex<(byName: [String: Entry], byUID: [UInt32: Entry])>(([:], [:]))
    private let lifetime: Duration
    private static let capacity = 10_000

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    func user(named name: String) -> SystemUser? {
        entries.withLock { entries in
            guard let entry = entries.byName[name], entry.expires > .now else { return nil }
            return entry.user
        }
    }

    func user(uid: UInt32) -> SystemUser? {
        entries.withLock { entries in
            guard let entry = entries.byUID[uid], entry.expires > .now else { return nil }
            return entry.user
        }
    }

    func store(_ user: SystemUser, name: String?) {
        let entry = Entry(user: user, expires: .now + lifetime)
        entries.withLock { entries in
            if entries.byName.count >= Self.capacity || entries.byUID.count >= Self.capacity {
                entries = ([:], [:])
            }
            if let name { entries.byName[name] = entry }
            entries.byUID[user.uid] = entry
        }
    }
}

/// The `unix:passwd.byname` table of `local_recipient_maps = proxy:unix:passwd.byname $alias_maps`:
/// the key is a login name, the value the passwd line (postconf(5) local_recipient_maps).
public struct PasswdTable: LookupTable {
    public let spec = "unix:passwd.byname"
    let directory: any SystemUserDirectory

    public init(directory: any SystemUserDirectory = SystemPasswd()) {
        self.directory = directory
    }

    public func lookup(_ key: String) async throws -> String? {
        do {
            guard let user = try directory.user(named: key.lowercased()) else { return nil }
            return "\(user.name):*:\(user.uid):\(user.gid)::\(user.home):\(user.shell)"
        } catch {
            throw LookupError(spec: spec, reason: error.description)
        }
    }
}
