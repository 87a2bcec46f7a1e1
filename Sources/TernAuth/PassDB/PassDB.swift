/// One authentication attempt as the passdb and userdb drivers see it.
public struct AuthRequest: Sendable, Equatable {
    /// The user name after auth_username_format (what the passdb looks up).
    public var user: String
    /// The name as the client sent it.
    public var originalUser: String
    public var service: String
    public var localIP: String?
    public var remoteIP: String?
    public var session: String?
    public var mechanism: String
    /// The auth client asked to skip the auth penalty (`no-penalty`).
    public var noPenalty = false

    public init(
        user: String, service: String, mechanism: String = "PLAIN", localIP: String? = nil, remoteIP: String? = nil,
        session: String? = nil
    ) {
        self.user = user
        self.originalUser = user
        self.service = service
        self.mechanism = mechanism
        self.localIP = localIP
        self.remoteIP = remoteIP
        self.session = session
    }

    public func variables(password: String? = nil, home: String? = nil) -> AuthVariables {
        AuthVariables(
            user: user, service: service, home: home, localIP: localIP, remoteIP: remoteIP, password: password,
            session: session)
    }

    /// The `driver(user,rip,<session>)` prefix of Dovecot's auth log lines (what fail2ban's filter reads).
    public func logPrefix(_ driver: String) -> String {
        var parts = [user.isEmpty ? "?" : user]
        if let remoteIP { parts.append(remoteIP) }
        if let session { parts.append("<\(session)>") }
        return "\(driver)(\(parts.joined(separator: ",")))"
    }
}

/// A passdb's answer.
public enum PassdbResult: Sendable, Equatable {
    /// Verified; `user` is the (possibly rewritten) user name, `fields` the passdb extra fields.
    case ok(user: String, fields: [AuthField])
    case userUnknown
    case passwordMismatch
    /// A mismatch the driver describes itself (PAM's `pam_authenticate() failed: ...`), logged as given.
    case rejected(String)
    /// The stored password's scheme cannot answer this mechanism (CRAM-MD5 against a crypt hash).
    case schemeNotAvailable(String)
    case internalFailure(String)
}

/// A `key=value` (or bare `key`) extra field of a passdb or userdb reply.
public struct AuthField: Sendable, Equatable {
    public var key: String
    public var value: String?

    public init(_ key: String, _ value: String? = nil) {
        self.key = key
        self.value = value
    }

    /// Parses `key=value` or `key`.
    public init(parsing text: Substring) {
        if let equals = text.firstIndex(of: "=") {
            self.init(String(text[..<equals]), String(text[text.index(after: equals)...]))
        } else {
            self.init(String(text))
        }
    }

    public var text: String { value.map { "\(key)=\($0)" } ?? key }
}

/// What a passdb knows about a user: the stored password (nil for passdbs without one, e.g.
/// `static nopassword`) and the extra fields.
public struct PassdbEntry: Sendable, Equatable {
    public var user: String
    public var password: StoredPassword?
    public var fields: [AuthField]

    public init(user: String, password: StoredPassword?, fields: [AuthField] = []) {
        self.user = user
        self.password = password
        self.fields = fields
    }

    /// The passdb fields (userdb_* fields belong to the userdb reply).
    var passdbFields: [AuthField] { fields.filter { !$0.key.hasPrefix("userdb_") } }
    var nopassword: Bool { fields.contains { $0.key == "nopassword" } }
}

/// A passdb credentials lookup or a userdb lookup: the record, no such user, or a failure to log.
public enum AuthLookup<Record: Sendable & Equatable>: Sendable, Equatable {
    case found(Record)
    case userUnknown
    case internalFailure(String)
}

public typealias CredentialsLookup = AuthLookup<PassdbEntry>
public typealias UserdbResult = AuthLookup<UserRecord>

/// A passdb driver (https://doc.dovecot.org/2.3/configuration_manual/authentication/password_databases_passdb/).
public protocol PassDB: Sendable {
    /// The driver name of log lines (`passwd-file`, `shadow`, `pam`).
    var driver: String { get }
    /// Looks up the stored credentials; drivers that cannot (pam) return `.internalFailure`.
    func lookupCredentials(_ request: AuthRequest) async -> CredentialsLookup
    /// Verifies a plaintext password; the default looks the credentials up and checks the scheme.
    func verifyPlain(_ request: AuthRequest, password: [UInt8]) async -> PassdbResult
}

extension PassDB {
    public func verifyPlain(_ request: AuthRequest, password: [UInt8]) async -> PassdbResult {
        switch await lookupCredentials(request) {
        case .userUnknown: return .userUnknown
        case .internalFailure(let reason): return .internalFailure(reason)
        case .found(let entry):
            if entry.nopassword { return .ok(user: entry.user, fields: entry.passdbFields) }
            guard let stored = entry.password else { return .passwordMismatch }
            guard stored.scheme != nil else { return .internalFailure("Unknown scheme \(stored.schemeName)") }
            return stored.verify(password, user: entry.user)
                ? .ok(user: entry.user, fields: entry.passdbFields) : .passwordMismatch
        }
    }
}

/// A user's userdb record: uid, gid, home and the other fields (mail=, quota_rule=, ...).
public struct UserRecord: Sendable, Equatable {
    public var user: String
    public var fields: [AuthField]

    public init(user: String, fields: [AuthField]) {
        self.user = user
        self.fields = fields
    }

    public subscript(key: String) -> String? { fields.last { $0.key == key }?.value }
    public var uid: String? { self["uid"] }
    public var gid: String? { self["gid"] }
    public var home: String? { self["home"] }
}

/// A userdb driver (https://doc.dovecot.org/2.3/configuration_manual/authentication/user_databases_userdb/).
public protocol UserDB: Sendable {
    var driver: String { get }
    func lookupUser(_ request: AuthRequest) async -> UserdbResult
}
