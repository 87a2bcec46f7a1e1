import Foundation
import Testing

@testable import TernIMAP

/// imap-login's answers, compared with a running Dovecot 2.3.19 (`ssl = no`, `auth_mechanisms = plain login`).
@Suite struct IMAPLoginSessionTests {
    static let configuration = IMAPLoginSession.Configuration(
        greeting: "Dovecot (Debian) ready.", mechanisms: ["PLAIN", "LOGIN"], tlsAvailable: false,
        plaintextAllowed: true)

    /// The bytes the actions send, as text; other actions by name.
    static func transcript(_ actions: [IMAPLoginSession.Action]) -> String {
        actions.map { action in
            switch action {
            case .send(let bytes): String(decoding: bytes, as: UTF8.self)
            case .startTLS: "<starttls>"
            case .login(let tag, let user, let password, let method): "<login \(tag) \(user) \(password) \(method)>"
            case .startSASL(let tag, let mechanism, let initial):
                "<sasl \(tag) \(mechanism) \(initial.map { String(decoding: $0, as: UTF8.self) } ?? "-")>"
            case .clientID(let fields): "<id \(fields.map { "\($0.key)=\($0.value ?? "NIL")" }.joined(separator: ","))>"
            case .close: "<close>"
            }
        }.joined()
    }

    /// CRAM-MD5 is the auth server's exchange: the session relays the challenge, hands the client's
    /// decoded answer over, and replies to `*` and bad base64 itself once the driver reports the end.
    @Test func serverRunMechanismsRelayChallengesAndAnswers() {
        var configuration = Self.configuration
        configuration.mechanisms = ["PLAIN", "CRAM-MD5"]
        configuration.plaintextAllowed = false
        var session = IMAPLoginSession(configuration: configuration)
        #expect(String(decoding: session.greeting(), as: UTF8.self).contains("AUTH=CRAM-MD5]"))
        #expect(Self.transcript(session.receive(Array("a AUTHENTICATE CRAM-MD5\r\n".utf8))) == "<sasl a CRAM-MD5 ->")
        #expect(Self.transcript(session.saslChallenge(Array("<1.2@host>".utf8))) == "+ PDEuMkBob3N0Pg==\r\n")
        #expect(session.takeSASLResponse() == nil, "no line yet")
        #expect(session.receive(Array("YWxpY2UgMDEy".utf8)).isEmpty, "bytes are buffered during the exchange")
        #expect(session.takeSASLResponse() == nil)
        _ = session.receive(Array("\r\n".utf8))
        #expect(session.takeSASLResponse() == .response(Array("alice 012".utf8)))
        #expect(Self.transcript(session.loginFailed()) == "a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        #expect(session.failedAttempts == 1)

        _ = session.receive(Array("b AUTHENTICATE CRAM-MD5\r\n".utf8))
        _ = session.saslChallenge(Array("<3.4@host>".utf8))
        _ = session.receive(Array("*\r\n".utf8))
        #expect(session.takeSASLResponse() == .ended)
        #expect(Self.transcript(session.loginFailed()) == "b BAD Authentication aborted by client.\r\n")
        #expect(session.failedAttempts == 1, "an abort is not a failed attempt")

        #expect(
            Self.transcript(session.receive(Array("c AUTHENTICATE CRAM-MD5 YWJj\r\n".utf8))) == "<sasl c CRAM-MD5 abc>",
            "SASL-IR goes to the auth server (which refuses it for CRAM-MD5)")
    }

    /// ID's fields go to the driver before the reply (a trusted proxy names its client with them, as
    /// webmails do with Dovecot); `ID NIL` has none.
    @Test func idFieldsGoToTheDriver() {
        var session = IMAPLoginSession(configuration: Self.configuration)
        let input = "a ID (\"x-originating-ip\" \"10.1.2.3\" \"x-session-id\" \"abc123\" \"name\" NIL)\r\nb ID NIL\r\n"
        #expect(
            Self.transcript(session.receive(Array(input.utf8)))
                == "<id x-originating-ip=10.1.2.3,x-session-id=abc123,name=NIL>* ID (\"name\" \"Dovecot\")\r\n"
                + "a OK ID completed.\r\n* ID (\"name\" \"Dovecot\")\r\nb OK ID completed.\r\n")
    }

    @Test func greetingAndPreLoginCommands() {
        var session = IMAPLoginSession(configuration: Self.configuration)
        #expect(
            String(decoding: session.greeting(), as: UTF8.self)
                == "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n")
        let input = "a CAPABILITY\r\nb NOOP\r\nc ID NIL\r\nd ENABLE CONDSTORE\r\ne STARTTLS\r\nf SELECT INBOX\r\n"
        #expect(
            Self.transcript(session.receive(Array(input.utf8)))
                == "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN\r\n"
                + "a OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
                + "b OK NOOP completed.\r\n"
                + "* ID (\"name\" \"Dovecot\")\r\nc OK ID completed.\r\n"
                + "* ENABLED\r\nd OK ENABLE ignored in non-authenticated state.\r\n"
                + "e BAD TLS support isn't enabled.\r\n"
                + "f BAD Error in IMAP command received by server.\r\n")
        #expect(
            Self.transcript(session.receive(Array("g LOGOUT\r\n".utf8)))
                == "* BYE Logging out\r\ng OK Logout completed.\r\n<close>")
    }

    @Test func loginFailsThenPipelinedCommandsContinue() {
        var session = IMAPLoginSession(configuration: Self.configuration)
        let first = session.receive(Array("a LOGIN tuser wrong\r\nb NOOP\r\n".utf8))
        #expect(first == [.login(tag: "a", user: "tuser", password: "wrong", method: "PLAIN")])
        #expect(
            Self.transcript(session.loginFailed())
                == "a NO [AUTHENTICATIONFAILED] Authentication failed.\r\nb OK NOOP completed.\r\n")
        #expect(session.failedAttempts == 1)
        #expect(session.lastUser == "tuser")
    }

    @Test func authenticateMechanisms() {
        var session = IMAPLoginSession(configuration: Self.configuration)
        #expect(
            Self.transcript(session.receive(Array("d AUTHENTICATE FOO\r\n".utf8)))
                == "d NO [ALERT] Unsupported authentication mechanism.\r\n")
        #expect(Self.transcript(session.receive(Array("e AUTHENTICATE PLAIN\r\n".utf8))) == "+ \r\n")
        #expect(Self.transcript(session.receive(Array("*\r\n".utf8))) == "e BAD Authentication aborted by client.\r\n")
        _ = session.receive(Array("f AUTHENTICATE PLAIN\r\n".utf8))
        #expect(Self.transcript(session.receive(Array("!!!\r\n".utf8))) == "f NO [ALERT] Invalid base64 in response\r\n")
        // LOGIN asks for the user name, then the password (base64 of "Username:" and "Password:").
        #expect(Self.transcript(session.receive(Array("g AUTHENTICATE LOGIN\r\n".utf8))) == "+ VXNlcm5hbWU6\r\n")
        #expect(Self.transcript(session.receive(Array("dHVzZXI=\r\n".utf8))) == "+ UGFzc3dvcmQ6\r\n")
        #expect(session.receive(Array("dHBhc3M=\r\n".utf8)) == [.login(tag: "g", user: "tuser", password: "tpass", method: "LOGIN")])
        // SASL-IR: PLAIN's credentials on the command line; what follows is kept for the mail session.
        var other = IMAPLoginSession(configuration: Self.configuration)
        #expect(
            other.receive(Array("h AUTHENTICATE PLAIN AHR1c2VyAHRwYXNz\r\ni SELECT INBOX\r\n".utf8))
                == [.login(tag: "h", user: "tuser", password: "tpass", method: "PLAIN")])
        #expect(String(decoding: other.takeBufferedBytes(), as: UTF8.self) == "i SELECT INBOX\r\n")
    }

    @Test func plaintextDisallowedUntilTLS() {
        var configuration = Self.configuration
        configuration.tlsAvailable = true
        configuration.plaintextAllowed = false
        var session = IMAPLoginSession(configuration: configuration)
        #expect(
            String(decoding: session.greeting(), as: UTF8.self)
                == "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n")
        #expect(
            Self.transcript(session.receive(Array("a LOGIN u p\r\n".utf8)))
                == "* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. "
                + "If anyone was listening, the password was exposed.\r\n"
                + "a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n")
        #expect(
            Self.transcript(session.receive(Array("b STARTTLS\r\nc NOOP\r\n".utf8)))
                == "b OK Begin TLS negotiation now.\r\n<starttls>")
        session.tlsEstablished()
        // `c NOOP` was sent before the handshake: dropped, never answered.
        #expect(session.receive([]) == [])
        #expect(session.capabilities.contains("AUTH=PLAIN") && !session.capabilities.contains("STARTTLS"))
    }
}
