import Testing
import TernCore
@testable import TernPolicy

struct NoTable: LookupTable {
    let spec = "inline:{}"
    func lookup(_ key: String) async throws -> String? { nil }
}

@Suite struct RelayRestrictionsTests {
    func classifier() throws -> AddressClassifier {
        let open: (String) throws -> any LookupTable = { _ in NoTable() }
        return AddressClassifier(
            mydestination: try DomainList(items: ["acc.test", "localhost"], parentMatchesSubdomains: false, open: open),
            virtualAliasDomains: try DomainList(items: [], parentMatchesSubdomains: false, open: open),
            virtualMailboxDomains: try DomainList(items: [], parentMatchesSubdomains: false, open: open),
            relayDomains: try DomainList(items: ["relay.example"], parentMatchesSubdomains: true, open: open),
            localAddresses: [IPAddress("127.0.0.1")!])
    }

    let mynetworks = ClientNetworks(networks: [IPNetwork("127.0.0.1/32")!, IPNetwork("127.0.0.3/32")!])

    func decide(_ client: String, _ rcpt: String) async throws -> PolicyDecision {
        let r = try RelayRestrictions(
            parameter: "smtpd_relay_restrictions", words: ["permit_mynetworks", "reject_unauth_destination"])
        return try await r.evaluate(
            RecipientContext(clientAddress: IPAddress(client), recipient: MailAddress(rcpt)),
            mynetworks: mynetworks, classifier: try classifier())
    }

    @Test func outsideClientCannotRelay() async throws {
        #expect(try await decide("127.0.0.2", "victim@remote.example")
            == .reject(code: 554, status: "5.7.1", text: "<victim@remote.example>: Relay access denied"))
    }

    @Test func localAndRelayDomainsPass() async throws {
        #expect(try await decide("127.0.0.2", "u@acc.test") == .dunno)
        #expect(try await decide("127.0.0.2", "u@sub.relay.example") == .dunno)
        #expect(try await decide("127.0.0.2", "u@[127.0.0.1]") == .dunno)
        #expect(try await decide("127.0.0.3", "u@remote.example") == .permit)
    }

    @Test func routingTricksAreRefused() async throws {
        for trick in ["victim%remote.example@acc.test", "remote.example!victim@acc.test", "u@ACC.TEST.evil.example"] {
            #expect(try await decide("127.0.0.2", trick) != .dunno, "\(trick)")
        }
        #expect(try await decide("127.0.0.2", "u@ACC.TEST.") == .dunno)
    }

    @Test func networks() {
        #expect(IPNetwork("127.0.0.0/8")!.contains(IPAddress("127.9.9.9")!))
        #expect(!IPNetwork("127.0.0.0/8")!.contains(IPAddress("128.0.0.1")!))
        #expect(IPNetwork("[::1]/128")!.contains(IPAddress("::1")!))
        #expect(!IPNetwork("[::1]/128")!.contains(IPAddress("127.0.0.1")!))
        #expect(IPNetwork("10.0.0.0/33") == nil)
    }

    @Test func unknownRestrictionIsAnError() {
        #expect(throws: RestrictionError.self) {
            try RelayRestrictions(parameter: "smtpd_relay_restrictions", words: ["permit_everything"])
        }
    }
}
