import Foundation
import TernConfig
import TernCore
import TernSMTP
import Testing

@testable import TernServer

@Suite struct SMTPDTLSSettingsTests {
    static func config(_ text: String) throws -> MainConfig {
        try MainConfig.parse(text: text, file: "/etc/postfix/main.cf", directory: "/etc/postfix")
    }

    @Test func securityLevelAndTheLegacyParameters() throws {
        func level(_ text: String) throws -> (Bool, Bool) {
            let (offered, required) = try SMTPDTLSSettings.level(try Self.config(text))
            return (offered, required)
        }
        #expect(try level("") == (false, false))
        #expect(try level("smtpd_use_tls = yes") == (true, false))
        #expect(try level("smtpd_enforce_tls = yes") == (true, true))
        #expect(try level("smtpd_tls_security_level = may") == (true, false))
        #expect(try level("smtpd_tls_security_level = encrypt") == (true, true))
        #expect(try level("smtpd_tls_security_level = verify") == (true, true))
        // The level wins over the older parameters.
        #expect(try level("smtpd_tls_security_level = none\nsmtpd_enforce_tls = yes") == (false, false))
        #expect(throws: FileError.self) { try level("smtpd_tls_security_level = sometimes") }
    }

    @Test func withoutACertificateTLSIsOfferedButNotAvailable() throws {
        let settings = try SMTPDTLSSettings.make(
            try Self.config("smtpd_tls_security_level = may\nsmtpd_tls_auth_only = yes"), files: .disk)
        #expect(settings.policy.offered && !settings.policy.required && !settings.policy.available)
        #expect(settings.policy.authOnly)
        #expect(settings.context == nil)
        #expect(settings.problems == ["No server certs available. TLS won't be enabled"])

        let missing = try SMTPDTLSSettings.make(
            try Self.config("smtpd_use_tls = yes\nsmtpd_tls_cert_file = /nonexistent/cert.pem"), files: .disk)
        #expect(
            missing.problems == ["cannot get certificate from file \"/nonexistent/cert.pem\": disabling TLS support"])

        let wrapper = try SMTPDTLSSettings.make(try Self.config("smtpd_tls_wrappermode = yes"), files: .disk)
        #expect(wrapper.wrapperMode && wrapper.policy.required && wrapper.policy.authOnly)
    }

    /// The master's files are used before the disk: the path need not be readable (or exist) here.
    @Test func keyMaterialComesFromTheMastersFiles() throws {
        let directory = NSTemporaryDirectory() + "tern-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        made.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tls.test",
            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
        ]
        made.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try made.run()
        made.waitUntilExit()
        try #require(made.terminationStatus == 0)
        var files = TLSFiles()
        files.contents["/root-only/cert.pem"] = try Data(contentsOf: URL(fileURLWithPath: directory + "/cert.pem"))
        files.contents["/root-only/key.pem"] = try Data(contentsOf: URL(fileURLWithPath: directory + "/key.pem"))
        let config = try Self.config(
            """
            smtpd_tls_security_level = encrypt
            smtpd_tls_cert_file = /root-only/cert.pem
            smtpd_tls_key_file = /root-only/key.pem
            smtpd_tls_mandatory_protocols = >=TLSv1.2
            """)
        let settings = try SMTPDTLSSettings.make(config, files: files)
        #expect(settings.problems.isEmpty)
        #expect(settings.context != nil && settings.policy.available)

        // The snapshot survives the trip through the master's channel.
        let (master, daemon) = try TLSFileChannel.makePair()
        defer {
            close(master.fd)
            close(daemon)
        }
        #expect(master.send(TLSFiles()))
        #expect(master.send(files))
        let received = TLSFileChannel(fd: daemon).receiveLatest()
        #expect(received?.contents == files.contents)
        #expect(TLSFileChannel(fd: daemon).receiveLatest() == nil)
    }

    @Test func protocolListsBecomeAVersionRange() {
        func minimum(_ text: String) -> String { SMTPTLSUpgrade.name(ClientTLSPolicy.minimumVersion(text)) }
        func maximum(_ text: String) -> String? { SMTPDTLSSettings.maximumVersion(text).map(SMTPTLSUpgrade.name) }
        #expect(minimum(">=TLSv1.2") == "TLSv1.2")
        #expect(maximum(">=TLSv1.2") == "TLSv1.3")
        #expect(minimum("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1") == "TLSv1.2")
        #expect(maximum("!TLSv1.3") == "TLSv1.2")
        #expect(maximum("<=TLSv1.2") == "TLSv1.2")
    }

    /// A TLS 1.3 ServerHello (RFC 8448 §3, the simple 1-RTT handshake): TLS_AES_128_GCM_SHA256, X25519.
    @Test func serverHelloGivesCipherAndGroup() {
        let random = [UInt8](repeating: 0xAB, count: 32)
        let extensions: [UInt8] =
            [0x00, 0x33, 0x00, 0x24, 0x00, 0x1D, 0x00, 0x20] + [UInt8](repeating: 1, count: 32)
            + [0x00, 0x2B, 0x00, 0x02, 0x03, 0x04]
        let body: [UInt8] =
            [0x03, 0x03] + random + [0x00] + [0x13, 0x01, 0x00]
            + [UInt8(extensions.count >> 8), UInt8(extensions.count & 0xFF)] + extensions
        let handshake: [UInt8] = [0x02, 0x00, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        let record: [UInt8] =
            [0x16, 0x03, 0x03, UInt8(handshake.count >> 8), UInt8(handshake.count & 0xFF)] + handshake
        var hello = ServerHello()
        // Not done on a partial record; done with the whole one.
        #expect(!ServerHelloReader.parse(Array(record.prefix(20)), into: &hello))
        #expect(ServerHelloReader.parse(record + [0x14, 0x03, 0x03, 0x00, 0x01, 0x01], into: &hello))
        #expect(hello.versionName == "TLSv1.3")
        #expect(hello.cipherSuite == 0x1301 && hello.group == 0x001D)

        let details = TLSConnectionDetails(
            version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", bits: 128, keyExchange: "X25519")
        #expect(details.summary == "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519")
        #expect(
            details.receivedComments == [
                "using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)\n\t key-exchange X25519",
                "No client certificate requested",
            ])
    }
}
