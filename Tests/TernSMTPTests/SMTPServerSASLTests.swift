import TernCore
import Testing

@testable import TernSMTP

/// SMTP AUTH against the state machine, with a stand-in for Dovecot's PLAIN and LOGIN (alice/secret).
/// Reply and log texts are those of Postfix 3.7.11 with smtpd_sasl_type = dovecot (Dovecot 2.3.19).
@Suite struct SMTPServerSASLTests {
    static func conversation(
        mechanisms: [String] = ["PLAIN", "LOGIN", "CRAM-MD5"],
        _ adjust: (inout SMTPServerConfiguration) -> Void = { _ in }
    ) -> SMTPServerConversation {
        var c = SMTPServerConversation.standard {
            $0.authAvailable = true
            adjust(&$0)
        }
        c.machine.saslMechanisms = mechanisms
        return c
    }

    static let alicePlain = "AGFsaWNlAHNlY3JldA=="

    @Test func ehloAnnouncesTheMechanismsAfterETRN() {
        var c = Self.conversation { $0.brokenAuthClients = true }
        let lines = c.command("EHLO x").first!.split(separator: "\r\n").map(String.init)
        #expect(
            lines == [
                "250-mail.acc.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN",
                "250-AUTH PLAIN LOGIN CRAM-MD5", "250-AUTH=PLAIN LOGIN CRAM-MD5", "250-ENHANCEDSTATUSCODES",
                "250-8BITMIME", "250-DSN", "250 SMTPUTF8",
            ])
    }

    @Test func withoutMechanismsThereIsNoAuth() {
        var c = Self.conversation(mechanisms: [])
        #expect(!c.command("EHLO x").first!.contains("AUTH"))
        #expect(c.reply("AUTH PLAIN") == "503 5.5.1 Error: authentication not enabled")
    }

    @Test func plainWithInitialResponse() {
        var c = Self.conversation()
        c.command("EHLO client.example")
        #expect(c.reply("AUTH PLAIN \(Self.alicePlain)") == "235 2.7.0 Authentication successful")
        #expect(c.machine.authenticatedUser == "alice")
        #expect(c.machine.saslMethod == "PLAIN")
        #expect(c.machine.receivedProtocolName == "ESMTPA")
        #expect(c.machine.protocolName == "ESMTP")
        #expect(c.reply("AUTH PLAIN \(Self.alicePlain)") == "503 5.5.1 Error: already authenticated")
        #expect(c.reply("AUTH") == "503 5.5.1 Error: already authenticated")
        #expect(c.reply("QUIT") == "221 2.0.0 Bye")
        #expect(c.machine.disconnectLogText == "ehlo=1 auth=1/3 quit=1 commands=3/5")
    }

    @Test func authBeforeEHLOIsAllowedUnlessHELOIsRequired() {
        var c = Self.conversation()
        #expect(c.reply("AUTH PLAIN \(Self.alicePlain)") == "235 2.7.0 Authentication successful")
        #expect(c.machine.receivedProtocolName == "SMTP")
        var strict = Self.conversation { $0.heloRequired = true }
        #expect(strict.reply("AUTH PLAIN \(Self.alicePlain)") == "503 5.5.1 Error: send HELO/EHLO first")
    }

    @Test func loginWithAndWithoutInitialResponse() {
        var c = Self.conversation()
        c.command("EHLO x")
        #expect(c.reply("AUTH LOGIN") == "334 VXNlcm5hbWU6")
        #expect(c.reply("YWxpY2U=") == "334 UGFzc3dvcmQ6")
        #expect(c.reply("c2VjcmV0") == "235 2.7.0 Authentication successful")
        #expect(c.machine.saslMethod == "LOGIN")

        var initial = Self.conversation()
        initial.command("EHLO x")
        #expect(initial.reply("AUTH LOGIN YWxpY2U=") == "334 UGFzc3dvcmQ6")
        #expect(initial.reply("c2VjcmV0") == "235 2.7.0 Authentication successful")
    }

    @Test func commandErrorsInPostfixOrder() {
        var c = Self.conversation()
        c.command("EHLO x")
        #expect(c.reply("AUTH") == "501 5.5.4 Syntax: AUTH mechanism")
        #expect(c.reply("AUTH PLAIN a b") == "501 5.5.4 Syntax: AUTH mechanism")
        #expect(c.reply("AUTH FOO !!!!") == "535 5.7.8 Error: authentication failed: Invalid authentication mechanism")
        #expect(
            c.reply("AUTH PLAIN !!!!")
                == "535 5.7.8 Error: authentication failed: Invalid base64 data in initial response")
        #expect(c.reply("MAIL FROM:<a@b.example>") == "250 2.1.0 Ok")
        #expect(c.reply("AUTH PLAIN \(Self.alicePlain)") == "503 5.5.1 Error: MAIL transaction in progress")
        #expect(
            c.warnings == [
                .saslAuthenticationFailed(method: "FOO", reason: "Invalid authentication mechanism", username: nil),
                .saslAuthenticationFailed(
                    method: "PLAIN", reason: "Invalid base64 data in initial response", username: nil),
            ])
    }

    @Test func responsesAbortedMalformedOrFailed() {
        var c = Self.conversation()
        c.command("EHLO x")
        #expect(c.reply("AUTH PLAIN") == "334 ")
        #expect(c.reply("*") == "501 5.7.0 Authentication aborted")
        #expect(c.reply("AUTH PLAIN") == "334 ")
        #expect(c.reply("=") == "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response")
        #expect(
            c.reply("AUTH plain AGFsaWNlAHdyb25n")
                == "535 5.7.8 Error: authentication failed: (reason unavailable)")
        // Like Postfix, a later failure still names the last user the auth server reported.
        #expect(c.reply("AUTH LOGIN") == "334 VXNlcm5hbWU6")
        #expect(
            c.reply("!!notb64")
                == "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response")
        #expect(
            c.warnings == [
                .saslAuthenticationAborted(method: "PLAIN"),
                .saslAuthenticationFailed(
                    method: "PLAIN", reason: "Invalid base64 data in continued response", username: nil),
                .saslAuthenticationFailed(method: "plain", reason: "(reason unavailable)", username: "alice"),
                .saslAuthenticationFailed(
                    method: "LOGIN", reason: "Invalid base64 data in continued response", username: "alice"),
            ])
        #expect(
            c.warnings[2].logText(client: "unknown[127.0.0.5]")
                == "warning: unknown[127.0.0.5]: SASL plain authentication failed: (reason unavailable), "
                + "sasl_username=alice")
        #expect(
            c.warnings[0].logText(client: "unknown[127.0.0.5]")
                == "warning: unknown[127.0.0.5]: SASL PLAIN authentication aborted")
    }

    @Test func temporaryFailureIs454() {
        var c = Self.conversation()
        c.command("EHLO x")
        #expect(
            c.reply("AUTH PLAIN AGRvd24AeA==")
                == "454 4.7.0 Temporary authentication failure: Connection lost to authentication server")
        #expect(c.machine.authenticatedUser == nil)
        #expect(c.reply("AUTH PLAIN \(Self.alicePlain)") == "235 2.7.0 Authentication successful")
    }

    @Test func overlongResponseHitsTheResponseLimit() {
        var c = Self.conversation()
        c.command("EHLO x")
        #expect(c.reply("AUTH PLAIN") == "334 ")
        // Longer than line_length_limit but within smtpd_sasl_response_limit: a normal (failed) response.
        #expect(
            c.reply(String(repeating: "A", count: 4000))
                == "535 5.7.8 Error: authentication failed: (reason unavailable)")
        #expect(c.reply("AUTH PLAIN") == "334 ")
        #expect(c.reply(String(repeating: "A", count: 13000)) == "500 5.5.6 SASL response limit exceeded")
        #expect(c.warnings.last == .requestTooLong(limit: 12288, start: String(repeating: "A", count: 30)))
        #expect(c.reply("NOOP") == "250 2.0.0 Ok")
    }

    @Test func tlsSecurityOptionsApplyAfterSTARTTLS() {
        var c = Self.conversation {
            $0.tls = SMTPServerTLSPolicy(offered: true, available: true)
        }
        c.machine.saslMechanisms = ["CRAM-MD5"]
        c.machine.saslMechanismsWithTLS = ["PLAIN", "LOGIN", "CRAM-MD5"]
        #expect(c.command("EHLO x").first!.contains("250-AUTH CRAM-MD5\r\n"))
        #expect(
            c.reply("AUTH PLAIN \(Self.alicePlain)")
                == "535 5.7.8 Error: authentication failed: Invalid authentication mechanism")
        #expect(c.reply("STARTTLS") == "220 2.0.0 Ready to start TLS")
        #expect(c.command("EHLO x").first!.contains("250-AUTH PLAIN LOGIN CRAM-MD5\r\n"))
        #expect(c.reply("AUTH PLAIN \(Self.alicePlain)") == "235 2.7.0 Authentication successful")
        #expect(c.machine.receivedProtocolName == "ESMTPSA")
    }

    @Test func securityOptionsFilterDovecotsMechanisms() {
        // The MECH lines of Dovecot 2.3 with auth_mechanisms = plain login cram-md5 anonymous.
        let announced: [(name: String, flags: [String])] = [
            ("PLAIN", ["plaintext"]), ("LOGIN", ["plaintext"]), ("CRAM-MD5", ["dictionary", "active"]),
            ("ANONYMOUS", ["anonymous"]), ("SECRET", ["private"]),
        ]
        #expect(SASLMechanismFilter(options: ["noanonymous"]).allowed(announced) == ["PLAIN", "LOGIN", "CRAM-MD5"])
        #expect(SASLMechanismFilter(options: ["noanonymous", "noplaintext"]).allowed(announced) == ["CRAM-MD5"])
        #expect(SASLMechanismFilter(options: []).allowed(announced) == ["PLAIN", "LOGIN", "CRAM-MD5", "ANONYMOUS"])
        #expect(SASLMechanismFilter(options: ["nodictionary", "noplaintext"]).allowed(announced) == ["ANONYMOUS"])
    }

    @Test func base64Validation() {
        for valid in ["", "AGFsaWNlAHNlY3JldA==", "YWxpY2U=", "c2VjcmV0"] { #expect(SASLBase64.isValid(valid)) }
        for invalid in ["=", "!!!!", "AAA", "A===", "YW=xY2U="] { #expect(!SASLBase64.isValid(invalid)) }
    }
}
