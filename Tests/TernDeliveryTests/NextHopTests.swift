import Testing

@testable import TernDelivery

@Suite struct NextHopTests {
    @Test func relayhostForms() {
        #expect(NextHop(parsing: "[127.0.0.1]:21026") == NextHop(host: "127.0.0.1", port: 21026, lookUpMX: false))
        #expect(NextHop(parsing: "[mail.example.com]") == NextHop(host: "mail.example.com", port: 25, lookUpMX: false))
        #expect(NextHop(parsing: "example.com") == NextHop(host: "example.com", port: 25, lookUpMX: true))
        #expect(NextHop(parsing: "example.com:587") == NextHop(host: "example.com", port: 587, lookUpMX: true))
        #expect(NextHop(parsing: "[ipv6:2001:db8::1]:25") == NextHop(host: "2001:db8::1", port: 25, lookUpMX: false))
        #expect(NextHop(parsing: "unix:private/dovecot-lmtp")?.unixPath == "private/dovecot-lmtp")
        #expect(NextHop(parsing: "inet:127.0.0.1:24") == NextHop(host: "127.0.0.1", port: 24, lookUpMX: true))
        #expect(NextHop(parsing: "[x]:0") == nil)
        #expect(NextHop(parsing: "[x") == nil)
        #expect(NextHop(parsing: "") == nil)
    }

    @Test func addressLiteralNeedsNoLookup() throws {
        let servers = try NextHopResolver.addresses(for: NextHop(host: "127.0.0.1", port: 2525, lookUpMX: true))
        #expect(servers == [MailServerAddress(name: "127.0.0.1", address: "127.0.0.1", port: 2525)])
    }

    @Test func equalPreferencesKeepTheirRank() {
        let order = NextHopResolver.ordered([(20, "c"), (10, "a"), (10, "b"), (30, "d")])
        #expect(Set(order.prefix(2)) == ["a", "b"])
        #expect(Array(order.suffix(2)) == ["c", "d"])
    }
}
