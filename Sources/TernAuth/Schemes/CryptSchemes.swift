import CCrypt

/// The crypt(3) schemes through libxcrypt: `{CRYPT}` (any hash crypt knows), `{MD5-CRYPT}` ($1$),
/// `{SHA256-CRYPT}` ($5$), `{SHA512-CRYPT}` ($6$) and `{BLF-CRYPT}` ($2y$), as Dovecot's password-scheme-crypt.c.
enum CryptSchemes {
    /// The salt alphabet of crypt(3)'s settings.
    private static let saltAlphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    /// crypt(3) output is at most CRYPT_OUTPUT_SIZE (384) bytes.
    private static let outputSize = 384

    /// crypt(3) of `password` with `setting`, or nil when crypt does not know the setting or the password
    /// holds a NUL byte (crypt takes C strings).
    static func crypt(_ password: [UInt8], setting: String) -> String? {
        guard !password.contains(0), !setting.utf8.contains(0) else { return nil }
        var output = [CChar](repeating: 0, count: outputSize)
        let status = (password + [0]).withUnsafeBufferPointer { phrase in
            phrase.withMemoryRebound(to: CChar.self) { phrase in
                tern_crypt(phrase.baseAddress, setting, &output, outputSize)
            }
        }
        guard status == 0 else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func verify(_ password: [UInt8], stored: String) -> Bool {
        guard let hash = crypt(password, setting: stored) else { return false }
        return HashEncoding.constantTimeEquals(Array(hash.utf8), Array(stored.utf8))
    }

    static func salt(_ length: Int) -> String {
        String(decoding: HashEncoding.randomBytes(length).map { saltAlphabet[Int($0 & 63)] }, as: UTF8.self)
    }

    /// `$1$salt` (8 salt characters, rounds fixed by the algorithm).
    static func md5Setting() -> String { "$1$" + salt(8) }

    /// `$5$`/`$6$` with 16 salt characters; `rounds=` only when it differs from the default 5000 (crypt
    /// clamps it to 1000...999999999 itself).
    static func shaSetting(prefix: String, rounds: Int?) -> String {
        if let rounds, rounds != 5000 { return "\(prefix)rounds=\(rounds)$" + salt(16) }
        return prefix + salt(16)
    }

    /// `$2y$NN$` from crypt_gensalt (bcrypt cost 4...31, default 5 as Dovecot).
    static func bcryptSetting(rounds: Int?) -> String? {
        let cost = UInt(min(max(rounds ?? 5, 4), 31))
        let random = HashEncoding.randomBytes(16)
        var output = [CChar](repeating: 0, count: 64)
        let status = random.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { bytes in
                tern_crypt_gensalt("$2y$", cost, bytes.baseAddress, Int32(bytes.count), &output, Int32(output.count))
            }
        }
        guard status == 0 else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
