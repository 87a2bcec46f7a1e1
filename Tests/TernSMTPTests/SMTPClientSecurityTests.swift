import Testing

@testable import TernSMTP

/// STARTTLS (RFC 3207) and AUTH (RFC 4954) in the client state machine, and the SASL mechanisms.
@Suite struct SMTPClientSecurityTests {
    private func reply(_ text: String) throws -> SMTPReply {
        var parser = SMTPReplyParser()
        let replies = try parser.receive(Array((text + "\r\n").utf8))
        return try #require(replies.first)
    }

    private let envelope = SMTPClientStateMachine.Envelope(sender: "s@example.org", recipients: ["a@example.com"])
    private let credentials = SASLClientCredentials(
        username: "alice", password: "secret", mechanisms: ["CRAM-MD5"], tlsMechanisms: ["CRAM-MD5", "PLAIN", "LOGIN"])

    @Test func startTLSThenEHLOAgainThenAuthPlainThenTransaction() throws {
        var machine = SMTPClientStateMachine(
            heloName: "h", envelope: envelope, security: .init(tls: .required, credentials: credentials))
        _ = machine.received(try reply("220 mx ESMTP"))
        #expect(machine.received(try reply("250-mx\r\n250-STARTTLS\r\n250 PIPELINING")) == [.send("STARTTLS\r\n")])
        #expect(machine.received(try reply("220 2.0.0 Ready to start TLS")) == [.startTLS])
        #expect(machine.stage == .tls)
        #expect(machine.tlsEstablished() == [.send("EHLO h\r\n")])
        #expect(machine.tlsActive)
        // Over TLS PLAIN is allowed; CRAM-MD5 is not offered.
        #expect(
            machine.received(try reply("250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 PIPELINING"))
                == [.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")])
        #expect(
            machine.received(try reply("235 2.7.0 Authentication successful"))
                == [.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n")])
        #expect(machine.authenticatedWith == "PLAIN")
    }

    @Test func requiredTLSNotOfferedRefusesWithoutSendingMail() throws {
        var machine = SMTPClientStateMachine(heloName: "h", envelope: envelope, security: .init(tls: .required))
        _ = machine.received(try reply("220 mx ESMTP"))
        #expect(machine.received(try reply("250-mx\r\n250 PIPELINING")) == [.send("QUIT\r\n")])
        #expect(machine.outcomes == [.refused(.tlsNotOffered)])
    }

    @Test func opportunisticTLSGoesOnInPlaintextWhenRefusedOrNotOffered() throws {
        var machine = SMTPClientStateMachine(heloName: "h", envelope: envelope, security: .init(tls: .opportunistic))
        _ = machine.received(try reply("220 mx ESMTP"))
        #expect(machine.received(try reply("250-mx\r\n250 STARTTLS")) == [.send("STARTTLS\r\n")])
        #expect(machine.received(try reply("454 4.7.0 TLS not available")) == [.send("MAIL FROM:<s@example.org>\r\n")])
        var plain = SMTPClientStateMachine(heloName: "h", envelope: envelope, security: .init(tls: .opportunistic))
        _ = plain.received(try reply("220 mx ESMTP"))
        #expect(plain.received(try reply("250 mx")) == [.send("MAIL FROM:<s@example.org>\r\n")])
    }

    @Test func authLoginAnswersUsernameAndPasswordChallenges() throws {
        let login = SASLClientCredentials(username: "alice", password: "secret", mechanisms: ["LOGIN"], tlsMechanisms: [])
        var machine = SMTPClientStateMachine(heloName: "h", envelope: envelope, security: .init(credentials: login))
        _ = machine.received(try reply("220 mx ESMTP"))
        #expect(machine.received(try reply("250-mx\r\n250 AUTH=LOGIN")) == [.send("AUTH LOGIN\r\n")])
        #expect(machine.received(try reply("334 VXNlcm5hbWU6")) == [.send("YWxpY2U=\r\n")])
        #expect(machine.received(try reply("334 UGFzc3dvcmQ6")) == [.send("c2VjcmV0\r\n")])
        #expect(machine.received(try reply("235 2.7.0 ok")) == [.send("MAIL FROM:<s@example.org>\r\n")])
    }

    @Test func rejectedPasswordAndMissingMechanismRefuse() throws {
        var machine = SMTPClientStateMachine(heloName: "h", envelope: envelope, security: .init(credentials: credentials))
        _ = machine.received(try reply("220 mx ESMTP"))
        // Without TLS only CRAM-MD5 is allowed (smtp_sasl_security_options = noplaintext).
        #expect(machine.received(try reply("250-mx\r\n250 AUTH PLAIN LOGIN")) == [.send("QUIT\r\n")])
        #expect(machine.outcomes == [.refused(.noSASLMechanism)])

        var rejected = SMTPClientStateMachine(heloName: "h", envelope: envelope, security: .init(credentials: credentials))
        _ = rejected.received(try reply("220 mx ESMTP"))
        #expect(rejected.received(try reply("250-mx\r\n250 AUTH CRAM-MD5")) == [.send("AUTH CRAM-MD5\r\n")])
        // RFC 2195's example challenge.
        let challenge = "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
        guard case .send(let answer) = rejected.received(try reply("334 \(challenge)")).first else {
            Issue.record("no CRAM-MD5 answer")
            return
        }
        #expect(answer.hasSuffix("\r\n"))
        let failure = try reply("535 5.7.8 Error: authentication failed")
        #expect(rejected.received(failure) == [.send("QUIT\r\n")])
        #expect(rejected.outcomes == [.refused(.authenticationFailed(failure))])
    }

    @Test func cramMD5DigestMatchesRFC2195() {
        let challenge = Array("<1896.697170952@postoffice.reston.mci.net>".utf8)
        #expect(
            SASLClientCredentials.cramMD5Digest(password: "tanstaaftanstaaf", challenge: challenge)
                == "b913a602c7eda7a495b4e6e7334d3890")
    }

    @Test func securityOptionsSelectMechanisms() {
        #expect(
            SASLClientCredentials.allowedMechanisms(securityOptions: ["noplaintext", "noanonymous"], filter: [])
                == ["CRAM-MD5"])
        #expect(
            SASLClientCredentials.allowedMechanisms(securityOptions: ["noanonymous"], filter: [])
                == ["CRAM-MD5", "PLAIN", "LOGIN"])
        #expect(
            SASLClientCredentials.allowedMechanisms(securityOptions: ["noanonymous"], filter: ["plain", "login"])
                == ["PLAIN", "LOGIN"])
        #expect(SASLClientCredentials(passwordMapValue: "u:p:w", mechanisms: [], tlsMechanisms: [])?.password == "p:w")
    }
}
