import Crypto
import Foundation

extension PasswordScheme {
    /// PBKDF2's default iteration count in Dovecot, and the most a stored hash may ask for (a passdb entry
    /// must not be able to make one login cost minutes).
    static let pbkdf2DefaultRounds = 5000
    static let pbkdf2MaximumRounds = 10_000_000

    /// A new hash of `password` (without the `{SCHEME}` prefix), as `doveadm pw -s` prints it.
    /// `user` is needed by DIGEST-MD5; `rounds` is `doveadm pw -r`.
    public func generate(_ password: [UInt8], user: String? = nil, rounds: Int? = nil) throws -> String {
        switch kind {
        case .plain:
            return String(decoding: password, as: UTF8.self)
        case .crypt, .blfCrypt:
            guard let setting = CryptSchemes.bcryptSetting(rounds: rounds) else {
                throw PasswordSchemeError.unavailable(name)
            }
            return try crypt(password, setting)
        case .desCrypt:
            return try crypt(password, CryptSchemes.salt(2))
        case .md5Crypt:
            return try crypt(password, CryptSchemes.md5Setting())
        case .sha256Crypt:
            return try crypt(password, CryptSchemes.shaSetting(prefix: "$5$", rounds: rounds))
        case .sha512Crypt:
            return try crypt(password, CryptSchemes.shaSetting(prefix: "$6$", rounds: rounds))
        case .argon2i, .argon2id:
            guard let argon = Argon2Scheme.shared,
                let hash = argon.hash(password, identifier: kind == .argon2id, rounds: rounds)
            else { throw PasswordSchemeError.unavailable(name) }
            return hash
        case .digest(let digest):
            return encode(digest.hash(password))
        case .salted(let digest):
            let salt = HashEncoding.randomBytes(Self.saltLength)
            return encode(digest.hash(password + salt) + salt)
        case .cramMD5:
            return encode(CRAMMD5Context(secret: password).bytes)
        case .digestMD5:
            guard let user, !user.isEmpty else { throw PasswordSchemeError.userRequired(name) }
            return encode(Self.digestMD5(user: user, password: password))
        case .pbkdf2:
            let salt = CryptSchemes.salt(16)
            let count = max(rounds ?? Self.pbkdf2DefaultRounds, 1)
            return "$1$\(salt)$\(count)$"
                + HashEncoding.hex(Self.pbkdf2SHA1(password, salt: Array(salt.utf8), rounds: count))
        }
    }

    /// Whether `password` matches `stored` (the part after `{SCHEME}`). Comparisons take constant time.
    public func verify(_ password: [UInt8], stored: String, user: String? = nil) -> Bool {
        switch kind {
        case .plain:
            return HashEncoding.constantTimeEquals(password, Array(stored.utf8))
        case .crypt, .desCrypt, .md5Crypt, .sha256Crypt, .sha512Crypt, .blfCrypt:
            return CryptSchemes.verify(password, stored: stored)
        case .argon2i, .argon2id:
            return Argon2Scheme.shared?.verify(password, stored: stored) ?? false
        case .digest(let digest):
            guard let raw = decode(stored, size: digest.size) else { return false }
            return HashEncoding.constantTimeEquals(digest.hash(password), raw)
        case .salted(let digest):
            guard let raw = decode(stored, size: nil), raw.count > digest.size else { return false }
            let salt = Array(raw[digest.size...])
            return HashEncoding.constantTimeEquals(digest.hash(password + salt), Array(raw[..<digest.size]))
        case .cramMD5:
            guard let raw = decode(stored, size: 32) else { return false }
            return HashEncoding.constantTimeEquals(CRAMMD5Context(secret: password).bytes, raw)
        case .digestMD5:
            guard let user, let raw = decode(stored, size: 16) else { return false }
            return HashEncoding.constantTimeEquals(Self.digestMD5(user: user, password: password), raw)
        case .pbkdf2:
            let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 5, parts[0].isEmpty, parts[1] == "1", let count = Int(parts[3]), count > 0,
                count <= Self.pbkdf2MaximumRounds, let expected = HashEncoding.unhex(String(parts[4]))
            else { return false }
            let actual = Self.pbkdf2SHA1(password, salt: Array(parts[2].utf8), rounds: count)
            return HashEncoding.constantTimeEquals(Array(actual.prefix(expected.count)), expected)
        }
    }

    private func crypt(_ password: [UInt8], _ setting: String) throws -> String {
        guard let hash = CryptSchemes.crypt(password, setting: setting) else {
            throw PasswordSchemeError.unavailable(name)
        }
        return hash
    }

    private func encode(_ bytes: [UInt8]) -> String {
        encoding == .base64 ? HashEncoding.base64(bytes) : HashEncoding.hex(bytes)
    }

    /// The stored bytes in this scheme's encoding; like Dovecot, a hash of a known size is also accepted in
    /// the other encoding when its length says so (`{SHA}` written in hex).
    private func decode(_ stored: String, size: Int?) -> [UInt8]? {
        let primary = encoding == .base64 ? HashEncoding.unbase64(stored) : HashEncoding.unhex(stored)
        if let primary, size == nil || primary.count == size { return primary }
        guard let size else { return nil }
        let other = encoding == .base64 ? HashEncoding.unhex(stored) : HashEncoding.unbase64(stored)
        return other?.count == size ? other : nil
    }

    /// MD5 of `user:realm:password`, the realm being the domain part of `user@realm` (RFC 2831 A1 secret).
    static func digestMD5(user: String, password: [UInt8]) -> [UInt8] {
        let parts = user.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let realm = parts.count == 2 ? String(parts[1]) : ""
        return Array(Insecure.MD5.hash(data: Array("\(parts[0]):\(realm):".utf8) + password))
    }

    /// PBKDF2-HMAC-SHA1 with one 20-byte block (RFC 8018 §5.2), as Dovecot's `{PBKDF2}`.
    static func pbkdf2SHA1(_ password: [UInt8], salt: [UInt8], rounds: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var block = Array(HMAC<Insecure.SHA1>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = block
        for _ in 1..<max(rounds, 1) {
            block = Array(HMAC<Insecure.SHA1>.authenticationCode(for: block, using: key))
            for index in result.indices { result[index] ^= block[index] }
        }
        return result
    }
}

/// A passdb password: its scheme (from the `{SCHEME}` prefix or the passdb default) and the stored value.
public struct StoredPassword: Sendable, Equatable {
    /// The scheme name as written; nil `scheme` means Tern does not know it.
    public let schemeName: String
    public let scheme: PasswordScheme?
    public let value: String

    /// Splits `{SCHEME}value`; without a prefix the passdb's `scheme=` default applies.
    public init(_ text: String, defaultScheme: String) {
        if text.hasPrefix("{"), let close = text.firstIndex(of: "}") {
            schemeName = String(text[text.index(after: text.startIndex)..<close]).uppercased()
            value = String(text[text.index(after: close)...])
        } else {
            schemeName = defaultScheme.uppercased()
            value = text
        }
        scheme = PasswordScheme(named: schemeName)
    }

    public func verify(_ password: [UInt8], user: String) -> Bool {
        scheme?.verify(password, stored: value, user: user) ?? false
    }

    /// The HMAC-MD5 context CRAM-MD5 needs: from a plaintext password or a `{CRAM-MD5}` hash; nil otherwise.
    var cramContext: CRAMMD5Context? {
        guard let scheme else { return nil }
        if scheme.isPlaintext { return CRAMMD5Context(secret: Array(value.utf8)) }
        if scheme.isCRAMMD5, scheme.encoding == .hex { return CRAMMD5Context(hex: value) }
        return nil
    }
}
