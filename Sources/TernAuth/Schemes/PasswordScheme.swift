import Crypto
import Foundation

/// A Dovecot password scheme: the `{SCHEME}` prefix of a stored password or passdb's `scheme=` default
/// (https://doc.dovecot.org/2.3/configuration_manual/authentication/password_schemes/). A `.HEX` or `.B64`
/// suffix picks the encoding of digest schemes.
public struct PasswordScheme: Sendable, Hashable {
    /// The name as Dovecot prints it: upper case, with the encoding suffix (`SHA256.HEX`).
    public let name: String
    let kind: Kind
    let encoding: Encoding

    enum Kind: Sendable, Hashable {
        case plain, crypt, desCrypt, md5Crypt, sha256Crypt, sha512Crypt, blfCrypt, argon2i, argon2id
        case digest(Digest)
        case salted(Digest)
        case cramMD5, digestMD5, pbkdf2
    }

    enum Digest: Sendable, Hashable {
        case md5, sha1, sha256, sha512

        var size: Int {
            switch self {
            case .md5: 16
            case .sha1: 20
            case .sha256: 32
            case .sha512: 64
            }
        }

        func hash(_ bytes: [UInt8]) -> [UInt8] {
            switch self {
            case .md5: Array(Insecure.MD5.hash(data: bytes))
            case .sha1: Array(Insecure.SHA1.hash(data: bytes))
            case .sha256: Array(SHA256.hash(data: bytes))
            case .sha512: Array(SHA512.hash(data: bytes))
            }
        }
    }

    enum Encoding: Sendable, Hashable { case none, hex, base64 }

    /// Salt bytes of the salted digests (Dovecot's SSHA_SALT_LEN).
    static let saltLength = 4

    private static let known: [String: (Kind, Encoding)] = [
        "PLAIN": (.plain, .none), "CLEAR": (.plain, .none), "CLEARTEXT": (.plain, .none),
        "CRYPT": (.crypt, .none), "DES-CRYPT": (.desCrypt, .none), "MD5-CRYPT": (.md5Crypt, .none),
        "MD5": (.md5Crypt, .none), "SHA256-CRYPT": (.sha256Crypt, .none), "SHA512-CRYPT": (.sha512Crypt, .none),
        "BLF-CRYPT": (.blfCrypt, .none), "ARGON2I": (.argon2i, .none), "ARGON2ID": (.argon2id, .none),
        "SHA": (.digest(.sha1), .base64), "SHA1": (.digest(.sha1), .base64), "SHA256": (.digest(.sha256), .base64),
        "SHA512": (.digest(.sha512), .base64), "SSHA": (.salted(.sha1), .base64),
        "SSHA256": (.salted(.sha256), .base64), "SSHA512": (.salted(.sha512), .base64),
        "SMD5": (.salted(.md5), .base64), "PLAIN-MD5": (.digest(.md5), .hex), "LDAP-MD5": (.digest(.md5), .base64),
        "CRAM-MD5": (.cramMD5, .hex), "HMAC-MD5": (.cramMD5, .hex), "DIGEST-MD5": (.digestMD5, .hex),
        "PBKDF2": (.pbkdf2, .none),
    ]

    /// Every scheme name Tern knows (for `doveadm pw -l`).
    public static var names: [String] { known.keys.sorted() }

    /// The scheme for a name (case-insensitive, with an optional `.HEX`/`.B64`/`.BASE64` suffix).
    public init?(named given: String) {
        let upper = given.uppercased()
        var base = upper
        var suffix: Encoding?
        if let dot = upper.lastIndex(of: ".") {
            switch upper[upper.index(after: dot)...] {
            case "HEX": suffix = .hex
            case "B64", "BASE64": suffix = .base64
            default: return nil
            }
            base = String(upper[..<dot])
        }
        guard let (kind, encoding) = Self.known[base] else { return nil }
        if suffix != nil, encoding == .none { return nil }
        self.name = upper
        self.kind = kind
        self.encoding = suffix ?? encoding
    }

    /// True when the stored form lets a server answer challenge mechanisms such as CRAM-MD5.
    var isPlaintext: Bool { kind == .plain }
    var isCRAMMD5: Bool { kind == .cramMD5 }

    /// Whether this scheme can be generated here (Argon2 needs libsodium at run time).
    public var isAvailable: Bool {
        switch kind {
        case .argon2i, .argon2id: Argon2Scheme.shared != nil
        default: true
        }
    }
}

/// Why a password could not be hashed (the texts are Dovecot's `doveadm pw` errors).
public enum PasswordSchemeError: Error, Equatable, CustomStringConvertible {
    case unknownScheme(String)
    case userRequired(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .unknownScheme(let name): "Unknown scheme: \(name)"
        case .userRequired(let name):
            "\(name.lowercased().replacingOccurrences(of: "-", with: "_"))_generate(): username not given"
        case .unavailable(let name): "Scheme \(name) is not available"
        }
    }
}
