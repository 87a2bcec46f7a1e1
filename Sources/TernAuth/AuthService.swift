import Crypto
import Foundation

/// The auth settings of dovecot.conf that the auth service uses (plain values: the dovecot.conf parser
/// fills them in).
public struct AuthSettings: Sendable {
    /// auth_mechanisms (default `plain`).
    public var mechanisms: [SASLMechanism] = [.plain]
    /// auth_failure_delay (default 2 secs).
    public var failureDelay: Duration = .seconds(2)
    /// auth_verbose: log unknown users, password mismatches and invalid input.
    public var verbose = false
    /// auth_username_format (default `%Lu`).
    public var usernameFormat = "%Lu"
    /// The host name in CRAM-MD5 challenges (hostname setting, else the system's).
    public var hostname = ProcessInfo.processInfo.hostName

    public init() {}
}

/// A line for the auth log (`auth: Info: passwd-file(alice,1.2.3.4): Password mismatch`); the daemon adds
/// the `auth: ` prefix and the level word as its log writer formats them.
public struct AuthLogLine: Sendable, Equatable {
    public enum Level: Sendable { case info, error }
    public var level: Level
    public var message: String

    public init(level: Level, message: String) {
        self.level = level
        self.message = message
    }
}

/// How an authentication ended.
public enum AuthOutcome: Sendable, Equatable {
    case success(user: String, fields: [AuthField])
    /// `code` is the protocol's fail code (`temp_fail`); `delay` is false for internal failures, which
    /// Dovecot answers at once.
    case failure(user: String?, code: String?, delay: Bool)
}

/// The auth service: passdbs and userdbs in configuration order, settings, and the log. Mechanisms
/// (SASLServerExchange) produce credentials; this checks them.
public struct AuthService: Sendable {
    public let settings: AuthSettings
    public let passdbs: [any PassDB]
    public let userdbs: [any UserDB]
    private let log: @Sendable (AuthLogLine) -> Void
    /// The APOP challenges this process has accepted (each is good for one login).
    let apopChallenges = APOPChallenges()
    /// Failed authentications per client address.
    public let penalty: AuthPenalty

    /// Fields the passdb uses itself and does not pass on in the OK reply.
    static let internalFields: Set<String> = ["nopassword", "nodelay", "allow_nets", "password", "user"]

    public init(
        settings: AuthSettings, passdbs: [any PassDB], userdbs: [any UserDB] = [],
        log: @escaping @Sendable (AuthLogLine) -> Void = { _ in }, penalty: AuthPenalty = AuthPenalty()
    ) {
        self.penalty = penalty
        self.settings = settings
        self.passdbs = passdbs
        self.userdbs = userdbs
        self.log = log
    }

    /// Logs a line; info lines only with auth_verbose, as Dovecot.
    public func record(_ line: AuthLogLine) {
        if line.level == .error || settings.verbose { log(line) }
    }

    func info(_ message: String) {
        record(AuthLogLine(level: .info, message: message))
    }

    func error(_ message: String) {
        log(AuthLogLine(level: .error, message: message))
    }

    /// The user name passdbs see: auth_username_format applied to what the client sent.
    public func formatUser(_ name: String) -> String {
        AuthVariables(user: name).expand(settings.usernameFormat)
    }

    /// Checks the credentials a mechanism produced. `request.user` is replaced by the mechanism's user name.
    public func verify(_ step: SASLStep, request template: AuthRequest) async -> AuthOutcome {
        var request = template
        switch step {
        case .verifyPassword(let user, let password, let authzid):
            request.originalUser = user
            request.user = formatUser(user)
            if authzid != nil {
                info(
                    "\(request.logPrefix(request.mechanism.lowercased())): login user: "
                        + "Master user login attempted without master passdbs")
                return .failure(user: request.user, code: nil, delay: true)
            }
            return await verifyPlain(request, password: password)
        case .verifyCRAMMD5(let user, let challenge, let digest):
            request.originalUser = user
            request.user = formatUser(user)
            return await verifyCRAMMD5(request, challenge: challenge, digest: digest)
        case .verifyAPOP(let user, let challenge, let digest):
            request.originalUser = user
            request.user = formatUser(user)
            return await verifyAPOP(request, challenge: challenge, digest: digest)
        case .challenge, .failed:
            return .failure(user: nil, code: nil, delay: true)
        }
    }

    /// `verify` with Dovecot's auth penalty: the check waits `AuthPenalty.seconds(for:)` when the client's
    /// address has failed before; a delayed failure raises the penalty, a success after a penalty resets it.
    /// `sleep` waits (tests pass their own).
    public func verifyWithPenalty(
        _ step: SASLStep, request: AuthRequest,
        sleep: @Sendable (Int) async -> Void = { try? await Task.sleep(for: .seconds($0)) }
    ) async -> AuthOutcome {
        guard !request.noPenalty, let ident = AuthPenalty.ident(request.remoteIP) else {
            return await verify(step, request: request)
        }
        let current = penalty.lookup(ident)
        if current > 0 { await sleep(AuthPenalty.seconds(for: current)) }
        let outcome = await verify(step, request: request)
        switch outcome {
        case .success where current > 0:
            penalty.update(ident, checksum: 0, value: 0)
        case .failure(_, _, delay: true):
            var checksum: UInt32 = 0
            if case .verifyPassword(let user, let password, _) = step {
                checksum = AuthPenalty.checksum(user: user, password: password)
            }
            penalty.update(ident, checksum: checksum, value: current + 1)
        default:
            break
        }
        return outcome
    }

    private func verifyPlain(_ request: AuthRequest, password: [UInt8]) async -> AuthOutcome {
        var outcome = AuthOutcome.failure(user: request.user, code: nil, delay: true)
        for passdb in passdbs {
            let prefix = request.logPrefix(passdb.driver)
            switch await passdb.verifyPlain(request, password: password) {
            case .ok(let user, let fields):
                if let refusal = allowNetsRefusal(fields, request: request) {
                    info("\(prefix): \(refusal)")
                    continue
                }
                return .success(user: user, fields: fields.filter { !Self.internalFields.contains($0.key) })
            case .userUnknown:
                info("\(prefix): unknown user")
            case .passwordMismatch:
                info("\(prefix): Password mismatch")
            case .rejected(let message):
                info("\(prefix): \(message)")
            case .schemeNotAvailable(let message):
                info("\(prefix): \(message)")
            case .internalFailure(let message):
                error("\(prefix): \(message)")
                outcome = .failure(user: request.user, code: "temp_fail", delay: false)
            }
        }
        return outcome
    }

    private func verifyCRAMMD5(_ request: AuthRequest, challenge: [UInt8], digest: String) async -> AuthOutcome {
        await verifyCredentials(request, scheme: "CRAM-MD5", mechanism: "cram-md5") { password in
            guard let context = password.cramContext else { return nil }
            return HashEncoding.constantTimeEquals(Array(HashEncoding.hex(context.mac(challenge)).utf8), Array(digest.utf8))
        }
    }

    /// APOP: the challenge must be one of this server's (`<pid.connection.time.`, made after it started,
    /// not used by a login before), and MD5(challenge + password) must be the digest (a plaintext password).
    private func verifyAPOP(_ request: AuthRequest, challenge: String, digest: [UInt8]) async -> AuthOutcome {
        guard apopChallenges.isValid(challenge) else {
            info("\(request.logPrefix("apop")): invalid challenge")
            return .failure(user: request.user, code: nil, delay: true)
        }
        let outcome = await verifyCredentials(request, scheme: "PLAIN", mechanism: "apop") { password in
            guard password.scheme?.isPlaintext == true else { return nil }
            let expected = Array(Insecure.MD5.hash(data: Array(challenge.utf8) + Array(password.value.utf8)))
            return HashEncoding.constantTimeEquals(expected, digest)
        }
        if case .success = outcome, !apopChallenges.use(challenge) {
            info("\(request.logPrefix("apop")): invalid challenge")  // a replay: another login used it
            return .failure(user: request.user, code: nil, delay: true)
        }
        return outcome
    }

    /// A mechanism that needs the stored secret (Dovecot's credentials lookup): `matches` says whether the
    /// client's proof fits the user's password, nil when that password's scheme cannot be used.
    private func verifyCredentials(
        _ request: AuthRequest, scheme: String, mechanism: String, matches: (StoredPassword) -> Bool?
    ) async -> AuthOutcome {
        var outcome = AuthOutcome.failure(user: request.user, code: nil, delay: true)
        for passdb in passdbs {
            let prefix = request.logPrefix(passdb.driver)
            switch await passdb.lookupCredentials(request) {
            case .userUnknown:
                info("\(prefix): unknown user")
            case .internalFailure(let message):
                error("\(prefix): \(message)")
                outcome = .failure(user: request.user, code: "temp_fail", delay: false)
            case .found(let entry):
                guard let password = entry.password, let matched = matches(password) else {
                    let have = entry.password?.schemeName ?? "no password"
                    info("\(prefix): Requested \(scheme) scheme, but we have only \(have)")
                    continue
                }
                guard matched else {
                    info("\(request.logPrefix(mechanism)): Password mismatch")
                    continue
                }
                let fields = entry.passdbFields
                if let refusal = allowNetsRefusal(fields, request: request) {
                    info("\(prefix): \(refusal)")
                    continue
                }
                return .success(user: entry.user, fields: fields.filter { !Self.internalFields.contains($0.key) })
            }
        }
        return outcome
    }

    private func allowNetsRefusal(_ fields: [AuthField], request: AuthRequest) -> String? {
        guard let networks = fields.last(where: { $0.key == "allow_nets" })?.value else { return nil }
        return AllowNets(networks).check(remoteIP: request.remoteIP)
    }

    /// The first userdb that knows the user (userdb lookups after a login, `doveadm user`).
    public func lookupUser(_ request: AuthRequest) async -> UserdbResult {
        var result = UserdbResult.userUnknown
        for userdb in userdbs {
            result = await userdb.lookupUser(request)
            switch result {
            case .found: return result
            case .userUnknown: info("\(request.logPrefix(userdb.driver)): unknown user")
            case .internalFailure(let message): error("\(request.logPrefix(userdb.driver)): \(message)")
            }
        }
        return result
    }
}
