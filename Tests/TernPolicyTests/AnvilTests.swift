import Synchronization
import TernCore
import Testing

@testable import TernPolicy

/// anvil(8)'s counters with a clock the test moves: Postfix 3.7's window rules (one window per client for
/// all rates, restarted by the first event after it), per service and per client, and the expiry of idle
/// clients.
@Suite struct AnvilTests {
    final class TestClock: Sendable {
        let seconds = Mutex(1000.0)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
        var now: @Sendable () -> Double { { self.seconds.withLock { $0 } } }
    }

    static func pair(_ result: (count: Int, rate: Int)) -> [Int] { [result.count, result.rate] }

    @Test func connectionsCountWhileOpenAndRatePerWindow() {
        let clock = TestClock()
        let anvil = Anvil(timeUnit: 60, now: clock.now)
        #expect(Self.pair(anvil.connect(service: "smtp", client: "192.0.2.1")) == [1, 1])
        #expect(Self.pair(anvil.connect(service: "smtp", client: "192.0.2.1")) == [2, 2])
        anvil.disconnect(service: "smtp", client: "192.0.2.1")
        // The rate remembers the closed connection; the count does not.
        #expect(Self.pair(anvil.connect(service: "smtp", client: "192.0.2.1")) == [2, 3])
        // Other clients and other services have their own counters.
        #expect(Self.pair(anvil.connect(service: "smtp", client: "192.0.2.2")) == [1, 1])
        #expect(Self.pair(anvil.connect(service: "submission", client: "192.0.2.1")) == [1, 1])
    }

    @Test func theWindowRestartsWithTheFirstEventAfterOneTimeUnit() {
        let clock = TestClock()
        let anvil = Anvil(timeUnit: 60, now: clock.now)
        #expect(anvil.count(.message, service: "smtp", client: "192.0.2.1") == 1)
        clock.advance(30)
        #expect(anvil.count(.message, service: "smtp", client: "192.0.2.1") == 2)
        #expect(anvil.count(.recipient, service: "smtp", client: "192.0.2.1") == 1)
        // start + unit is still the same window (anvil resets when start + unit < now).
        clock.advance(30)
        #expect(anvil.count(.message, service: "smtp", client: "192.0.2.1") == 3)
        clock.advance(1)
        // All rates of the client restart together.
        #expect(anvil.count(.message, service: "smtp", client: "192.0.2.1") == 1)
        #expect(anvil.count(.recipient, service: "smtp", client: "192.0.2.1") == 1)
    }

    @Test func theNewTLSSessionRateCanBeReadWithoutCounting() {
        let clock = TestClock()
        let anvil = Anvil(timeUnit: 10, now: clock.now)
        #expect(anvil.rate(.newTLSSession, service: "smtp", client: "192.0.2.1") == 0)
        #expect(anvil.count(.newTLSSession, service: "smtp", client: "192.0.2.1") == 1)
        #expect(anvil.count(.newTLSSession, service: "smtp", client: "192.0.2.1") == 2)
        #expect(anvil.rate(.newTLSSession, service: "smtp", client: "192.0.2.1") == 2)
        clock.advance(11)
        #expect(anvil.rate(.newTLSSession, service: "smtp", client: "192.0.2.1") == 0)
    }

    @Test func idleClientsAreForgottenAndConnectedOnesKept() {
        let clock = TestClock()
        let anvil = Anvil(timeUnit: 60, now: clock.now)
        for n in 1...100 { _ = anvil.count(.auth, service: "smtp", client: "192.0.2.\(n)") }
        _ = anvil.connect(service: "smtp", client: "198.51.100.1")
        #expect(anvil.entryCount == 101)
        clock.advance(61)
        _ = anvil.count(.message, service: "smtp", client: "203.0.113.1")
        // Only the connected client and the new one are left.
        #expect(anvil.entryCount == 2)
        #expect(anvil.connect(service: "smtp", client: "198.51.100.1").count == 2)
        anvil.disconnect(service: "smtp", client: "198.51.100.1")
        anvil.disconnect(service: "smtp", client: "198.51.100.1")
        clock.advance(61)
        anvil.disconnect(service: "smtp", client: "unknown-never-connected")
        #expect(anvil.entryCount == 0)
    }

    @Test func aReloadChangesTheTimeUnit() {
        let clock = TestClock()
        let anvil = Anvil(timeUnit: 60, now: clock.now)
        _ = anvil.count(.recipient, service: "smtp", client: "192.0.2.1")
        anvil.setTimeUnit(5)
        clock.advance(6)
        #expect(anvil.count(.recipient, service: "smtp", client: "192.0.2.1") == 1)
    }
}

/// smtpd_client_event_limit_exceptions and other host-or-address lists.
@Suite struct HostAddressListTests {
    static func list(_ items: [String], tables: [String: any LookupTable] = [:]) -> HostAddressList {
        HostAddressList(items: items) { tables[$0] ?? NoTable() }
    }

    @Test func networksNamesAndDomains() async throws {
        let list = Self.list(["127.0.0.0/8", "[::1]/128", "192.0.2.7", "relay.example.com", ".trusted.example"])
        #expect(try await list.contains(name: "unknown", address: "127.0.0.2"))
        #expect(try await list.contains(name: "unknown", address: "::1"))
        #expect(try await list.contains(name: "unknown", address: "192.0.2.7"))
        #expect(try await !list.contains(name: "unknown", address: "192.0.2.8"))
        #expect(try await list.contains(name: "Relay.Example.COM", address: "198.51.100.1"))
        #expect(try await list.contains(name: "mx.trusted.example", address: "198.51.100.1"))
        #expect(try await !list.contains(name: "trusted.example", address: "198.51.100.1"))
        #expect(list.matchWithoutLookups(name: "unknown", address: "127.0.0.1") == true)
        #expect(list.matchWithoutLookups(name: "unknown", address: "203.0.113.1") == false)
        #expect(HostAddressList().matchWithoutLookups(name: "localhost", address: "127.0.0.1") == false)
    }

    @Test func theFirstMatchDecidesAndExclusionsSayNo() async throws {
        let list = Self.list(["!127.0.0.2", "127.0.0.0/8"])
        #expect(try await !list.contains(name: "unknown", address: "127.0.0.2"))
        #expect(try await list.contains(name: "unknown", address: "127.0.0.3"))
    }

    @Test func tablesAreLookedUpByNameThenAddress() async throws {
        let table = DictTable(["partner.example": "OK", "203.0.113.9": "OK"])
        let spec = "hash:/etc/postfix/exceptions"
        let list = Self.list(["10.0.0.0/8", spec], tables: [spec: table])
        #expect(list.matchWithoutLookups(name: "unknown", address: "10.1.2.3") == true)
        #expect(list.matchWithoutLookups(name: "unknown", address: "203.0.113.9") == nil)
        #expect(try await list.contains(name: "partner.example", address: "198.51.100.1"))
        #expect(try await list.contains(name: "unknown", address: "203.0.113.9"))
        #expect(try await !list.contains(name: "other.example", address: "198.51.100.1"))
    }

    /// Parent domains: `.parent` table keys, and with parent_domain_matches_subdomains plain `parent` ones
    /// and name patterns that match subdomains.
    @Test func parentDomains() async throws {
        let spec = "hash:/etc/postfix/exceptions"
        let dotted = HostAddressList(items: [spec]) { _ in DictTable([".example.org": "OK"]) }
        #expect(try await dotted.contains(name: "host.example.org", address: "192.0.2.1"))
        let parents = HostAddressList(items: ["example.com", spec], parentMatchesSubdomains: true) { _ in
            DictTable(["example.org": "OK"])
        }
        #expect(try await parents.contains(name: "sub.example.com", address: "192.0.2.1"))
        #expect(try await parents.contains(name: "a.b.example.org", address: "192.0.2.1"))
        #expect(try await !parents.contains(name: "example.net", address: "192.0.2.1"))
    }
}
