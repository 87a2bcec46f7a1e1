import Foundation

/// The SASL mechanisms the auth service offers, with the flags Dovecot announces in its `MECH` lines
/// (src/lib-auth/auth-client-interface.h: plaintext, dictionary, active, ...).
public enum SASLMechanism: String, Sendable, CaseIterable {
    /// RFC 4616.
    case plain = "PLAIN"
    /// draft-murchison-sasl-login.
    case login = "LOGIN"
    /// RFC 2195.
    case cramMD5 = "CRAM-MD5"
    /// POP3's APOP (RFC 1939 §7) as Dovecot runs it: pop3-login sends `challenge NUL user NUL digest`.
    case apop = "APOP"

    /// Case-insensitive, as Dovecot's mech_register_find.
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }

    /// The flags after the name in the `MECH` line.
    public var flags: [String] {
        switch self {
        case .plain, .login: ["plaintext"]
        case .cramMD5: ["dictionary", "active"]
        case .apop: ["private", "dictionary", "active"]
        }
    }

    /// The lower-case name Dovecot uses in log prefixes (`plain(?): invalid input`).
    public var logName: String { rawValue.lowercased() }
}

/// What a mechanism asks the auth service to do next.
public enum SASLStep: Sendable, Equatable {
    /// Send this challenge to the client and wait for its response.
    case challenge([UInt8])
    /// Check a plaintext password (PLAIN, LOGIN). `authzid` is PLAIN's authorization identity when the
    /// client gave one different from the authentication identity.
    case verifyPassword(user: String, password: [UInt8], authzid: String?)
    /// Check an HMAC-MD5 `digest` (lower-case hex) of `challenge` against the user's secret (CRAM-MD5).
    case verifyCRAMMD5(user: String, challenge: [UInt8], digest: String)
    /// Check MD5(`challenge` + password) against `digest` (16 bytes), after checking the challenge (APOP).
    case verifyAPOP(user: String, challenge: String, digest: [UInt8])
    /// The exchange ended without credentials.
    case failed(SASLFailure)
}

public enum SASLFailure: Sendable, Equatable {
    /// The client's response does not fit the mechanism (logged as `invalid input`).
    case invalidInput
    /// The client sent `*`.
    case cancelled
}

/// One server-side SASL exchange as a state machine: no I/O, no passdb; it turns client responses into
/// challenges or into the credentials to check.
public struct SASLServerExchange: Sendable {
    public let mechanism: SASLMechanism
    private var state: State

    private enum State: Sendable {
        case initial
        case awaitingPlain
        case awaitingLoginUser
        case awaitingLoginPassword(user: String)
        case awaitingCRAMResponse(challenge: [UInt8])
        case finished
    }

    /// The most a user name may take (Dovecot's mechanisms accept what fits a line; this bounds logs).
    static let maximumUserLength = 1024
    static let loginUserPrompt = Array("Username:".utf8)
    static let loginPasswordPrompt = Array("Password:".utf8)

    /// `cramChallenge` is the CRAM-MD5 challenge to send (`<random.time@host>`), made by the caller so this
    /// stays deterministic.
    public init(mechanism: SASLMechanism, cramChallenge: @autoclosure () -> [UInt8] = []) {
        self.mechanism = mechanism
        if mechanism == .cramMD5 {
            state = .awaitingCRAMResponse(challenge: cramChallenge())
        } else {
            state = .initial
        }
    }

    /// Starts the exchange; `initialResponse` is SASL-IR's data (nil when the client sent none).
    public mutating func start(initialResponse: [UInt8]?) -> SASLStep {
        switch (mechanism, state) {
        case (.plain, .initial):
            if let initialResponse { return plain(initialResponse) }
            state = .awaitingPlain
            return .challenge([])
        case (.login, .initial):
            // LOGIN's initial response, when present, is the user name (as Dovecot's mech-login.c).
            if let initialResponse, !initialResponse.isEmpty { return receive(initialResponse) }
            state = .awaitingLoginUser
            return .challenge(Self.loginUserPrompt)
        case (.apop, .initial):
            return apop(initialResponse ?? [])
        case (.cramMD5, .awaitingCRAMResponse(let challenge)):
            // CRAM-MD5 is server-first: an initial response is a protocol error.
            if let initialResponse, !initialResponse.isEmpty { return fail(.invalidInput) }
            return .challenge(challenge)
        default:
            return fail(.invalidInput)
        }
    }

    /// One client response (already base64-decoded).
    public mutating func receive(_ response: [UInt8]) -> SASLStep {
        switch state {
        case .awaitingPlain:
            return plain(response)
        case .initial where mechanism == .login, .awaitingLoginUser:
            guard !response.isEmpty, response.count <= Self.maximumUserLength, !response.contains(0) else {
                return fail(.invalidInput)
            }
            state = .awaitingLoginPassword(user: String(decoding: response, as: UTF8.self))
            return .challenge(Self.loginPasswordPrompt)
        case .awaitingLoginPassword(let user):
            state = .finished
            return .verifyPassword(user: user, password: response, authzid: nil)
        case .awaitingCRAMResponse(let challenge):
            // "user SP digest", the digest 32 lower-case hex digits (RFC 2195 §2).
            guard let space = response.lastIndex(of: UInt8(ascii: " ")), space > 0,
                response.count - space - 1 == 32, space <= Self.maximumUserLength
            else { return fail(.invalidInput) }
            state = .finished
            return .verifyCRAMMD5(
                user: String(decoding: response[..<space], as: UTF8.self), challenge: challenge,
                digest: String(decoding: response[(space + 1)...], as: UTF8.self).lowercased())
        case .initial, .finished:
            return fail(.invalidInput)
        }
    }

    /// The client sent `*` (RFC 4954 §4, RFC 3501 §6.2.2).
    public mutating func cancel() -> SASLStep {
        fail(.cancelled)
    }

    private mutating func fail(_ failure: SASLFailure) -> SASLStep {
        state = .finished
        return .failed(failure)
    }

    /// `challenge NUL user NUL digest`, the digest 16 bytes (Dovecot's mech-apop.c).
    private mutating func apop(_ data: [UInt8]) -> SASLStep {
        let parts = data.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, parts[1].count <= Self.maximumUserLength, parts[2].count == 16
        else { return fail(.invalidInput) }
        state = .finished
        return .verifyAPOP(
            user: String(decoding: parts[1], as: UTF8.self), challenge: String(decoding: parts[0], as: UTF8.self),
            digest: Array(parts[2]))
    }

    /// `[authzid] NUL authcid NUL passwd` (RFC 4616 §2).
    private mutating func plain(_ message: [UInt8]) -> SASLStep {
        let parts = message.split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, parts[1].count <= Self.maximumUserLength,
            parts[0].count <= Self.maximumUserLength
        else { return fail(.invalidInput) }
        state = .finished
        let authcid = String(decoding: parts[1], as: UTF8.self)
        let authzid = String(decoding: parts[0], as: UTF8.self)
        return .verifyPassword(
            user: authcid, password: Array(parts[2]), authzid: authzid.isEmpty || authzid == authcid ? nil : authzid)
    }
}

extension SASLServerExchange {
    /// A CRAM-MD5 challenge as Dovecot makes it: `<random.time@hostname>` (RFC 2195 §2 asks for a
    /// msg-id-like unique string).
    public static func cramChallenge(hostname: String) -> [UInt8] {
        let random = UInt64.random(in: 0...UInt64.max)
        let time = Int(Date().timeIntervalSince1970)
        return Array("<\(random).\(time)@\(hostname)>".utf8)
    }
}
