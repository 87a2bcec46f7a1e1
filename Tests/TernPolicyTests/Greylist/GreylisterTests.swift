import Testing

@testable import TernPolicy

/// postgrey's decision logic with a clock the test moves, the records kept in a dictionary between requests
/// as the SQLite database keeps them.
@Suite struct GreylisterTests {
    /// A greylister and its records: each `request` reads them, decides at `now`, and writes back.
    struct Run {
        var greylister: Greylister
        var triplets: [String: TripletRecord] = [:]
        var clients: [String: ClientRecord] = [:]
        var now: Int64 = 1_700_000_000

        init(_ configure: (inout GreylistParameters) -> Void = { _ in }) {
            var parameters = GreylistParameters()
            parameters.delay = 60
            parameters.hostname = "mx.test"
            configure(&parameters)
            greylister = Greylister(parameters: parameters)
        }

        mutating func request(
            sender: String = "news+1234@list.example.net", recipient: String = "Alice@Example.COM",
            address: String = "192.0.2.77", instance: String? = nil, whitelisted: String? = nil, etrn: Bool = true,
            extra: [String: String] = [:]
        ) -> Greylister.Decision {
            var attributes = [
                "request": "smtpd_access_policy", "client_address": address, "client_name": "mx.example.net",
                "sender": sender, "recipient": recipient, "etrn_domain": "",
            ]
            if let instance { attributes["instance"] = instance }
            if !etrn { attributes["etrn_domain"] = nil }
            attributes.merge(extra) { _, new in new }
            let keys = GreylistKeys(
                clientAddress: address, sender: sender, recipient: recipient, parameters: greylister.parameters)!
            let decision = greylister.decide(
                attributes, whitelisted: whitelisted, triplet: triplets[keys.triplet], client: clients[keys.client],
                now: now)
            if let triplet = decision.triplet { triplets[keys.triplet] = triplet }
            if let client = decision.client { clients[keys.client] = client }
            return decision
        }
    }

    static let greylisted = "DEFER_IF_PERMIT 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/Example.COM.html"

    @Test func firstTimeEarlyRetryThenPassWithHeader() {
        var run = Run()
        let first = run.request(instance: "a1")
        #expect(first.action == Self.greylisted)
        #expect(
            first.log
                == "action=greylist, reason=new, client_name=mx.example.net, client_address=192.0.2.77, "
                + "sender=news+1234@list.example.net, recipient=Alice@Example.COM")
        run.now += 30
        let early = run.request(instance: "a2")
        #expect(early.action == Self.greylisted)
        #expect(early.log?.hasPrefix("action=greylist, reason=early-retry (30s missing), ") == true)
        run.now += 31
        let passed = run.request(instance: "a3")
        let header = passed.action.wholeMatch(
            of:
                #/PREPEND X-Greylist: delayed 61 seconds by postgrey-1\.37 at mx\.test; \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \w+/#
        )
        #expect(header != nil, "\(passed.action)")
        #expect(passed.log?.hasPrefix("action=pass, reason=triplet found, delay=61, ") == true)
        // The same message's next recipient (same instance) gets no second header; later mail neither.
        #expect(run.request(instance: "a3").action == "DUNNO")
        run.now += 5
        #expect(run.request(instance: "a4").action == "DUNNO")
    }

    @Test func greylistTextSubstitutionsAndAction() {
        var run = Run {
            $0.greylistText = "Try again in %s seconds (%r, %s)"
            $0.greylistAction = "451"
        }
        #expect(
            run.request(recipient: "bob@sub.example.org").action
                == "451 4.2.0 Try again in 60 seconds (sub.example.org, %s)")
        // Without etrn_domain (not Postfix >= 2.3) there is no DSN code; a text starting with a digit keeps its own.
        run.now += 10
        #expect(
            run.request(recipient: "bob@sub.example.org", etrn: false).action
                == "451 Try again in 50 seconds (sub.example.org, %s)")
        var custom = Run { $0.greylistText = "4.7.1 wait" }
        #expect(custom.request().action == "DEFER_IF_PERMIT 4.7.1 wait")
    }

    @Test func retryAfterTheRetryWindowStartsAgain() {
        var run = Run { $0.retryWindow = 3600 }
        #expect(run.request().action.hasPrefix("DEFER_IF_PERMIT"))
        run.now += 7200
        let late = run.request()
        #expect(late.action.hasPrefix("DEFER_IF_PERMIT"))
        #expect(late.log?.contains("reason=early-retry") == false, "\(late.log ?? "")")
        run.now += 61
        #expect(run.request().action.hasPrefix("PREPEND X-Greylist: delayed 61 seconds"))
    }

    @Test func firstSeenInTheFutureIsCorrected() {
        var run = Run()
        _ = run.request()
        run.now -= 1000
        let decision = run.request()
        #expect(decision.warnings == ["correcting date for first seen in the future!"])
        #expect(decision.triplet == TripletRecord(firstSeen: run.now, lastSeen: run.now))
    }

    @Test func clientIsAutoWhitelistedAfterSuccessfulRetries() {
        var run = Run { $0.autoWhitelistClients = 2 }
        for round in 0..<2 {
            let recipient = "user\(round)@example.com"
            #expect(run.request(recipient: recipient).action.hasPrefix("DEFER_IF_PERMIT"))
            run.now += 61
            let passed = run.request(recipient: recipient)
            #expect(passed.action.hasPrefix("PREPEND"))
            #expect(passed.notices == (round == 1 ? ["whitelisted: mx.example.net[192.0.2.77]"] : []))
            run.now += 3600  // one count per hour at most
        }
        let awl = run.request(recipient: "new@example.com", address: "192.0.2.77")
        #expect(awl.action == "DUNNO")
        #expect(awl.log?.hasPrefix("action=pass, reason=client AWL, ") == true)
        #expect(awl.triplet == nil)
        // Another address of the same /24 is not whitelisted: the AWL is per address.
        #expect(run.request(recipient: "new@example.com", address: "192.0.2.78").action.hasPrefix("DEFER_IF_PERMIT"))
    }

    @Test func autoWhitelistCountsOncePerHour() {
        var run = Run { $0.autoWhitelistClients = 2 }
        for index in 0..<2 {
            _ = run.request(recipient: "r\(index)@example.com")
        }
        run.now += 61
        _ = run.request(recipient: "r0@example.com")
        _ = run.request(recipient: "r1@example.com")
        #expect(run.clients.values.map(\.count) == [1])
        #expect(run.request(recipient: "r2@example.com").action.hasPrefix("DEFER_IF_PERMIT"))
    }

    @Test func autoWhitelistOff() {
        var run = Run { $0.autoWhitelistClients = 0 }
        _ = run.request()
        run.now += 61
        #expect(run.request().client == nil)
        #expect(run.clients.isEmpty)
    }

    @Test func whitelistedAndIncompleteRequestsPass() {
        var run = Run()
        let whitelisted = run.request(whitelisted: "client whitelist")
        #expect(whitelisted.action == "DUNNO" && whitelisted.triplet == nil)
        #expect(whitelisted.log?.hasPrefix("action=pass, reason=client whitelist, client_name=mx.example.net") == true)
        var greylister = run.greylister
        let missing = greylister.decide(
            ["request": "smtpd_access_policy", "client_address": "192.0.2.1", "client_name": "x", "recipient": "a@b"],
            whitelisted: nil, triplet: nil, client: nil, now: 0)
        #expect(missing.action == "DUNNO" && missing.warnings == ["attribute missing: sender"])
    }

    @Test func logLineStartsWithTheQueueID() {
        var run = Run()
        let decision = run.request(extra: ["queue_id": "4AB12C3D"])
        #expect(decision.log?.hasPrefix("4AB12C3D: action=greylist, reason=new") == true)
    }

    @Test func tripletKeys() {
        let parameters = GreylistParameters()
        let keys = GreylistKeys(
            clientAddress: "192.0.2.77", sender: "List-Bounces+123-foo=bar@Example.NET", recipient: "Alice@Example.COM",
            parameters: parameters)
        #expect(keys?.triplet == "192.0.2.0/list-bounces@example.net/alice@example.com")
        #expect(keys?.client == "192.0.2.77")
        var byHost = parameters
        byHost.lookupByHost = true
        #expect(
            GreylistKeys(clientAddress: "192.0.2.77", sender: "", recipient: "a@b", parameters: byHost)?.triplet
                == "192.0.2.77//a@b")
        let v6 = GreylistKeys(
            clientAddress: "2001:DB8:1:2:3::1", sender: "s@x", recipient: "a@b", parameters: parameters)
        #expect(v6?.network == "2001:db8:1:2:0:0:0:0")
        #expect(v6?.client == "2001:db8:1:2:3:0:0:1")
        #expect(GreylistKeys(clientAddress: "unknown", sender: "", recipient: "a@b", parameters: parameters) == nil)
    }

    @Test(arguments: [
        ("bounce-12345-67@list.example", "bounce-#-#@list.example"),
        ("user42@example.com", "user42@example.com"),
        ("a_1@example.com", "a_1@example.com"),
        ("1.2.3@example.com", "#.#.#@example.com"),
        ("prvs=1234567890=user@example.com", "user@example.com"),
        ("prvs=user=1234abcdef@example.com", "user@example.com"),
        ("prvs=abc=def@example.com", "def@example.com"),
        ("owner+foo@example.com", "owner@example.com"),
        ("", ""),
        ("no-at-sign", "no-at-sign"),
    ])
    func senderNormalisation(input: String, expected: String) {
        #expect(GreylistKeys.normalizedSender(input) == expected)
    }

    @Test func requestReaderFollowsPostgrey() {
        var reader = PolicyRequestReader()
        #expect(reader.take(line: "request=smtpd_access_policy") == .pending)
        #expect(reader.take(line: "x=a=b") == .pending)
        #expect(reader.take(line: "==y=z") == .pending)
        #expect(reader.take(line: "garbage line") == .garbage("garbage line"))
        #expect(reader.take(line: Substring("n=" + String(repeating: "v", count: 600))) == .pending)
        guard case .request(let attributes) = reader.take(line: "") else {
            Issue.record("no request")
            return
        }
        #expect(attributes["request"] == "smtpd_access_policy")
        #expect(attributes["x"] == "a=b")
        #expect(attributes["y"] == "z")
        #expect(attributes["n"]?.count == 512)
        #expect(reader.take(line: "") == .request([:]))
        for index in 0..<PolicyRequestReader.attributeLimit { _ = reader.take(line: Substring("a\(index)=1")) }
        #expect(reader.take(line: "one=more") == .tooManyAttributes)
    }
}
