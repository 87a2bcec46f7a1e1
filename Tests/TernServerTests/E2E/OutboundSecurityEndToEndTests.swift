import Foundation
import Testing

extension DaemonEndToEnd {
    /// The smtp client's STARTTLS (smtp_tls_security_level) and AUTH (smtp_sasl_*) towards a loopback relayhost.
    @Suite struct OutboundSecurity {
        private static func certificates(names: [String]) throws -> (TestCertificates, String) {
            let directory = NSTemporaryDirectory() + "tern-tls-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chmod(directory, 0o755)
            return (try TestCertificates.make(in: directory, names: names), directory)
        }

        private static func submit(_ instance: TernInstance, token: String) throws {
            let client = try SMTPTestClient(port: instance.port)
            try client.greet()
            let end = try client.sendMail(
                from: "alice@virt.test", to: ["far@remote.example"], content: "Subject: \(token)\n\nbody\n")
            #expect(end.code == 250, "\(end)")
            #expect(try client.command("QUIT").code == 221)
        }

        @Test func mayLevelUsesSTARTTLSAndLogsATrustedConnection() throws {
            let (certificates, directory) = try Self.certificates(names: ["localhost"])
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let sink = try TLSSink(.init(certificate: (certificates.chainFile, certificates.keyFile)))
            defer { sink.stop() }
            let settings = [
                "relayhost": "[localhost]:\(sink.port)", "smtp_tls_security_level": "may",
                "smtp_tls_CAfile": certificates.caFile,
            ]
            try TernInstance.with(settings) { instance in
                let token = "tls-\(UUID().uuidString)"
                try Self.submit(instance, token: token)
                let message = try instance.waitUntil("the sink got the message") {
                    sink.messages.first { $0.data.contains(token) }
                }
                #expect(message.tls)
                try instance.waitForLogLine(
                    #"postfix/smtp\[\d+\]: Trusted TLS connection established to localhost\[127\.0\.0\.1\]:\d+: TLSv1\.[23]$"#)
                try instance.waitForLogLine(#"to=<far@remote\.example>, relay=localhost\[127\.0\.0\.1\]:\d+, .*status=sent"#)
            }
        }

        @Test func verifyLevelDefersWhenTheCertificateNameDoesNotMatch() throws {
            let (certificates, directory) = try Self.certificates(names: ["mx.other.test"])
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let sink = try TLSSink(.init(certificate: (certificates.chainFile, certificates.keyFile)))
            defer { sink.stop() }
            let settings = [
                "relayhost": "[localhost]:\(sink.port)", "smtp_tls_security_level": "verify",
                "smtp_tls_CAfile": certificates.caFile,
            ]
            try TernInstance.with(settings) { instance in
                try Self.submit(instance, token: "verify-\(UUID().uuidString)")
                try instance.waitForLogLine(#"dsn=4\.7\.5, status=deferred \(Server certificate not verified\)$"#)
                #expect(sink.messages.isEmpty)
            }
        }

        @Test func encryptLevelDefersWhenTheServerDoesNotOfferSTARTTLS() throws {
            let sink = try TLSSink(.init())
            defer { sink.stop() }
            try TernInstance.with(["relayhost": "[127.0.0.1]:\(sink.port)", "smtp_tls_security_level": "encrypt"]) {
                instance in
                try Self.submit(instance, token: "encrypt-\(UUID().uuidString)")
                try instance.waitForLogLine(
                    #"dsn=4\.7\.4, status=deferred \(TLS is required, but was not offered by host 127\.0\.0\.1\[127\.0\.0\.1\]\)$"#)
                #expect(sink.messages.isEmpty)
            }
        }

        /// The tutorial's relayhost setup: smtp_sasl_password_maps keyed by `[host]:port`, AUTH after STARTTLS.
        @Test func saslAuthenticatesOverTLSAndAWrongPasswordDefers() throws {
            let (certificates, directory) = try Self.certificates(names: ["localhost"])
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let sink = try TLSSink(
                .init(certificate: (certificates.chainFile, certificates.keyFile), account: ("alice", "s3cret:x")))
            defer { sink.stop() }
            let passwords = "\(directory)/sasl_passwd"
            try "[localhost]:\(sink.port) alice:s3cret:x\n".write(toFile: passwords, atomically: true, encoding: .utf8)
            var settings = [
                "relayhost": "[localhost]:\(sink.port)", "smtp_tls_security_level": "may",
                "smtp_tls_CAfile": certificates.caFile, "smtp_sasl_auth_enable": "yes",
                "smtp_sasl_password_maps": "texthash:\(passwords)", "smtp_sasl_security_options": "noanonymous",
            ]
            try TernInstance.with(settings) { instance in
                let token = "sasl-\(UUID().uuidString)"
                try Self.submit(instance, token: token)
                let message = try instance.waitUntil("the sink got the message") {
                    sink.messages.first { $0.data.contains(token) }
                }
                #expect(message.tls)
                #expect(message.authenticatedAs == "alice")
            }
            try "[localhost]:\(sink.port) alice:wrong\n".write(toFile: passwords, atomically: true, encoding: .utf8)
            settings["smtp_sasl_password_maps"] = "texthash:\(passwords)"
            try TernInstance.with(settings) { instance in
                try Self.submit(instance, token: "badpass-\(UUID().uuidString)")
                try instance.waitForLogLine(
                    #"status=deferred \(SASL authentication failed; server localhost\[127\.0\.0\.1\] said: 535 5\.7\.8 Error: authentication failed: authentication failure\)$"#)
            }
        }

        /// smtp_helo_timeout: a server that accepts the connection but never greets.
        @Test func silentServerTimesOutWithPostfixsText() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            #expect(bound)
            let port = Int(UInt16(bigEndian: address.sin_port))
            try TernInstance.with(["relayhost": "[127.0.0.1]:\(port)", "smtp_helo_timeout": "2s"]) { instance in
                try Self.submit(instance, token: "silent-\(UUID().uuidString)")
                try instance.waitForLogLine(
                    #"status=deferred \(conversation with 127\.0\.0\.1\[127\.0\.0\.1\] timed out while receiving the initial server greeting\)$"#)
            }
        }
    }
}
