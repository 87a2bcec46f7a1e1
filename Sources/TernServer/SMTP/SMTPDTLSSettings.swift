import NIOSSL
import TernConfig
import TernCore
import TernSMTP

/// smtpd's TLS parameters (postconf(5) names) and the server context made from them, as Postfix 3.7's
/// smtpd(8) sets them up at start: smtpd_tls_security_level (or smtpd_use_tls / smtpd_enforce_tls),
/// smtpd_tls_wrappermode, smtpd_tls_auth_only, the certificate files, protocols and cipher grade.
struct SMTPDTLSSettings: Sendable {
    let policy: SMTPServerTLSPolicy
    /// smtpd_tls_wrappermode: the handshake comes first, before the greeting (port 465, "smtps").
    let wrapperMode: Bool
    /// The server context; nil when TLS is off or could not be set up (STARTTLS then answers 454).
    let context: NIOSSLContext?
    /// smtpd_tls_loglevel: from 1 on, `... TLS connection established from ...` is logged.
    let logLevel: Int
    /// smtpd_tls_received_header: the protocol and cipher go into the Received: header.
    let receivedHeader: Bool
    /// Why TLS is unavailable although configured (Postfix's warnings), logged when the settings are made.
    let problems: [String]

    static let disabled = SMTPDTLSSettings(
        policy: SMTPServerTLSPolicy(), wrapperMode: false, context: nil, logLevel: 0, receivedHeader: false,
        problems: [])

    static func make(_ config: MainConfig, files: TLSFiles) throws -> SMTPDTLSSettings {
        let wrapperMode = config.bool("smtpd_tls_wrappermode") ?? false
        var (offered, required) = try level(config)
        if wrapperMode { (offered, required) = (true, true) }
        var problems: [String] = []
        var context: NIOSSLContext?
        if offered {
            do {
                context = try makeContext(config, mandatory: required, files: files)
            } catch {
                problems = error.messages
            }
        }
        return SMTPDTLSSettings(
            policy: SMTPServerTLSPolicy(
                offered: offered, required: required, authOnly: config.bool("smtpd_tls_auth_only") ?? false,
                available: context != nil),
            wrapperMode: wrapperMode, context: context, logLevel: config.int("smtpd_tls_loglevel") ?? 0,
            receivedHeader: config.bool("smtpd_tls_received_header") ?? false, problems: problems)
    }

    /// smtpd_tls_security_level when set, else the older smtpd_use_tls / smtpd_enforce_tls.
    static func level(_ config: MainConfig) throws -> (offered: Bool, required: Bool) {
        let text = config.value("smtpd_tls_security_level").lowercased()
        switch text {
        case "":
            let enforce = config.bool("smtpd_enforce_tls") ?? false
            return ((config.bool("smtpd_use_tls") ?? false) || enforce, enforce)
        case "none": return (false, false)
        case "may": return (true, false)
        // Postfix warns about the client-only levels and uses "encrypt".
        case "encrypt", "verify", "secure", "fingerprint", "dane", "dane-only": return (true, true)
        default:
            throw FileError(file: config.file, message: "smtpd_tls_security_level: Invalid TLS level \"\(text)\"")
        }
    }

    struct SetupError: Error {
        let messages: [String]
    }

    /// The certificate chain and key: smtpd_tls_chain_files when set (key and chain in each file), else
    /// smtpd_tls_cert_file / smtpd_tls_key_file (or the ECDSA and DSA pairs).
    static func makeContext(_ config: MainConfig, mandatory: Bool, files: TLSFiles) throws(SetupError)
        -> NIOSSLContext
    {
        let (chain, key) = try keyMaterial(config, files: files)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        let protocols = config.value(mandatory ? "smtpd_tls_mandatory_protocols" : "smtpd_tls_protocols")
        configuration.minimumTLSVersion = ClientTLSPolicy.minimumVersion(protocols)
        if let maximum = maximumVersion(protocols) { configuration.maximumTLSVersion = maximum }
        let grade = config.value(mandatory ? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers").lowercased()
        if grade == "high" { configuration.cipherSuiteValues = highCiphers }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SetupError(messages: [
                "TLS library problem: \(error)", "cannot initialize server TLS context: disabling TLS support",
            ])
        }
    }

    private static func keyMaterial(_ config: MainConfig, files: TLSFiles) throws(SetupError)
        -> ([NIOSSLCertificate], NIOSSLPrivateKey)
    {
        let chainFiles = (try? config.list("smtpd_tls_chain_files")) ?? []
        let pairs: [(cert: String, key: String)]
        if !chainFiles.isEmpty {
            pairs = chainFiles.map { ($0, $0) }
        } else {
            pairs = [
                ("smtpd_tls_cert_file", "smtpd_tls_key_file"), ("smtpd_tls_eccert_file", "smtpd_tls_eckey_file"),
                ("smtpd_tls_dcert_file", "smtpd_tls_dkey_file"),
            ]
            .map { (config.value($0.0), config.value($0.1)) }.filter { !$0.cert.isEmpty }
        }
        guard let first = pairs.first else {
            throw SetupError(messages: ["No server certs available. TLS won't be enabled"])
        }
        var chain: [NIOSSLCertificate] = []
        for file in chainFiles.isEmpty ? [first.cert] : chainFiles {
            do {
                chain += try NIOSSLCertificate.fromPEMBytes(try files.read(file))
            } catch {
                throw SetupError(messages: ["cannot get certificate from file \"\(file)\": disabling TLS support"])
            }
        }
        let keyFile = first.key.isEmpty ? first.cert : first.key
        do {
            return (chain, try NIOSSLPrivateKey(bytes: try files.read(keyFile), format: .pem))
        } catch {
            throw SetupError(messages: ["cannot get private key from file \"\(keyFile)\": disabling TLS support"])
        }
    }

    /// The highest version a protocol list allows (`<=TLSv1.2`, or `!TLSv1.3`); nil: no limit.
    static func maximumVersion(_ protocols: String) -> TLSVersion? {
        let words = protocols.split(whereSeparator: { $0 == "," || $0 == " " || $0 == ":" }).map(String.init)
        let ordered: [(String, TLSVersion)] = [
            ("TLSv1", .tlsv1), ("TLSv1.1", .tlsv11), ("TLSv1.2", .tlsv12), ("TLSv1.3", .tlsv13),
        ]
        if let bound = words.first(where: { $0.hasPrefix("<=") }) {
            return ordered.first { $0.0 == bound.dropFirst(2) }?.1
        }
        let excluded = Set(words.filter { $0.hasPrefix("!") }.map { String($0.dropFirst()) })
        return ordered.last { !excluded.contains($0.0) }?.1
    }

    /// The "high" grade for TLS 1.2 and below: forward-secret AEAD suites only (TLS 1.3 suites are all strong).
    static let highCiphers: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ]
}
