import Foundation
import Glibc
public import TernAuth
import TernConfig
public import TernMailbox

/// The user a doveadm mail command works for: the userdb fields, the mail store they lead to and the ids
/// to run as. Dovecot's doveadm asks the auth service over auth-userdb; Tern runs the configured userdbs
/// in the doveadm process, so no daemon needs to be running.
public struct DoveadmUser: Sendable {
    public enum LookupError: Error, Sendable, CustomStringConvertible {
        case unknownUser(String)
        case failed(user: String, message: String)

        public var description: String {
            switch self {
            case .unknownUser: "User doesn't exist"
            case .failed(_, let message): message
            }
        }
    }

    public let name: String
    public let record: UserRecord
    public let store: MailStoreSettings

    /// Looks `name` up in the userdbs (auth_username_format applied) and works out its mail store.
    public static func lookup(_ name: String, settings: AccessSettings, auth: AuthService) async throws(LookupError)
        -> DoveadmUser
    {
        let user = auth.formatUser(name)
        switch await auth.lookupUser(AuthRequest(user: user, service: "doveadm")) {
        case .userUnknown: throw .unknownUser(user)
        case .internalFailure(let message): throw .failed(user: user, message: message)
        case .found(let record):
            do {
                let store = try settings.mailStore(user: user, home: record.home ?? "", mailLocation: record["mail"])
                return DoveadmUser(name: user, record: record, store: store)
            } catch {
                throw .failed(user: user, message: error.description)
            }
        }
    }

    /// The fields `doveadm user` prints: the userdb's, then `mail` from mail_location when the userdb set none.
    public static func displayFields(_ record: UserRecord, settings: AccessSettings) -> [AuthField] {
        var fields = record.fields
        let location = settings.global.mailLocation
        if record["mail"] == nil && !location.isEmpty { fields.append(AuthField("mail", location)) }
        return fields
    }

    /// Runs `body` with the effective uid, gid and groups of the user, as Dovecot's doveadm does before it
    /// touches mail (a temporary drop: root is taken back afterwards, so `-A` can go on to the next user).
    /// Without root `body` runs as it is. Users below first_valid_uid are refused.
    public func withUserIdentity<T>(settings: AccessSettings, _ body: () -> T) throws(LookupError) -> T {
        guard geteuid() == 0 else { return body() }
        let (uid, gid) = try ids(settings: settings)
        let groups = MailSessionLauncher.groups(record["system_groups_user"] ?? name, gid)
        let savedGroups = Self.currentGroups()
        guard setgroups(groups.count, groups) == 0, setegid(gid) == 0, seteuid(uid) == 0 else {
            let reason = String(cString: strerror(errno))
            Self.regainRoot(savedGroups)
            throw .failed(user: name, message: "seteuid(\(uid)) failed: \(reason)")
        }
        defer { Self.regainRoot(savedGroups) }
        return body()
    }

    private func ids(settings: AccessSettings) throws(LookupError) -> (uid_t, gid_t) {
        let uid = record.uid.flatMap { MailSessionLauncher.resolveUID($0) }
        let gid = record.gid.flatMap { MailSessionLauncher.resolveGID($0) } ?? uid.flatMap {
            MailSessionLauncher.primaryGroup($0)
        }
        guard let uid, let gid else {
            throw .failed(user: name, message: "Mail access for users without uid/gid not permitted")
        }
        let last = settings.global.lastValidUID
        guard uid >= settings.global.firstValidUID, last == 0 || uid <= last else {
            throw .failed(
                user: name,
                message:
                    "Mail access for users with UID \(uid) not permitted (see first_valid_uid in config file, uid from userdb lookup).")
        }
        return (uid, gid)
    }

    private static func currentGroups() -> [gid_t] {
        var list = [gid_t](repeating: 0, count: Int(getgroups(0, nil)))
        let count = getgroups(Int32(list.count), &list)
        return Array(list.prefix(max(0, Int(count))))
    }

    private static func regainRoot(_ groups: [gid_t]) {
        _ = seteuid(0)
        _ = setegid(0)
        _ = setgroups(groups.count, groups)
    }

    /// The names in the passwd-file userdbs, for `-A` and `doveadm user 'pattern*'` (other drivers cannot
    /// be listed by Tern).
    public static func allUsers(settings: AccessSettings) -> [String] {
        var names: [String] = []
        for userdb in settings.global.userdbs where userdb.driver == "passwd-file" {
            guard let path = userdb.args.split(separator: " ").last.map(String.init), !path.contains("%"),
                let text = try? String(contentsOfFile: path, encoding: .utf8)
            else { continue }
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                if let user = line.split(separator: ":", omittingEmptySubsequences: false).first, !user.isEmpty {
                    names.append(String(user))
                }
            }
        }
        return names
    }
}
