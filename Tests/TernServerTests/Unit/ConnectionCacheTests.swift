import Testing
import TernConfig

@testable import TernServer

/// scache(8)'s rules on a fake clock: idle expiry, reuse count and time limits, and the keys a delivery
/// finds a session by.
@Suite struct ConnectionCacheTests {
    private func key(_ kind: ConnectionCacheKey.Kind = .endpoint, _ name: String = "192.0.2.1:25", security: String = "may|")
        -> ConnectionCacheKey
    {
        ConnectionCacheKey(kind: kind, transport: "smtp", name: name, security: security)
    }

    @Test func anIdleSessionExpiresAfterTheTimeLimit() {
        var cache = ConnectionCache<String>()
        let settings = ConnectionCacheSettings()  // 2s
        #expect(cache.park("a", keys: [key()], uses: 1, firstUse: 100, now: 100, settings: settings) != nil)
        #expect(cache.expire(now: 101.9).isEmpty)
        #expect(cache.take(key(), now: 101.9).found?.handle == "a")
        #expect(cache.park("a", keys: [key()], uses: 2, firstUse: 100, now: 102, settings: settings) != nil)
        let late = cache.take(key(), now: 104)
        #expect(late.found == nil)
        #expect(late.evicted == ["a"], "expired sessions come back to be closed")
        #expect(cache.park("b", keys: [key()], uses: 1, firstUse: 200, now: 200, settings: settings) != nil)
        #expect(cache.expire(now: 202) == ["b"])
        #expect(cache.entries.isEmpty)
    }

    @Test func reuseCountLimitCountsReusesNotUses() {
        var settings = ConnectionCacheSettings()
        settings.reuseCountLimit = 2
        var cache = ConnectionCache<String>()
        // First use, first reuse and second reuse may be followed by another delivery only up to two reuses.
        #expect(cache.park("s", keys: [key()], uses: 1, firstUse: 0, now: 0, settings: settings) != nil)
        _ = cache.take(key(), now: 0.5)
        #expect(cache.park("s", keys: [key()], uses: 2, firstUse: 0, now: 1, settings: settings) != nil)
        _ = cache.take(key(), now: 1.5)
        #expect(cache.park("s", keys: [key()], uses: 3, firstUse: 0, now: 2, settings: settings) == nil)
        settings.reuseCountLimit = 0
        #expect(cache.park("s", keys: [key()], uses: 1000, firstUse: 0, now: 2, settings: settings) != nil, "0: no limit")
    }

    @Test func reuseTimeLimitCountsFromTheFirstUse() {
        var settings = ConnectionCacheSettings()
        settings.reuseTimeLimit = 300
        var cache = ConnectionCache<String>()
        #expect(cache.park("s", keys: [key()], uses: 5, firstUse: 0, now: 299, settings: settings) != nil)
        let taken = cache.take(key(), now: 300.5)
        #expect(taken.found == nil && taken.evicted == ["s"], "too old by the time a delivery comes")
        #expect(cache.park("s", keys: [key()], uses: 5, firstUse: 0, now: 300, settings: settings) == nil)
    }

    @Test func keysSeparateTransportDestinationAndSecurity() {
        var cache = ConnectionCache<String>()
        let settings = ConnectionCacheSettings()
        let destination = key(.destination, "[relay.example]:587", security: "encrypt|alice")
        let endpoint = key(.endpoint, "192.0.2.7:587", security: "encrypt|alice")
        #expect(cache.park("s", keys: [destination, endpoint], uses: 1, firstUse: 0, now: 0, settings: settings) != nil)
        #expect(cache.take(key(.destination, "[relay.example]:587", security: "encrypt|bob"), now: 0).found == nil)
        #expect(cache.take(key(.destination, "[relay.example]:587", security: "may|alice"), now: 0).found == nil)
        #expect(cache.take(key(.endpoint, "[relay.example]:587", security: "encrypt|alice"), now: 0).found == nil)
        var lmtp = destination
        lmtp.transport = "lmtp"
        #expect(cache.take(lmtp, now: 0).found == nil)
        #expect(cache.take(key(.destination, "[RELAY.example]:587", security: "encrypt|alice"), now: 0).found?.handle == "s")
        #expect(cache.take(endpoint, now: 0).found == nil, "taken under one key, gone under all")
    }

    @Test func theSessionParkedLongestAgoIsTakenFirstAndDeadOnesAreSkipped() {
        var cache = ConnectionCache<String>()
        let settings = ConnectionCacheSettings()
        for name in ["old", "dead", "new"] {
            _ = cache.park(name, keys: [key()], uses: 1, firstUse: 0, now: 0, settings: settings)
        }
        #expect(cache.take(key(), now: 1) { $0 != "dead" }.found?.handle == "old")
        let next = cache.take(key(), now: 1) { $0 != "dead" }
        #expect(next.found?.handle == "new")
        #expect(next.evicted == ["dead"])
    }

    @Test func settingsComeFromMainCfgWithPostfixDefaults() throws {
        let defaults = try ConnectionCacheSettings(config: MainConfig.parse(text: ""), prefix: "smtp")
        #expect(defaults == ConnectionCacheSettings())
        let config = try MainConfig.parse(
            text: """
                smtp_connection_cache_on_demand = no
                smtp_connection_cache_destinations = relay.example, Example.COM
                smtp_connection_cache_time_limit = 5s
                smtp_connection_reuse_count_limit = 10
                smtp_connection_reuse_time_limit = 1m
                smtp_tls_connection_reuse = yes
                lmtp_connection_cache_time_limit = 1
                """)
        let smtp = try ConnectionCacheSettings(config: config, prefix: "smtp")
        #expect(!smtp.onDemand && smtp.timeLimit == 5 && smtp.reuseCountLimit == 10 && smtp.reuseTimeLimit == 60)
        #expect(smtp.tlsReuse)
        #expect(smtp.lists(host: "relay.example"), "for [relay.example]:587 too")
        #expect(smtp.lists(host: "example.com"))
        #expect(!smtp.lists(host: "other.example"))
        let lmtp = try ConnectionCacheSettings(config: config, prefix: "lmtp")
        #expect(lmtp.timeLimit == 1 && lmtp.onDemand && !lmtp.tlsReuse)
        let bad = try MainConfig.parse(text: "smtp_connection_reuse_count_limit = lots")
        #expect(throws: (any Error).self) { try ConnectionCacheSettings(config: bad, prefix: "smtp") }
        do {
            _ = try ConnectionCacheSettings(config: bad, prefix: "smtp")
        } catch {
            #expect("\(error)".contains("smtp_connection_reuse_count_limit"))
        }
    }
}
