import TernCore
@testable import TernPolicy

struct NoTable: LookupTable {
    let spec = "inline:{}"
    func lookup(_ key: String) async throws -> String? { nil }
}

/// A fixed-string table (keys compared case-insensitively, like a hash: table).
struct DictTable: LookupTable {
    var spec = "hash:/test/access"
    let entries: [String: String]
    init(_ entries: [String: String], spec: String = "hash:/test/access") {
        self.entries = Dictionary(uniqueKeysWithValues: entries.map { ($0.key.lowercased(), $0.value) })
        self.spec = spec
    }
    func lookup(_ key: String) async throws -> String? { entries[key.lowercased()] }
}

struct BrokenTable: LookupTable {
    let spec = "hash:/test/broken"
    func lookup(_ key: String) async throws -> String? { throw LookupError(spec: spec, reason: "corrupt") }
}

struct FakeResolver: RestrictionResolver {
    var hosts: [String: DNSLookupStatus] = [:]
    var lists: [String: DNSListAnswer] = [:]
    func mailHost(_ domain: String) async -> DNSLookupStatus { hosts[domain] ?? .notFound }
    func host(_ name: String) async -> DNSLookupStatus { hosts[name] ?? .notFound }
    func list(_ query: String) async -> DNSListAnswer { lists[query] ?? .notListed }
}

struct FakePolicy: PolicyService {
    struct Down: Error, CustomStringConvertible { var description: String { "Connection refused" } }
    let answer: @Sendable ([(String, String)]) -> String?
    func query(endpoint: String, attributes: [(String, String)]) async throws -> String {
        guard let action = answer(attributes) else { throw Down() }
        return action
    }
}

func testClassifier() throws -> AddressClassifier {
    let open: (String) throws -> any LookupTable = { _ in NoTable() }
    return AddressClassifier(
        mydestination: try DomainList(items: ["acc.test", "localhost"], parentMatchesSubdomains: false, open: open),
        virtualAliasDomains: try DomainList(items: [], parentMatchesSubdomains: false, open: open),
        virtualMailboxDomains: try DomainList(items: [], parentMatchesSubdomains: false, open: open),
        relayDomains: try DomainList(items: ["relay.example"], parentMatchesSubdomains: true, open: open),
        localAddresses: [IPAddress("127.0.0.1")!])
}

/// Builds an evaluator from main.cf-style lists; tables are named `hash:NAME` and come from `tables`.
func makeEvaluator(
    _ lists: [RestrictionStage: String], relay: String = "", classes: [String: String] = [:],
    tables: [String: any LookupTable] = [:], resolver: FakeResolver = FakeResolver(),
    policy: @escaping @Sendable ([(String, String)]) -> String? = { _ in "DUNNO" },
    delayReject: Bool = true, unlisted: Set<String> = [],
    configure: (inout RestrictionParameters) -> Void = { _ in }
) throws -> RestrictionEvaluator {
    let open: (String) throws -> any LookupTable = { spec in
        guard let table = tables[spec] else { throw LookupError(spec: spec, reason: "no such table") }
        return table
    }
    func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }
    var parsed: [RestrictionStage: RestrictionList] = [:]
    for (stage, text) in lists {
        parsed[stage] = try RestrictionList(
            parameter: "smtpd_\(stage)_restrictions", words: words(text), defaultAccess: stage.defaultAccess, open: open)
    }
    var classLists: [String: RestrictionList] = [:]
    for (name, text) in classes {
        classLists[name] = try RestrictionList(parameter: name, words: words(text), defaultAccess: nil, open: open)
    }
    var parameters = RestrictionParameters()
    configure(&parameters)
    let environment = RestrictionEnvironment(
        mynetworks: ClientNetworks(networks: [IPNetwork("127.0.0.1/32")!, IPNetwork("10.0.0.0/8")!]),
        classifier: try testClassifier(), classes: RestrictionClasses(classLists), parameters: parameters,
        resolver: resolver, policy: FakePolicy(answer: policy),
        unlistedCheck: { address, replyClass in
            guard unlisted.contains(address.text) else { return nil }
            return PolicyReply(
                code: 550, status: "5.1.1",
                text: "<\(address.text)>: \(replyClass) rejected: User unknown in local recipient table")
        })
    return RestrictionEvaluator(
        lists: parsed,
        relayList: try RestrictionList(
            parameter: "smtpd_relay_restrictions", words: words(relay), defaultAccess: .recipient, open: open),
        environment: environment, delayReject: delayReject, rejectUnlistedRecipient: !unlisted.isEmpty)
}

func request(
    client: String = "192.0.2.9", name: String = "unknown", helo: String? = "client.example",
    sender: String? = "friend@client.example", recipient: String? = "user@acc.test", command: String = "RCPT"
) -> RestrictionRequest {
    var r = RestrictionRequest(
        command: command, clientAddress: client, clientName: name, reverseClientName: name, clientPort: 40000,
        protocolName: "ESMTP")
    r.heloName = helo
    r.sender = sender.map(MailAddress.init)
    r.recipient = recipient.map(MailAddress.init)
    return r
}

/// The RCPT decision as `code status text`, or "OK".
func rcpt(_ evaluator: RestrictionEvaluator, _ r: RestrictionRequest) async -> String {
    var state = RestrictionSessionState()
    return await evaluator.checkRecipient(r, &state).reply?.description ?? "OK"
}
