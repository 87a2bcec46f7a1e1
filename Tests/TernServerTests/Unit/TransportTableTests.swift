import Testing
import TernCore
import TernMaps

@testable import TernServer

@Suite struct TransportTableTests {
    @Test func searchOrderIsAddressDomainParentsThenStar() async throws {
        let table = try MapOpener.open(
            "inline:{ user@example.com=smtp:[10.0.0.1], example.com=relay:[10.0.0.2], .example.org=lmtp:unix:/run/lmtp, {*=error:no route} }")
        func route(_ address: String) async throws -> String? {
            try await TransportTable.lookup(MailAddress(address), in: [table], delimiter: "+")
        }
        #expect(try await route("user+tag@example.com") == "smtp:[10.0.0.1]")
        #expect(try await route("other@example.com") == "relay:[10.0.0.2]")
        #expect(try await route("x@mail.example.org") == "lmtp:unix:/run/lmtp")
        #expect(try await route("x@example.org") == "error:no route", "`.example.org` matches subdomains only")
        #expect(try await TransportTable.lookup(MailAddress("x@y.test"), in: [], delimiter: "") == nil)
    }

    @Test func resultsMergeWithTheDefaultTransport() {
        #expect(TransportTable.merge("smtp:[h]:25", into: "relay") == "smtp:[h]:25")
        #expect(TransportTable.merge("smtp:", into: "smtp:[relay]") == "smtp:[relay]")
        #expect(TransportTable.merge(":[h]", into: "smtp") == "smtp:[h]")
        #expect(TransportTable.merge("lmtp", into: "smtp:[relay]") == "lmtp")
    }
}
