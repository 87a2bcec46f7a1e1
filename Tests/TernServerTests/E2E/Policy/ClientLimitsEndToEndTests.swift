import Foundation
import Testing

extension DaemonEndToEnd {
    /// smtpd's anvil limits and error limits through real sockets. Replies and log lines are those of
    /// Postfix 3.7.11 (checked against it on loopback). The test client connects from 127.0.0.1, which the
    /// default smtpd_client_event_limit_exceptions ($mynetworks) exempts, so most tests empty the list.
    @Suite struct ClientLimits {
        static let client = #"[^\s\[]+\[127\.0\.0\.1\]"#

        @Test func connectionCountLimitRefusesTheConnectionOverIt() throws {
            try TernInstance.with([
                "smtpd_client_connection_count_limit": "2", "smtpd_client_event_limit_exceptions": "",
            ]) { instance in
                // start() checked the port with a connection of its own; it counts until its session ends
                // (when the session got going at all: then it logs an empty disconnect).
                let emptyDisconnect = #"disconnect from "# + Self.client + #" commands=0/0$"#
                func emptyDisconnects() -> Int {
                    instance.maillog().split(separator: "\n").filter {
                        $0.range(of: emptyDisconnect, options: .regularExpression) != nil
                    }.count
                }
                _ = try? instance.waitForLogLine(emptyDisconnect, timeout: 5)
                let probes = emptyDisconnects()
                let first = try SMTPTestClient(port: instance.port)
                #expect(try first.readReply().code == 220)
                let second = try SMTPTestClient(port: instance.port)
                #expect(try second.readReply().code == 220)
                let third = try SMTPTestClient(port: instance.port)
                #expect(
                    try third.readReply().description
                        == "421 4.7.0 mail.e2e.test Error: too many connections from 127.0.0.1")
                #expect(third.waitForClose())
                try instance.waitForLogLine(
                    #"warning: Connection concurrency limit exceeded: 3 from "# + Self.client
                        + #" for service 127\.0\.0\.1:\#(instance.port)$"#)
                _ = try instance.waitUntil("the refused client's disconnect line", timeout: 15) { () -> Bool? in
                    emptyDisconnects() > probes ? true : nil
                }
                // A closed session makes room again.
                #expect(try first.command("QUIT").code == 221)
                _ = try instance.waitUntil("a free connection slot", timeout: 15) { () -> Bool? in
                    let next = try SMTPTestClient(port: instance.port)
                    defer { next.close() }
                    return try next.readReply().code == 220 ? true : nil
                }
            }
        }

        @Test func connectionRateLimitCountsEveryConnectionInTheTimeUnit() throws {
            try TernInstance.with([
                "smtpd_client_connection_rate_limit": "2", "smtpd_client_event_limit_exceptions": "",
                "anvil_rate_time_unit": "3600s",
            ]) { instance in
                // The start-up probe (TernInstance.start) counts as a connection too, when its session got
                // going before it hung up: connect until one is refused. The refused one is the third.
                let refused = try Self.connectUntilRefused(port: instance.port, attempts: 4)
                #expect((1...2).contains(refused.accepted))
                #expect(refused.reply == "421 4.7.0 mail.e2e.test Error: too many connections from 127.0.0.1")
                try instance.waitForLogLine(
                    #"warning: Connection rate limit exceeded: 3 from "# + Self.client
                        + #" for service 127\.0\.0\.1:\#(instance.port)$"#)
            }
        }

        /// Opens connections one after the other (each ends with QUIT) until one is refused.
        static func connectUntilRefused(port: Int, attempts: Int) throws -> (accepted: Int, reply: String) {
            for attempt in 0..<attempts {
                let client = try SMTPTestClient(port: port)
                let greeting = try client.readReply()
                guard greeting.code == 220 else {
                    #expect(client.waitForClose())
                    return (attempt, greeting.description)
                }
                #expect(try client.command("QUIT").code == 221)
            }
            return (attempts, "no connection was refused")
        }

        @Test func messageAndRecipientRateLimits() throws {
            try TernInstance.with([
                "smtpd_client_message_rate_limit": "2", "smtpd_client_recipient_rate_limit": "3",
                "smtpd_client_event_limit_exceptions": "",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                #expect(try client.command("MAIL FROM:<a@client.e2e.test>").code == 250)
                for name in ["alice", "bob", "alice"] {
                    #expect(try client.command("RCPT TO:<\(name)@virt.test>").code == 250)
                }
                let overRecipients = "450 4.7.1 Error: too many recipients from 127.0.0.1"
                #expect(try client.command("RCPT TO:<bob@virt.test>").description == overRecipients)
                // The count comes before the address is parsed, as in Postfix.
                #expect(try client.command("RCPT TO:<bad").description == overRecipients)
                #expect(try client.command("RSET").code == 250)
                #expect(try client.command("MAIL FROM:<a@client.e2e.test>").code == 250)
                #expect(try client.command("RSET").code == 250)
                let overMail = "450 4.7.1 Error: too much mail from 127.0.0.1"
                #expect(try client.command("MAIL FROM:<a@client.e2e.test>").description == overMail)
                #expect(try client.command("MAIL FRM:<x>").description == "501 5.5.4 Syntax: MAIL FROM:<address>")
                #expect(try client.command("QUIT").code == 221)
                let service = #" for service 127\.0\.0\.1:\#(instance.port)$"#
                try instance.waitForLogLine(
                    #"warning: Recipient address rate limit exceeded: 5 from "# + Self.client + service)
                try instance.waitForLogLine(
                    #"warning: Message delivery request rate limit exceeded: 3 from "# + Self.client + service)
                try instance.waitForLogLine(
                    #"disconnect from "# + Self.client + #" ehlo=1 mail=2/4 rcpt=3/5 rset=2 quit=1 commands=9/13$"#)
            }
        }

        /// The default exceptions are $mynetworks: 127.0.0.1 is not limited, 127.0.0.2 (outside) is.
        @Test func clientsInTheExceptionsAreNotLimited() throws {
            try TernInstance.with([
                "mynetworks": "127.0.0.1/32", "smtpd_client_connection_count_limit": "1",
                "smtpd_client_message_rate_limit": "1",
            ]) { instance in
                let inside = try (0..<2).map { _ in try SMTPTestClient(port: instance.port) }
                for client in inside { #expect(try client.readReply().code == 220) }
                #expect(try inside[0].command("EHLO client.e2e.test").code == 250)
                for _ in 0..<3 {
                    #expect(try inside[0].command("MAIL FROM:<a@client.e2e.test>").code == 250)
                    #expect(try inside[0].command("RSET").code == 250)
                }
                let outside = try SMTPTestClient(port: instance.port, source: "127.0.0.2")
                #expect(try outside.readReply().code == 220)
                let second = try SMTPTestClient(port: instance.port, source: "127.0.0.2")
                #expect(
                    try second.readReply().description
                        == "421 4.7.0 mail.e2e.test Error: too many connections from 127.0.0.2")
                #expect(try outside.command("EHLO client.e2e.test").code == 250)
                #expect(try outside.command("MAIL FROM:<a@client.e2e.test>").code == 250)
                #expect(try outside.command("RSET").code == 250)
                #expect(
                    try outside.command("MAIL FROM:<a@client.e2e.test>").description
                        == "450 4.7.1 Error: too much mail from 127.0.0.2")
                for client in inside { #expect(try client.command("QUIT").code == 221) }
                #expect(try outside.command("QUIT").code == 221)
            }
        }

        /// Limits follow master.cf `-o` overrides, and anvil counts each service on its own.
        @Test func limitsArePerServiceWithOverrides() throws {
            let other = try PortAllocator.claim()
            defer { PortAllocator.release(other) }
            try TernInstance.with(
                ["smtpd_client_event_limit_exceptions": "", "smtpd_client_connection_rate_limit": "4"], start: false
            ) { instance in
                let master =
                    TernInstance.masterCF(port: instance.port)
                    + "127.0.0.1:\(other) inet n - n - - smtpd\n  -o smtpd_client_connection_rate_limit=1\n"
                try master.write(toFile: instance.configDirectory + "/master.cf", atomically: true, encoding: .utf8)
                try instance.start()
                _ = try instance.waitUntil("the second listener", timeout: 15) {
                    TernInstance.portAccepts(other) ? true : nil
                }
                let refused = try Self.connectUntilRefused(port: other, attempts: 3)
                #expect(refused.reply == "421 4.7.0 mail.e2e.test Error: too many connections from 127.0.0.1")
                try instance.waitForLogLine(
                    #"warning: Connection rate limit exceeded: 2 from "# + Self.client
                        + #" for service 127\.0\.0\.1:\#(other)$"#)
                // The main service has its own limit (4) and its own count (the start-up probe, maybe, plus 3).
                for _ in 0..<3 {
                    let client = try SMTPTestClient(port: instance.port)
                    #expect(try client.readReply().code == 220)
                    #expect(try client.command("QUIT").code == 221)
                }
            }
        }

        @Test func authRateLimitCountsEveryAuthCommand() throws {
            var parameters = SMTPAuth.saslParameters
            parameters["smtpd_client_auth_rate_limit"] = "2"
            parameters["mynetworks"] = "127.0.0.2/32"
            try SMTPAuth.withAuthServer(parameters) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let failed = try client.command("AUTH PLAIN AGFsaWNlAHdyb25n")
                #expect(failed.code == 535, "\(failed)")
                #expect(try client.command("AUTH").description == "501 5.5.4 Syntax: AUTH mechanism")
                let over = "450 4.7.1 Error: too many AUTH commands from 127.0.0.1"
                #expect(try client.command("AUTH PLAIN \(SMTPAuth.alicePlain)").description == over)
                #expect(try client.command("QUIT").code == 221)
                try instance.waitForLogLine(
                    #"warning: AUTH command rate limit exceeded: 3 from "# + Self.client
                        + #" for service 127\.0\.0\.1:\#(instance.port)$"#)
            }
        }

        /// smtpd_client_new_tls_session_rate_limit: the session over the limit is told after its handshake
        /// (421 over TLS), a later STARTTLS is refused before it (454).
        @Test func newTLSSessionRateLimit() throws {
            try SMTPTLS.withTLS([
                "smtpd_client_new_tls_session_rate_limit": "1", "smtpd_client_event_limit_exceptions": "",
            ]) { instance, _ in
                let first = try SMTPTLS.sClient(
                    port: instance.port, startTLS: true, input: "EHLO client.e2e.test\nQUIT\n")
                #expect(first.contains("221 2.0.0 Bye"), "\(first)")
                // The second session is over the limit once its handshake is done: 421 over TLS, then close.
                let second = try SMTPTLS.sClient(port: instance.port, startTLS: true, input: "EHLO client.e2e.test\n")
                let over = #"421 4\.7\.0 mail\.e2e\.test Error: too many new TLS sessions from \S+\[127\.0\.0\.1\]"#
                #expect(second.range(of: over, options: .regularExpression) != nil, "\(second)")
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let refused = try client.command("STARTTLS")
                #expect(refused.code == 454, "\(refused)")
                #expect(refused.last.hasPrefix("4.7.0 Error: too many new TLS sessions from "), "\(refused)")
                #expect(try client.command("QUIT").code == 221)
                try instance.waitForLogLine(
                    #"warning: New TLS session rate limit exceeded: 2 from "# + Self.client
                        + #" for service 127\.0\.0\.1:\#(instance.port)$"#)
                try instance.waitForLogLine(
                    #"warning: Refusing STARTTLS request from "# + Self.client
                        + #" for service 127\.0\.0\.1:\#(instance.port)$"#)
                try instance.waitForLogLine(#"disconnect from "# + Self.client + #" ehlo=1 starttls=0/1 commands=1/2$"#)
            }
        }

        /// smtpd_soft_error_limit delays replies by smtpd_error_sleep_time; smtpd_hard_error_limit ends the
        /// session with 421 and Postfix's `too many errors after ...` log line.
        @Test func errorLimitsDelayThenDisconnect() throws {
            try TernInstance.with([
                "smtpd_soft_error_limit": "2", "smtpd_hard_error_limit": "3", "smtpd_error_sleep_time": "1s",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port, timeout: 20)
                #expect(try client.readReply().code == 220)
                #expect(try client.command("FOO").description == "500 5.5.2 Error: command not recognized")
                #expect(try client.command("BAR").code == 500)
                let start = Date()
                #expect(try client.command("BAZ").description == "500 5.5.2 Error: command not recognized")
                // Two errors made: this reply waited smtpd_error_sleep_time (a lower bound, not a speed check).
                #expect(Date().timeIntervalSince(start) >= 0.9)
                #expect(try client.readReply().description == "421 4.7.0 mail.e2e.test Error: too many errors")
                #expect(client.waitForClose())
                try instance.waitForLogLine(#"too many errors after UNKNOWN from "# + Self.client + "$")
                try instance.waitForLogLine(#"disconnect from "# + Self.client + #" unknown=0/3 commands=0/3$"#)
            }
        }
    }
}
