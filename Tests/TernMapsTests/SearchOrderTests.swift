import Testing
import TernCore
@testable import TernMaps

/// Records every key a search tries.
final class RecordingTable: SynchronousLookupTable {
    let spec: String
    let keys = WarningSink()
    let values: [String: String]
    init(spec: String = "hash:rec", values: [String: String] = [:]) {
        self.spec = spec
        self.values = values
    }
    func lookupNow(_ key: String) throws(LookupError) -> String? {
        keys.warn(key)
        return values[key]
    }
}

@Suite struct SearchOrderTests {
    @Test func accessOrderWithExtension() async throws {
        let table = RecordingTable()
        #expect(try await AddressSearch.access(address: "user+foo@a.example.com", table: table, delimiter: "+") == nil)
        #expect(table.keys.all == [
            "user+foo@a.example.com", "user@a.example.com", "a.example.com", ".example.com", ".com", "user+foo@", "user@",
        ])
        let parents = RecordingTable()
        _ = try await AddressSearch.access(address: "u@a.example.com", table: parents, parentMatches: true)
        #expect(parents.keys.all == ["u@a.example.com", "a.example.com", "example.com", "com", "u@"])
    }

    @Test func accessReturnsMatchedKey() async throws {
        let table = RecordingTable(values: ["spammer@": "REJECT", ".example.net": "REJECT sub"])
        #expect(try await AddressSearch.access(address: "x@b.example.net", table: table)
            == SearchMatch(value: "REJECT sub", key: ".example.net"))
        #expect(try await AddressSearch.access(address: "spammer@host.test", table: table)
            == SearchMatch(value: "REJECT", key: "spammer@"))
    }

    @Test func patternTablesGetOnlyTheFullKey() async throws {
        let table = RecordingTable(spec: "regexp:/x")
        _ = try await AddressSearch.access(address: "user+foo@example.com", table: table, delimiter: "+")
        #expect(table.keys.all == ["user+foo@example.com"])
    }

    @Test func virtualOrder() async throws {
        let table = RecordingTable()
        _ = try await AddressSearch.virtual(address: "user+ext@example.com", table: table, delimiter: "+", localDomain: true)
        #expect(table.keys.all == ["user+ext@example.com", "user@example.com", "user+ext", "user", "@example.com"])
        let remote = RecordingTable()
        _ = try await AddressSearch.virtual(address: "owner-list@example.com", table: remote, delimiter: "-")
        #expect(remote.keys.all == ["owner-list@example.com", "@example.com"])
    }

    @Test func clientAndHostOrders() async throws {
        #expect(ClientAddressSearch.keys("127.0.5.7") == ["127.0.5.7", "127.0.5", "127.0", "127"])
        #expect(ClientAddressSearch.keys("[2001:db8:1::2]") == ["2001:db8:1::2", "2001:db8:1:", "2001:db8:1", "2001:db8", "2001"])
        let table = RecordingTable(values: ["127.0.5": "REJECT net", "127.0.5.7": "OK", "127.0.6.": "never"])
        #expect(try await ClientAddressSearch.search(address: "127.0.5.7", table: table)?.value == "OK")
        #expect(try await ClientAddressSearch.search(address: "127.0.5.9", table: table)?.key == "127.0.5")
        #expect(try await ClientAddressSearch.search(address: "127.0.6.1", table: table) == nil)
        #expect(DomainSearch.keys("host.example.com", parentMatches: true) == ["host.example.com", "example.com", "com"])
    }
}
