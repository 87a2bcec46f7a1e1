import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// smtpd TLS against a real TLS client (openssl s_client): STARTTLS on the smtp service, a
    /// submission-style service with `-o smtpd_tls_security_level=encrypt`, an smtps service in wrapper mode,
    /// and one whose certificate is missing. The key file is root-only (0600): as root the daemon runs
    /// privilege-separated and the mtad gets the key from the master.
    @Suite struct SMTPTLS {
        struct Ports {
            var submission: Int
            var smtps: Int
            var broken: Int
        }

        static func withTLS(
            _ parameters: [String: String] = [:], _ body: (TernInstance, Ports) throws -> Void
        ) throws {
            try TernInstance.with(parameters, start: false) { instance in
                let certificates = try TestCertificates.make(in: instance.root, names: [TernInstance.hostname])
                chmod(certificates.keyFile, 0o600)
                for (name, value) in [
                    ("smtpd_tls_cert_file", certificates.chainFile), ("smtpd_tls_key_file", certificates.keyFile),
                    ("smtpd_tls_security_level", "may"), ("smtpd_tls_loglevel", "1"),
                    ("smtpd_tls_received_header", "yes"),
                ] {
                    instance.set(name, value)
                }
                try instance.writeMainCF()
                let ports = Ports(
                    submission: try PortAllocator.claim(), smtps: try PortAllocator.claim(),
                    broken: try PortAllocator.claim())
                defer { [ports.submission, ports.smtps, ports.broken].forEach(PortAllocator.release) }
                let master =
                    TernInstance.masterCF(port: instance.port) + """
                        127.0.0.1:\(ports.submission) inet n - n - - smtpd
                          -o syslog_name=postfix/submission
                          -o smtpd_tls_security_level=encrypt
                          -o smtpd_tls_auth_only=yes
                        127.0.0.1:\(ports.smtps) inet n - n - - smtpd
                          -o syslog_name=postfix/smtps
                          -o smtpd_tls_wrappermode=yes
                        127.0.0.1:\(ports.broken) inet n - n - - smtpd
                          -o smtpd_tls_cert_file=\(instance.root)/missing.pem

                        """
                try master.write(toFile: instance.configDirectory + "/master.cf", atomically: true, encoding: .utf8)
                try instance.start()
                for port in [ports.submission, ports.smtps, ports.broken] {
                    _ = try instance.waitUntil("port \(port)", timeout: 15) {
                        TernInstance.portAccepts(port) ? true : nil
                    }
                }
                try body(instance, ports)
            }
        }

        /// openssl s_client with `input` written to it (then it waits for the server to close); its output.
        static func sClient(port: Int, startTLS: Bool, input: String, timeout: Double = 30) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-crlf", "-ign_eof", "-servername", "x"]
                + (startTLS ? ["-starttls", "smtp"] : [])
            let stdin = Pipe()
            let stdout = Pipe()
            process.standardInput = stdin
            process.standardOutput = stdout
            process.standardError = stdout
            try process.run()
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            return String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }

        @Test func starttlsCarriesAMessageAndTheReceivedHeaderSaysSo() throws {
            try Self.withTLS { instance, _ in
                let token = "tls-\(UUID().uuidString)"
                let output = try Self.sClient(
                    port: instance.port, startTLS: true,
                    input:
                        "EHLO client.e2e.test\nMAIL FROM:<alice@e2e.test>\nRCPT TO:<bob@virt.test>\nDATA\n"
                        + "Subject: \(token)\n\nover tls\n.\nQUIT\n")
                #expect(output.contains("250 2.0.0 Ok: queued as"), "\(output)")
                #expect(output.contains("221 2.0.0 Bye"), "\(output)")
                // After TLS, EHLO no longer offers STARTTLS (s_client prints only what came after the handshake).
                #expect(output.contains("250-PIPELINING") && !output.contains("STARTTLS"), "\(output)")

                let message = try instance.waitForMessage("bob", containing: token)
                let header = message.content.components(separatedBy: "\n\n").first ?? ""
                let received = header.replacingOccurrences(of: "\n\t", with: " ")
                #expect(received.contains("with ESMTPS id"), "\(header)")
                #expect(
                    received.range(
                        of: #"\(using TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)"#, options: .regularExpression)
                        != nil, "\(header)")
                #expect(received.contains("(No client certificate requested)"), "\(header)")
                let client = #"localhost\[127\.0\.0\.1\]"#
                try instance.waitForLogLine(
                    #"smtpd\[\d+\]: Anonymous TLS connection established from "# + client
                        + #": TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)"#)
                try instance.waitForLogLine(
                    "disconnect from " + client + " ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7$")
            }
        }

        @Test func encryptRefusesMailUntilSTARTTLSAndDropsPipelinedPlaintext() throws {
            try Self.withTLS { instance, ports in
                let client = try SMTPTestClient(port: ports.submission, timeout: 3)
                let ehlo = try client.greet()
                #expect(ehlo.lines.contains("STARTTLS"), "\(ehlo)")
                let refused = try client.command("MAIL FROM:<x@client.e2e.test>")
                #expect(refused.description == "530 5.7.0 Must issue a STARTTLS command first")
                #expect(try client.command("STARTTLS extra").description == "501 5.5.4 Syntax: STARTTLS")
                // CVE-2011-0411: the NOOP sent in plaintext with STARTTLS gets no plaintext reply.
                try client.send("STARTTLS\r\nNOOP\r\n")
                #expect(try client.readReply().description == "220 2.0.0 Ready to start TLS")
                #expect(throws: SMTPTestError.self) { try client.readReply() }
                client.close()
                try instance.waitForLogLine(#"lost connection after STARTTLS from localhost\[127\.0\.0\.1\]"#)

                let output = try Self.sClient(
                    port: ports.submission, startTLS: true,
                    input: "EHLO client.e2e.test\nMAIL FROM:<x@client.e2e.test>\nQUIT\n")
                #expect(output.contains("250 2.1.0 Ok"), "\(output)")
            }
        }

        @Test func wrapperModeHandshakesBeforeTheGreeting() throws {
            try Self.withTLS { instance, ports in
                let output = try Self.sClient(
                    port: ports.smtps, startTLS: false,
                    input: "EHLO client.e2e.test\nSTARTTLS\nMAIL FROM:<x@client.e2e.test>\nQUIT\n")
                #expect(output.contains("220 \(TernInstance.hostname) ESMTP"), "\(output)")
                #expect(!output.contains("250-STARTTLS"), "\(output)")
                #expect(output.contains("554 5.5.1 Error: TLS already active"), "\(output)")
                #expect(output.contains("250 2.1.0 Ok"), "\(output)")

                // A plaintext client gets no greeting.
                let plain = try SMTPTestClient(port: ports.smtps, timeout: 2)
                #expect(throws: SMTPTestError.self) { try plain.readReply() }
            }
        }

        /// A renewed certificate (same file names, root-only key) is served after `postfix reload`: the
        /// master reads the files again and hands them over.
        @Test func reloadServesARenewedCertificate() throws {
            try Self.withTLS { instance, _ in
                let before = try Self.sClient(port: instance.port, startTLS: true, input: "QUIT\n")
                #expect(
                    before.contains("CN=\(TernInstance.hostname)") || before.contains("CN = \(TernInstance.hostname)"))
                let renewed = instance.root + "/renewed"
                try FileManager.default.createDirectory(atPath: renewed, withIntermediateDirectories: true)
                let next = try TestCertificates.make(in: renewed, names: ["renewed.e2e.test"])
                for (from, to) in [(next.chainFile, "server.pem"), (next.keyFile, "server.key")] {
                    let target = instance.root + "/" + to
                    try FileManager.default.removeItem(atPath: target)
                    try FileManager.default.copyItem(atPath: from, toPath: target)
                    chmod(target, 0o600)
                }
                #expect(try instance.postfix("reload").status == 0)
                try instance.waitForLogLine(#"postfix/master\[\d+\]: reload -- version "#)
                let after = try Self.sClient(port: instance.port, startTLS: true, input: "QUIT\n")
                #expect(after.contains("renewed.e2e.test"), "\(after)")
                #expect(after.contains("221 2.0.0 Bye"), "\(after)")
            }
        }

        @Test func missingCertificateMeansTLSNotAvailable() throws {
            try Self.withTLS { instance, ports in
                let client = try SMTPTestClient(port: ports.broken)
                #expect(try client.greet().lines.contains("STARTTLS"))
                #expect(
                    try client.command("STARTTLS").description == "454 4.7.0 TLS not available due to local problem")
                #expect(try client.command("MAIL FROM:<x@client.e2e.test>").code == 250)
                try instance.waitForLogLine(
                    #"warning: cannot get certificate from file ".*missing\.pem": disabling TLS support"#)
            }
        }
    }
}
