import CCrypt
import Foundation

/// The system account of a user name through getpwnam_r(3).
struct SystemAccount: Sendable, Equatable {
    var name: String
    var password: String
    var uid: UInt32
    var gid: UInt32
    var home: String
    var shell: String

    enum LookupError: Error { case failed(Int32) }

    static func named(_ name: String) throws -> SystemAccount? {
        guard !name.isEmpty, !name.contains("/"), !name.contains("\0") else { return nil }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        if status != 0 && status != ENOENT && status != ESRCH { throw LookupError.failed(status) }
        guard result != nil else { return nil }
        return SystemAccount(
            name: String(cString: entry.pw_name), password: String(cString: entry.pw_passwd), uid: entry.pw_uid,
            gid: entry.pw_gid, home: String(cString: entry.pw_dir), shell: String(cString: entry.pw_shell))
    }
}

/// The `passwd` passdb (the crypt in /etc/passwd, rarely there today) and userdb (uid, gid, home).
public struct PasswdDB: PassDB, UserDB {
    public let driver = "passwd"

    public init() {}

    public func lookupCredentials(_ request: AuthRequest) async -> CredentialsLookup {
        do {
            guard let account = try SystemAccount.named(request.user) else { return .userUnknown }
            return .found(
                PassdbEntry(user: account.name, password: StoredPassword(account.password, defaultScheme: "CRYPT")))
        } catch {
            return .internalFailure("getpwnam_r() failed: \(error)")
        }
    }

    public func lookupUser(_ request: AuthRequest) async -> UserdbResult {
        do {
            guard let account = try SystemAccount.named(request.user) else { return .userUnknown }
            return .found(
                UserRecord(
                    user: account.name,
                    fields: [
                        AuthField("system_groups_user", account.name), AuthField("uid", String(account.uid)),
                        AuthField("gid", String(account.gid)), AuthField("home", account.home),
                    ]))
        } catch {
            return .internalFailure("getpwnam_r() failed: \(error)")
        }
    }
}

/// The `shadow` passdb: the crypt in /etc/shadow through getspnam_r(3) (needs root).
public struct ShadowDB: PassDB {
    public let driver = "shadow"

    public init() {}

    public func lookupCredentials(_ request: AuthRequest) async -> CredentialsLookup {
        let name = request.user
        guard !name.isEmpty, !name.contains("/"), !name.contains("\0") else { return .userUnknown }
        var hash = [CChar](repeating: 0, count: 1024)
        switch tern_getspnam(name, &hash, hash.count) {
        case 1:
            let text = String(decoding: hash.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .found(PassdbEntry(user: name, password: StoredPassword(text, defaultScheme: "CRYPT")))
        case 0:
            return .userUnknown
        default:
            return .internalFailure("getspnam_r() failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// The `static` passdb (`args = password=secret` or `nopassword`, plus extra fields) and userdb
/// (`args = uid=vmail gid=vmail home=/var/vmail/%d/%n [allow_all_users=yes]`), with %-variables expanded.
public struct StaticDB: PassDB, UserDB {
    public let driver = "static"
    public let fields: [AuthField]

    public init(args: String) {
        fields = args.split(separator: " ").map(AuthField.init(parsing:))
    }

    public func lookupCredentials(_ request: AuthRequest) async -> CredentialsLookup {
        let variables = request.variables()
        var password: StoredPassword?
        var extra: [AuthField] = []
        for field in fields {
            switch field.key {
            case "password": password = StoredPassword(variables.expand(field.value ?? ""), defaultScheme: "PLAIN")
            case "nopassword": extra.append(AuthField("nopassword"))
            default: extra.append(AuthField(field.key, field.value.map(variables.expand)))
            }
        }
        return .found(PassdbEntry(user: request.user, password: password, fields: extra))
    }

    public func lookupUser(_ request: AuthRequest) async -> UserdbResult {
        let variables = request.variables()
        let values = fields.filter { $0.key != "allow_all_users" }.map {
            AuthField($0.key, $0.value.map(variables.expand))
        }
        return .found(UserRecord(user: request.user, fields: values))
    }
}
