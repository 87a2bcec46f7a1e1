import Testing

@testable import TernAuth

@Suite struct SASLMechanismTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// APOP's data from pop3-login: challenge NUL user NUL the 16-byte digest.
    @Test func apopTakesChallengeUserAndDigest() {
        let digest = [UInt8](repeating: 0xAB, count: 16)
        var exchange = SASLServerExchange(mechanism: .apop)
        #expect(
            exchange.start(initialResponse: bytes("<1.2.3.4@host>\0mrose\0") + digest)
                == .verifyAPOP(user: "mrose", challenge: "<1.2.3.4@host>", digest: digest))
        var short = SASLServerExchange(mechanism: .apop)
        #expect(short.start(initialResponse: bytes("<c>\0mrose\0") + digest.dropLast()) == .failed(.invalidInput))
        var noUser = SASLServerExchange(mechanism: .apop)
        #expect(noUser.start(initialResponse: bytes("<c>\0\0") + digest) == .failed(.invalidInput))
        var none = SASLServerExchange(mechanism: .apop)
        #expect(none.start(initialResponse: nil) == .failed(.invalidInput))
    }

    /// Challenges of this process, fresh, used by one successful login.
    @Test func apopChallengesAreThisServersAndUsedOnce() {
        let challenges = APOPChallenges(started: 1_000, lifetime: 600)
        let good = APOPChallenges.make(serverPID: 4660, connectionID: 3, hostname: "mx.test", now: 1_100)
        #expect(good.hasPrefix("<1234.3.44c.") && good.hasSuffix("@mx.test>"), "\(good)")
        #expect(challenges.isValid(good, serverPID: 4660, now: 1_110))
        #expect(challenges.isValid(good, serverPID: 4660, now: 1_110), "a failed try does not use it up")
        #expect(challenges.use(good, now: 1_110))
        #expect(!challenges.isValid(good, serverPID: 4660, now: 1_120), "a replay is refused")
        #expect(!challenges.use(good, now: 1_120))
        let other = APOPChallenges.make(serverPID: 4661, connectionID: 3, hostname: "mx.test", now: 1_100)
        #expect(!challenges.isValid(other, serverPID: 4660, now: 1_110), "another server's pid")
        let early = APOPChallenges.make(serverPID: 4660, connectionID: 3, hostname: "mx.test", now: 999)
        #expect(!challenges.isValid(early, serverPID: 4660, now: 1_110), "made before this server started")
        let old = APOPChallenges.make(serverPID: 4660, connectionID: 3, hostname: "mx.test", now: 1_100)
        #expect(!challenges.isValid(old, serverPID: 4660, now: 1_800), "older than the lifetime")
        #expect(!challenges.isValid("<1896.697170952@dbc.mtview.ca.us>", serverPID: 4660, now: 1_110))
    }

    @Test func plainWithInitialResponse() {
        var exchange = SASLServerExchange(mechanism: .plain)
        #expect(
            exchange.start(initialResponse: bytes("\0alice\0secret"))
                == .verifyPassword(user: "alice", password: bytes("secret"), authzid: nil))
        #expect(exchange.receive(bytes("x")) == .failed(.invalidInput))
    }

    @Test func plainWithoutInitialResponseAndAuthzid() {
        var exchange = SASLServerExchange(mechanism: .plain)
        #expect(exchange.start(initialResponse: nil) == .challenge([]))
        #expect(
            exchange.receive(bytes("admin\0alice\0pw"))
                == .verifyPassword(user: "alice", password: bytes("pw"), authzid: "admin"))
        var same = SASLServerExchange(mechanism: .plain)
        #expect(
            same.start(initialResponse: bytes("alice\0alice\0pw"))
                == .verifyPassword(user: "alice", password: bytes("pw"), authzid: nil))
    }

    @Test(arguments: ["alice\0secret", "\0\0secret", "", "a\0b\0c\0d"])
    func plainRejectsMalformedMessages(message: String) {
        var exchange = SASLServerExchange(mechanism: .plain)
        #expect(exchange.start(initialResponse: bytes(message)) == .failed(.invalidInput))
    }

    @Test func loginAsksUserThenPassword() {
        var exchange = SASLServerExchange(mechanism: .login)
        #expect(exchange.start(initialResponse: nil) == .challenge(bytes("Username:")))
        #expect(exchange.receive(bytes("alice")) == .challenge(bytes("Password:")))
        #expect(
            exchange.receive(bytes("secret")) == .verifyPassword(user: "alice", password: bytes("secret"), authzid: nil)
        )
    }

    @Test func loginTakesTheUserAsInitialResponse() {
        var exchange = SASLServerExchange(mechanism: .login)
        #expect(exchange.start(initialResponse: bytes("alice")) == .challenge(bytes("Password:")))
        #expect(exchange.receive(bytes("")) == .verifyPassword(user: "alice", password: [], authzid: nil))
    }

    @Test func loginRejectsEmptyUserAndCancels() {
        var exchange = SASLServerExchange(mechanism: .login)
        _ = exchange.start(initialResponse: nil)
        #expect(exchange.receive([]) == .failed(.invalidInput))
        var cancelled = SASLServerExchange(mechanism: .login)
        _ = cancelled.start(initialResponse: nil)
        #expect(cancelled.cancel() == .failed(.cancelled))
        #expect(cancelled.receive(bytes("alice")) == .failed(.invalidInput))
    }

    @Test func cramMD5() {
        let challenge = bytes("<1896.697170952@postoffice.reston.mci.net>")
        var exchange = SASLServerExchange(mechanism: .cramMD5, cramChallenge: challenge)
        #expect(exchange.start(initialResponse: nil) == .challenge(challenge))
        #expect(
            exchange.receive(bytes("tim b913a602c7eda7a495b4e6e7334d3890"))
                == .verifyCRAMMD5(user: "tim", challenge: challenge, digest: "b913a602c7eda7a495b4e6e7334d3890"))
        var bad = SASLServerExchange(mechanism: .cramMD5, cramChallenge: challenge)
        _ = bad.start(initialResponse: nil)
        #expect(bad.receive(bytes("tim short")) == .failed(.invalidInput))
        var early = SASLServerExchange(mechanism: .cramMD5, cramChallenge: challenge)
        #expect(early.start(initialResponse: bytes("tim x")) == .failed(.invalidInput))
    }

    @Test func garbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        for mechanism in SASLMechanism.allCases {
            for _ in 0..<200 {
                var exchange = SASLServerExchange(mechanism: mechanism, cramChallenge: [1, 2])
                let count = Int.random(in: 0...80, using: &generator)
                let junk = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = exchange.start(initialResponse: Bool.random() ? junk : nil)
                _ = exchange.receive(junk)
                _ = exchange.receive(junk)
            }
        }
    }

    @Test func variables() {
        let variables = AuthVariables(user: "Alice@Example.COM", service: "imap", remoteIP: "1.2.3.4")
        #expect(variables.expand("/var/vmail/%d/%n") == "/var/vmail/Example.COM/Alice")
        #expect(
            variables.expand("%Lu %Ud %{user} %{rip} %s %%")
                == "alice@example.com EXAMPLE.COM Alice@Example.COM 1.2.3.4 imap %")
        #expect(variables.expand("%1n/%2.1n/%n") == "A/i/Alice")
        #expect(variables.expand("%z %{nope} 100%") == "%z %{nope} 100%")
        #expect(AuthVariables(user: "bob").expand("%d|%n") == "|bob")
    }
}
