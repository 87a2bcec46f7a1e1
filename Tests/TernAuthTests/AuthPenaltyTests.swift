import Foundation
import Synchronization
import Testing

@testable import TernAuth

/// The auth penalty against Dovecot 2.3.19 on loopback (imap-login, passwd-file, auth_failure_delay = 2):
/// wrong, wrong, right took 2 s, 6 s and 8 s (4 s and 8 s of penalty before the check); the same wrong
/// password three times 2 s, 6 s, 6 s, and the right one then 4 s, the next one 0 s.
@Suite struct AuthPenaltyTests {
    final class Clock: Sendable {
        let time = Mutex(1_000_000)
        func advance(_ seconds: Int) { time.withLock { $0 += seconds } }
        var now: Int { time.withLock { $0 } }
    }

    final class Waits: Sendable {
        let list = Mutex<[Int]>([])
        var all: [Int] { list.withLock { $0 } }
    }

    let clock = Clock()
    let waits = Waits()

    func service() -> AuthService {
        let clock = self.clock
        return AuthService(
            settings: AuthSettings(),
            passdbs: [AuthServerConnectionTests.FixedPassDB(users: ["u1": "{PLAIN}pw"])],
            penalty: AuthPenalty(now: { clock.now }))
    }

    /// One PLAIN login from `ip`; returns whether it succeeded. The wait is recorded and passes on the clock.
    func login(_ service: AuthService, _ password: String, ip: String? = "192.0.2.7", noPenalty: Bool = false) async
        -> Bool
    {
        var request = AuthRequest(user: "", service: "imap", remoteIP: ip)
        request.noPenalty = noPenalty
        let waits = self.waits
        let clock = self.clock
        let outcome = await service.verifyWithPenalty(
            .verifyPassword(user: "u1", password: Array(password.utf8), authzid: nil), request: request
        ) { seconds in
            waits.list.withLock { $0.append(seconds) }
            clock.advance(seconds)
        }
        clock.advance(2)  // auth_failure_delay, or the client's next command
        if case .success = outcome { return true }
        return false
    }

    @Test func growsWithFailuresAndResetsOnSuccess() async {
        let service = service()
        #expect(await !login(service, "bad1"))
        #expect(await !login(service, "bad2"))
        #expect(await login(service, "pw"))
        #expect(waits.all == [4, 8])
        #expect(await login(service, "pw"))
        #expect(waits.all == [4, 8])
    }

    @Test func sameWrongPasswordDoesNotRaiseIt() async {
        let service = service()
        for _ in 0..<3 { #expect(await !login(service, "bad3")) }
        #expect(await login(service, "pw"))
        #expect(await login(service, "pw"))
        #expect(waits.all == [4, 4, 4])
    }

    @Test func capsAtFifteenSecondsAndDecays() {
        #expect((0...6).map(AuthPenalty.seconds(for:)) == [2, 4, 8, 15, 15, 15, 15])
        let penalty = AuthPenalty(now: { clock.now })
        for value in 1...6 { penalty.update("192.0.2.1", checksum: 0, value: value) }
        #expect(penalty.lookup("192.0.2.1") == 4)
        clock.advance(14)
        #expect(penalty.lookup("192.0.2.1") == 4)
        clock.advance(1)  // quiet as long as the highest step waits: every step goes (Dovecot's decay loop)
        #expect(penalty.lookup("192.0.2.1") == 0)
        penalty.update("192.0.2.1", checksum: 0, value: 2)
        clock.advance(29)  // AUTH_PENALTY_TIMEOUT: forgotten
        #expect(penalty.lookup("192.0.2.1") == 0)
    }

    /// Other addresses are not affected; IPv6 clients count per /48; a request without an address or with
    /// `no-penalty` is never delayed.
    @Test func perAddress() async {
        let service = service()
        #expect(await !login(service, "bad1"))
        #expect(await login(service, "pw", ip: "192.0.2.8"))
        #expect(await !login(service, "bad1", ip: nil))
        #expect(await !login(service, "bad2", ip: nil))
        #expect(await !login(service, "bad2", noPenalty: true))
        #expect(waits.all.isEmpty)
        #expect(AuthPenalty.ident("2001:db8:1:2:3::4") == "2001:db8:1::")
        #expect(AuthPenalty.ident("192.0.2.1") == "192.0.2.1")
        #expect(AuthPenalty.ident("") == nil)
    }

    /// The auth client's `no-penalty` parameter reaches the request.
    @Test func noPenaltyParameter() {
        var connection = AuthServerConnection(mechanisms: [.plain]) { [] }
        _ = connection.receive(line: "VERSION\t1\t2")
        let actions = connection.receive(
            line: "AUTH\t1\tPLAIN\tservice=imap\tno-penalty\trip=192.0.2.1\tresp=" + Data("\0u1\0pw".utf8).base64EncodedString())
        guard case .verify(_, _, _, let request)? = actions.first else {
            Issue.record("\(actions)")
            return
        }
        #expect(request.noPenalty && request.remoteIP == "192.0.2.1")
    }
}
