import Foundation

/// `{ARGON2I}` and `{ARGON2ID}` through libsodium's crypto_pwhash_str (as Dovecot builds them), loaded with
/// dlopen so Tern needs no libsodium headers and runs without the library (the schemes are then unavailable).
/// libxcrypt has no Argon2.
struct Argon2Scheme: Sendable {
    private typealias HashFunction =
        @convention(c) (
            UnsafeMutablePointer<CChar>?, UnsafePointer<CChar>?, UInt64, UInt64, Int, Int32
        ) -> Int32
    private typealias VerifyFunction = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UInt64) -> Int32

    private let hashFunction: HashFunction
    private let verifyFunction: VerifyFunction

    /// The library, loaded once; nil when libsodium is not installed.
    static let shared: Argon2Scheme? = load()

    private static func load() -> Argon2Scheme? {
        for name in ["libsodium.so.23", "libsodium.so"] {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let initialize = dlsym(handle, "sodium_init"), let hash = dlsym(handle, "crypto_pwhash_str_alg"),
                let verify = dlsym(handle, "crypto_pwhash_str_verify")
            else { return nil }
            let start = unsafeBitCast(initialize, to: (@convention(c) () -> Int32).self)
            guard start() >= 0 else { return nil }
            return Argon2Scheme(
                hashFunction: unsafeBitCast(hash, to: HashFunction.self),
                verifyFunction: unsafeBitCast(verify, to: VerifyFunction.self))
        }
        return nil
    }

    /// `$argon2i$v=19$m=32768,t=4,p=1$...` (opslimit 4, 32 MiB) or `$argon2id$v=19$m=65536,t=3,p=1$...`
    /// (opslimit 3, 64 MiB), the parameters Dovecot 2.3 uses; `rounds` replaces the opslimit.
    func hash(_ password: [UInt8], identifier: Bool, rounds: Int?) -> String? {
        let operations = UInt64(max(rounds ?? (identifier ? 3 : 4), 1))
        let memory = identifier ? 64 << 20 : 32 << 20
        var output = [CChar](repeating: 0, count: 128)
        let status = password.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { bytes in
                hashFunction(&output, bytes.baseAddress, UInt64(bytes.count), operations, memory, identifier ? 2 : 1)
            }
        }
        guard status == 0 else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func verify(_ password: [UInt8], stored: String) -> Bool {
        guard stored.utf8.count < 128 else { return false }
        return password.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { bytes in
                verifyFunction(stored, bytes.baseAddress, UInt64(bytes.count)) == 0
            }
        }
    }
}
