import Testing
import TernCore
@testable import TernPolicy

/// Host-or-address match lists as Postfix's namadr_list matches them.
@Suite struct ClientMatchListTests {
    func list(_ items: [String], parent: Bool = false, table: DictTable = DictTable([:])) throws -> ClientMatchList {
        try ClientMatchList(items: items, parentMatchesSubdomains: parent) { _ in table }
    }

    @Test func networksAndAddresses() async throws {
        let networks = try list(["192.0.2.0/24", "[2001:db8::]/32", "10.1.1.1"])
        #expect(try await networks.contains(name: "unknown", address: "192.0.2.77"))
        #expect(try await networks.contains(name: "unknown", address: "2001:db8::5"))
        #expect(try await networks.contains(name: "unknown", address: "10.1.1.1"))
        #expect(try await !networks.contains(name: "unknown", address: "10.1.1.2"))
    }

    @Test func hostNamesMatchExactlyOrBelowADotPattern() async throws {
        let names = try list(["mail.example.com", ".example.net"])
        #expect(try await names.contains(name: "MAIL.example.com", address: "192.0.2.1"))
        #expect(try await !names.contains(name: "sub.mail.example.com", address: "192.0.2.1"))
        #expect(try await names.contains(name: "a.b.example.net", address: "192.0.2.1"))
        #expect(try await !names.contains(name: "example.net", address: "192.0.2.1"))
        let parents = try list(["example.com"], parent: true)
        #expect(try await parents.contains(name: "sub.example.com", address: "192.0.2.1"))
    }

    @Test func firstMatchDecidesAndNegationExcludes() async throws {
        let mixed = try list(["!192.0.2.66", "192.0.2.0/24"])
        #expect(try await !mixed.contains(name: "unknown", address: "192.0.2.66"))
        #expect(try await mixed.contains(name: "unknown", address: "192.0.2.65"))
    }

    /// Tables are searched by host name, parent domains (`.parent` without parent matching), then address.
    @Test func tablesByNameParentAndAddress() async throws {
        let table = DictTable([".example.org": "OK", "198.51.100.7": "OK"])
        let tables = try list(["hash:/etc/postfix/sasl_exceptions"], table: table)
        #expect(try await tables.contains(name: "host.example.org", address: "192.0.2.1"))
        #expect(try await tables.contains(name: "unknown", address: "198.51.100.7"))
        #expect(try await !tables.contains(name: "example.com", address: "192.0.2.1"))
    }
}
