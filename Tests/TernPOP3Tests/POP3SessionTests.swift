import Foundation
import Testing

@testable import TernPOP3

/// Transcripts captured from Dovecot 2.3.19 (Debian 12) on a two-message Maildir.
@Suite struct POP3SessionTests {
    private let configuration = POP3Session.Configuration(
        greeting: "Dovecot (Debian) ready.", mechanisms: ["PLAIN", "LOGIN"], tlsAvailable: true, plaintextAllowed: true)
    private let maildrop = POP3Session.Maildrop(sizes: [43, 26], uidls: ["000000016b0da6ba", "000000026b0da6ba"])

    private func loggedIn() -> POP3Session {
        var session = POP3Session(configuration: configuration)
        _ = session.received(line: "USER u1")
        _ = session.received(line: "PASS pw1")
        _ = session.loginSucceeded(user: "u1")
        _ = session.maildropOpened(maildrop)
        return session
    }

    private func reply(_ actions: [POP3Session.Action]) -> String {
        actions.compactMap { if case .send(let text) = $0 { return text } else { return nil } }.joined()
    }

    @Test func greetingAndCapabilitiesBeforeLogin() {
        var session = POP3Session(configuration: configuration)
        #expect(session.greeting() == .send("+OK Dovecot (Debian) ready.\r\n"))
        #expect(
            reply(session.received(line: "CAPA"))
                == "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n")
        #expect(reply(session.received(line: "STAT")) == "-ERR Unknown command.\r\n")
        #expect(reply(session.received(line: "PASS pw1")) == "-ERR No username given.\r\n")
        #expect(reply(session.received(line: "AUTH")) == "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n")
        #expect(reply(session.received(line: "AUTH FOO")) == "-ERR [AUTH] Unsupported authentication mechanism.\r\n")
        #expect(session.received(line: "QUIT") == [.send("+OK Logging out\r\n"), .close])
    }

    /// login_trusted_networks (Dovecot 2.3.19 from 127.0.0.2 with `login_trusted_networks = 127.0.0.2/32`, and
    /// from 127.0.0.1): `[XCLIENT]` in the greeting, XCLIENT obeyed only from a trusted address.
    @Test func xclientFromTrustedNetworks() {
        var untrusted = POP3Session(configuration: configuration)
        #expect(
            reply(untrusted.received(line: "XCLIENT ADDR=10.4.5.6 PORT=555 SESSION=xyz TTL=3"))
                == "+OK You are not from trusted IP - ignoring\r\n")
        var trustedConfiguration = configuration
        trustedConfiguration.trusted = true
        var trusted = POP3Session(configuration: trustedConfiguration)
        #expect(trusted.greeting() == .send("+OK [XCLIENT] Dovecot (Debian) ready.\r\n"))
        #expect(
            trusted.received(line: "XCLIENT ADDR=10.4.5.6 PORT=555 SESSION=xyz TTL=3")
                == [.forward(.init(address: "10.4.5.6", port: 555, sessionID: "xyz")), .send("+OK Updated\r\n")])
        #expect(reply(trusted.received(line: "XCLIENT ADDR=nowhere")) == "-ERR Invalid parameters\r\n")
        #expect(reply(trusted.received(line: "XCLIENT PORT=70000")) == "-ERR Invalid parameters\r\n")
        let longSession = String(repeating: "s", count: 65)
        #expect(
            trusted.received(line: "xclient addr=::1 SESSION=\(longSession) FORWARD=eA==")
                == [.forward(.init(address: "::1")), .send("+OK Updated\r\n")])
        #expect(reply(trusted.received(line: "CAPA")) == reply(untrusted.received(line: "CAPA")))
    }

    /// APOP with the greeting's challenge (RFC 1939 §7's example digest); the auth server checks it.
    @Test func apopSendsChallengeUserAndDigestToTheAuthServer() {
        var plain = POP3Session(configuration: configuration)
        #expect(reply(plain.received(line: "APOP mrose c4c9334bac560ecc979e58001b3e22fb")) == "-ERR APOP not enabled.\r\n")
        var enabled = configuration
        enabled.apopChallenge = "<1896.697170952@dbc.mtview.ca.us>"
        var session = POP3Session(configuration: enabled)
        #expect(session.greeting() == .send("+OK Dovecot (Debian) ready. <1896.697170952@dbc.mtview.ca.us>\r\n"))
        #expect(reply(session.received(line: "APOP mrose")) == "-ERR Invalid parameters.\r\n")
        #expect(
            reply(session.received(line: "APOP mrose c4c9334bac560ecc979e58001b3e22fX"))
                == "-ERR Invalid characters in MD5 response.\r\n")
        let digest: [UInt8] = [
            0xc4, 0xc9, 0x33, 0x4b, 0xac, 0x56, 0x0e, 0xcc, 0x97, 0x9e, 0x58, 0x00, 0x1b, 0x3e, 0x22, 0xfb,
        ]
        let data = Array("<1896.697170952@dbc.mtview.ca.us>\0mrose\0".utf8) + digest
        #expect(
            session.received(line: "APOP mrose c4c9334bac560ecc979e58001b3e22fb")
                == [.startSASL(mechanism: "APOP", initialResponse: Data(data).base64EncodedString())])
        #expect(session.loginFailed() == [.send("-ERR [AUTH] Authentication failed.\r\n")])
    }

    @Test func userPassLoginOpensTheMaildrop() {
        var session = POP3Session(configuration: configuration)
        #expect(session.received(line: "USER u1") == [.send("+OK\r\n")])
        #expect(session.received(line: "PASS pw1") == [.checkPassword(user: "u1", password: "pw1")])
        #expect(session.loginFailed() == [.send("-ERR [AUTH] Authentication failed.\r\n")])
        #expect(session.received(line: "PASS pw1") == [.send("-ERR No username given.\r\n")])
        _ = session.received(line: "USER u1")
        _ = session.received(line: "PASS pw1")
        #expect(session.loginSucceeded(user: "u1") == [.openMaildrop(user: "u1")])
        #expect(session.maildropOpened(maildrop) == [.send("+OK Logged in.\r\n")])
        #expect(session.state == .transaction)
    }

    @Test func plaintextRefusedOnAnInsecureConnectionUntilSTLS() {
        var insecure = configuration
        insecure.plaintextAllowed = false
        var session = POP3Session(configuration: insecure)
        #expect(
            reply(session.received(line: "CAPA"))
                == "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nSASL\r\n.\r\n")
        let refused = "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
        #expect(reply(session.received(line: "USER u1")) == refused)
        #expect(reply(session.received(line: "PASS pw1")) == refused)
        #expect(reply(session.received(line: "AUTH PLAIN AHUxAHB3MQ==")) == "-ERR [AUTH] Plaintext authentication disabled.\r\n")
        #expect(session.received(line: "STLS") == [.send("+OK Begin TLS negotiation now.\r\n"), .startTLS])
        session.tlsEstablished()
        #expect(session.received(line: "USER u1") == [.send("+OK\r\n")])
        #expect(reply(session.received(line: "STLS")) == "-ERR Unknown command: STLS\r\n")
    }

    @Test func saslExchangeWithChallengesAndAbort() {
        var session = POP3Session(configuration: configuration)
        #expect(session.received(line: "AUTH PLAIN") == [.startSASL(mechanism: "PLAIN", initialResponse: nil)])
        #expect(session.saslChallenge("") == [.send("+ \r\n")])
        #expect(session.received(line: "*") == [.abortSASL, .send("-ERR Authentication aborted by client.\r\n")])
        #expect(session.received(line: "AUTH PLAIN =") == [.startSASL(mechanism: "PLAIN", initialResponse: "")])
        #expect(session.loginFailed() == [.send("-ERR [AUTH] Authentication failed.\r\n")])
        #expect(session.received(line: "AUTH LOGIN") == [.startSASL(mechanism: "LOGIN", initialResponse: nil)])
        #expect(session.saslChallenge("VXNlcm5hbWU6") == [.send("+ VXNlcm5hbWU6\r\n")])
        #expect(session.received(line: "dTE=") == [.continueSASL("dTE=")])
        #expect(session.loginSucceeded(user: "u1") == [.openMaildrop(user: "u1")])
    }

    @Test func transactionCommandsAnswerLikeDovecot() {
        var session = loggedIn()
        #expect(reply(session.received(line: "STAT")) == "+OK 2 69\r\n")
        #expect(reply(session.received(line: "STAT x")) == "+OK 2 69\r\n")
        #expect(reply(session.received(line: "LIST")) == "+OK 2 messages:\r\n1 43\r\n2 26\r\n.\r\n")
        #expect(reply(session.received(line: "LIST 2")) == "+OK 2 26\r\n")
        #expect(reply(session.received(line: "LIST 9")) == "-ERR There's no message 9.\r\n")
        #expect(reply(session.received(line: "LIST 0")) == "-ERR There's no message 0.\r\n")
        #expect(reply(session.received(line: "LIST -1")) == "-ERR Invalid message number: -1\r\n")
        #expect(reply(session.received(line: "UIDL")) == "+OK\r\n1 000000016b0da6ba\r\n2 000000026b0da6ba\r\n.\r\n")
        #expect(reply(session.received(line: "UIDL 1")) == "+OK 1 000000016b0da6ba\r\n")
        #expect(session.received(line: "TOP 1 0") == [.send("+OK\r\n"), .sendMessage(index: 0, bodyLines: 0)])
        #expect(session.received(line: "RETR 1") == [.send("+OK 43 octets\r\n"), .sendMessage(index: 0, bodyLines: nil)])
        #expect(reply(session.received(line: "TOP 1")) == "-ERR Noise after message number: \r\n")
        #expect(reply(session.received(line: "TOP 1 2 3")) == "-ERR Noise after size:  3\r\n")
        #expect(reply(session.received(line: "TOP 1 x")) == "-ERR Invalid size: x\r\n")
        #expect(reply(session.received(line: "RETR 1 2")) == "-ERR Noise after message number:  2\r\n")
        #expect(reply(session.received(line: "RETR")) == "-ERR Invalid message number: \r\n")
        #expect(reply(session.received(line: "DELE 1")) == "+OK Marked to be deleted.\r\n")
        #expect(reply(session.received(line: "DELE 1")) == "-ERR Message is deleted.\r\n")
        #expect(reply(session.received(line: "RETR 1")) == "-ERR Message is deleted.\r\n")
        #expect(reply(session.received(line: "STAT")) == "+OK 1 26\r\n")
        #expect(reply(session.received(line: "LIST")) == "+OK 1 messages:\r\n2 26\r\n.\r\n")
        #expect(reply(session.received(line: "RSET")) == "+OK\r\n")
        #expect(reply(session.received(line: "STAT")) == "+OK 2 69\r\n")
        #expect(reply(session.received(line: "LAST")) == "-ERR Unknown command: LAST\r\n")
        #expect(reply(session.received(line: "NOOP x")) == "+OK\r\n")
        #expect(reply(session.received(line: "USER x")) == "-ERR Unknown command: USER\r\n")
        _ = session.received(line: "DELE 2")
        #expect(
            session.received(line: "QUIT")
                == [.commit(deleted: [1]), .send("+OK Logging out, messages deleted.\r\n"), .close])
        #expect(session.statistics.retrCount == 1 && session.statistics.retrBytes == 43)
        #expect(session.statistics.deletedCount == 1 && session.statistics.totalSize == 69)
    }

    @Test func quitWithoutDeletionsKeepsEverything() {
        var session = loggedIn()
        #expect(session.received(line: "QUIT") == [.send("+OK Logging out.\r\n"), .close])
        #expect(session.received(line: "STAT") == [])
    }
}
