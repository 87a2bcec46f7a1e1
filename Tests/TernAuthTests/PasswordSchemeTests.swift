import Testing

@testable import TernAuth

/// Hashes of "secret" (user alice) made by Dovecot 2.3.19's `doveadm pw -s SCHEME -p secret -u alice`.
let dovecotVectors: [(String, String)] = [
    ("PLAIN", "secret"),
    ("CLEAR", "secret"),
    ("CRYPT", "$2y$05$ZMy.Q6Klwqbasu6.NuYc9OUDostc7bFlmGMTkTTyUxED1T235eA86"),
    ("MD5-CRYPT", "$1$Fv3U.gOq$88MqxKCK34B7BeTp.x3Wx1"),
    ("MD5", "$1$WWhrVjOu$q13pEU3Dsj41n3js9axTs/"),
    ("SHA256-CRYPT", "$5$eLFAPPccaKx6gqRS$CdcBU2lOAumd70tkyMqLSXa1BOElVU0zlxQ1.XIl3mA"),
    (
        "SHA512-CRYPT",
        "$6$DntR.vz/BL2vtIE9$TRiR7Wc4sFlqLGWR0H5N4utrJSJwcXFHRzHiFFYIfqrrqNWEIdVcFZgtBAjdV1stHMT7UV0GEdHR0w2S7OA0I0"
    ),
    ("BLF-CRYPT", "$2y$05$LJ5pB9Wn2sKZYdhXhdmIzeMkm5tAiaOlHMzCz2tOsahTtcdulHO4u"),
    ("SSHA", "8zEv8xjkMf7r0El0gaTI7a3iu8V7eDRl"),
    ("SSHA256", "hplXDpVasksyXlDniPE9CbEsOjubRmrqnXc0oQh/X0LDF/IV"),
    ("SSHA512", "HNlGXVPB9JenVGineJPRLbqW+AZQ46PTTPVLmiVjQPWsH6q6n2cSF3XhVK8Xq5n3ZgpeDkeRTX3RWQyku6KeOc33zzc="),
    ("SMD5", "7hKKINg9NpDdVb7RVscdJhJosUQ="),
    ("SHA", "5en6G6MezRroT3XKqkdPOmY/BfQ="),
    ("SHA1", "5en6G6MezRroT3XKqkdPOmY/BfQ="),
    ("SHA256", "K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols="),
    ("SHA512", "vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg=="),
    ("PLAIN-MD5", "5ebe2294ecd0e0f08eab7690d2a6ee69"),
    ("LDAP-MD5", "Xr4ilOzQ4PCOq3aQ0qbuaQ=="),
    ("PLAIN-MD5.B64", "Xr4ilOzQ4PCOq3aQ0qbuaQ=="),
    ("SHA.HEX", "e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4"),
    ("SHA256.HEX", "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"),
    ("SSHA.HEX", "89962f386ac5f942d0c7d91e33886597e6904e4cc44a1ec1"),
    ("CRAM-MD5", "cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"),
    ("DIGEST-MD5", "cc3a3506aba601d2feee7bf9b34237ce"),
    ("PBKDF2", "$1$IY5ka3htjNT1hmqY$5000$18f9e79d165b79539c1261b633a5e7acfa6ce392"),
]

let argonVectors: [(String, String)] = [
    ("ARGON2I", "$argon2i$v=19$m=32768,t=4,p=1$u3sYYqaU9HnErYZ3hdnpmA$BYjEJlZUbD/KA71Niazjeo4Z4QmcPpqJLK8weFvZWBE"),
    ("ARGON2ID", "$argon2id$v=19$m=65536,t=3,p=1$4Ob4eYr44UeCFV2P703Qug$g0JWeqxFPFzFuWcurCG9B2rlyGM+GOUriGedJeNawuE"),
]

@Suite struct PasswordSchemeTests {
    @Test(arguments: dovecotVectors)
    func verifiesDovecotHashes(name: String, hash: String) throws {
        let scheme = try #require(PasswordScheme(named: name))
        #expect(scheme.verify(Array("secret".utf8), stored: hash, user: "alice"))
        #expect(!scheme.verify(Array("Secret".utf8), stored: hash, user: "alice"))
        #expect(!scheme.verify([], stored: hash, user: "alice"))
    }

    @Test(arguments: argonVectors)
    func verifiesArgon2WhenLibsodiumIsThere(name: String, hash: String) throws {
        let scheme = try #require(PasswordScheme(named: name))
        guard scheme.isAvailable else { return }
        #expect(scheme.verify(Array("secret".utf8), stored: hash))
        #expect(!scheme.verify(Array("secreT".utf8), stored: hash))
    }

    @Test(arguments: dovecotVectors.map(\.0))
    func generatedHashesVerify(name: String) throws {
        let scheme = try #require(PasswordScheme(named: name))
        let hash = try scheme.generate(Array("pässword".utf8), user: "alice@example.com")
        #expect(scheme.verify(Array("pässword".utf8), stored: hash, user: "alice@example.com"))
        #expect(!scheme.verify(Array("password".utf8), stored: hash, user: "alice@example.com"))
    }

    @Test func deterministicSchemesMatchDovecotExactly() throws {
        for (name, hash) in dovecotVectors {
            guard
                ["SHA", "SHA256", "SHA512", "PLAIN-MD5", "LDAP-MD5", "SHA.HEX", "CRAM-MD5", "PLAIN-MD5.B64"]
                    .contains(name)
            else { continue }
            #expect(try PasswordScheme(named: name)?.generate(Array("secret".utf8)) == hash, "\(name)")
        }
        #expect(
            try PasswordScheme(named: "DIGEST-MD5")?.generate(Array("secret".utf8), user: "alice")
                == "cc3a3506aba601d2feee7bf9b34237ce")
    }

    @Test func cryptSettingsLookLikeDovecots() throws {
        let sha512 = try #require(PasswordScheme(named: "SHA512-CRYPT"))
        #expect(try sha512.generate(Array("x".utf8)).hasPrefix("$6$"))
        #expect(try sha512.generate(Array("x".utf8), rounds: 5000).split(separator: "$").count == 3)
        #expect(try sha512.generate(Array("x".utf8), rounds: 10000).hasPrefix("$6$rounds=10000$"))
        #expect(try PasswordScheme(named: "BLF-CRYPT")?.generate(Array("x".utf8)).hasPrefix("$2y$05$") == true)
        #expect(
            try PasswordScheme(named: "BLF-CRYPT")?.generate(Array("x".utf8), rounds: 3).hasPrefix("$2y$04$") == true)
        #expect(try PasswordScheme(named: "CRYPT")?.generate(Array("x".utf8)).hasPrefix("$2y$05$") == true)
        #expect(try PasswordScheme(named: "MD5-CRYPT")?.generate(Array("x".utf8)).hasPrefix("$1$") == true)
        let rounds =
            "$6$rounds=10000$Ttj06pXcToYMIMq1$jwYlHX55.O.DgahIR5TEjV/yUw0k32iuTHFhqWM0TNAQm1iCvv9KCujbl13EM/dXNp0cjHF9ySqnTlFB561AB1"
        #expect(sha512.verify(Array("x".utf8), stored: rounds))
    }

    @Test func storedPasswordPrefixesAndDefaults() {
        let prefixed = StoredPassword("{sha}5en6G6MezRroT3XKqkdPOmY/BfQ=", defaultScheme: "CRYPT")
        #expect(prefixed.schemeName == "SHA")
        #expect(prefixed.verify(Array("secret".utf8), user: "alice"))
        let bare = StoredPassword("secret", defaultScheme: "PLAIN")
        #expect(bare.verify(Array("secret".utf8), user: "alice"))
        let unknown = StoredPassword("{NOPE}secret", defaultScheme: "PLAIN")
        #expect(unknown.scheme == nil)
        #expect(!unknown.verify(Array("secret".utf8), user: "alice"))
        #expect(PasswordScheme(named: "SHA.XYZ") == nil)
        #expect(PasswordScheme(named: "PLAIN.HEX") == nil)
    }

    @Test func garbageHashesNeverVerify() {
        for name in PasswordScheme.names {
            guard let scheme = PasswordScheme(named: name), name != "PLAIN", name != "CLEAR", name != "CLEARTEXT" else {
                continue
            }
            for junk in ["", "$", "$1$", "$6$rounds=99999999999$x$y", "{", "====", "zz", "$1$a$999999999999$00"] {
                #expect(!scheme.verify(Array("x".utf8), stored: junk, user: "u"), "\(name) \(junk)")
            }
        }
    }

    @Test func cramContextAnswersChallenges() throws {
        // RFC 2195's example: tanstaaftanstaaf, challenge <1896.697170952@postoffice.reston.mci.net>.
        let context = CRAMMD5Context(secret: Array("tanstaaftanstaaf".utf8))
        let challenge = Array("<1896.697170952@postoffice.reston.mci.net>".utf8)
        #expect(HashEncoding.hex(context.mac(challenge)) == "b913a602c7eda7a495b4e6e7334d3890")
        let reread = try #require(CRAMMD5Context(hex: context.hex))
        #expect(reread.mac(challenge) == context.mac(challenge))
        #expect(HashEncoding.hex(MD5State().finish(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
    }
}
