import Synchronization
import Testing
import TernCore
@testable import TernPolicy

@Suite struct PolicyAndDNSListTests {
    @Test func policyRequestAttributes() async throws {
        let seen = Box<[(String, String)]>([])
        let e = try makeEvaluator(
            [.recipient: "check_policy_service inet:127.0.0.1:9998"],
            policy: { attributes in
                seen.value.withLock { $0 = attributes }
                return "DEFER_IF_PERMIT 4.2.0 Greylisted"
            })
        var r = request()
        r.saslMethod = "PLAIN"
        r.saslUsername = "alice"
        r.instance = "1a2b.3c4d.0"
        #expect(await rcpt(e, r) == "450 4.2.0 <user@acc.test>: Recipient address rejected: Greylisted")
        let attributes = seen.value.withLock { $0 }
        let names = attributes.map(\.0)
        #expect(names.prefix(4) == ["request", "protocol_state", "protocol_name", "client_address"])
        for name in ["helo_name", "queue_id", "recipient_count", "instance", "size", "etrn_domain", "stress", "sasl_method",
            "sasl_username", "sasl_sender", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
            "ccert_pubkey_fingerprint", "encryption_protocol", "encryption_cipher", "encryption_keysize",
            "reverse_client_name", "server_address", "server_port", "policy_context", "compatibility_level", "mail_version"]
        {
            #expect(names.contains(name), "\(name)")
        }
        let values = Dictionary(attributes, uniquingKeysWith: { a, _ in a })
        #expect(values["request"] == "smtpd_access_policy")
        #expect(values["protocol_state"] == "RCPT")
        #expect(values["recipient"] == "user@acc.test")
        #expect(values["sender"] == "friend@client.example")
        #expect(values["sasl_username"] == "alice")
        #expect(values["recipient_count"] == "0")
        #expect(PolicyRequest.encode([("a", "1"), ("b", "x\ny")]) == "a=1\nb=x\n\n")
        #expect(PolicyRequest.action(fromReply: ["foo=bar", "action=REJECT No"]) == "REJECT No")
    }

    @Test func policyFailureUsesTheDefaultAction() async throws {
        var state = RestrictionSessionState()
        let e = try makeEvaluator([.recipient: "check_policy_service unix:/nowhere"], policy: { _ in nil })
        let outcome = await e.checkRecipient(request(), &state)
        #expect(outcome.reply?.description == "451 4.3.5 <user@acc.test>: Recipient address rejected: Server configuration problem")
        #expect(outcome.log.first?.text == "warning: problem talking to server /nowhere: Connection refused")
        let lenient = try makeEvaluator([.recipient: "check_policy_service unix:/nowhere"], policy: { _ in nil }, configure: { $0.policyDefaultAction = "DUNNO" })
        #expect(await rcpt(lenient, request()) == "OK")
    }

    @Test func policyActionsAreAccessActions() async throws {
        let e = try makeEvaluator(
            [.recipient: "check_policy_service inet:127.0.0.1:1, reject"],
            policy: { a in a.first { $0.0 == "recipient" }?.1 == "ok@acc.test" ? "OK" : "REJECT Policy says no" })
        #expect(await rcpt(e, request(recipient: "ok@acc.test")) == "OK")
        #expect(await rcpt(e, request()) == "554 5.7.1 <user@acc.test>: Recipient address rejected: Policy says no")
    }

    @Test func dnsBlockList() async throws {
        let resolver = FakeResolver(lists: [
            "9.2.0.192.dnsbl.acc.test": .listed(addresses: ["127.0.0.2"], text: "Listed in the acceptance test DNSBL"),
            "spam.example.rhsbl.acc.test": .listed(addresses: ["127.0.0.2"], text: nil),
            "9.2.0.192.wl.acc.test": .listed(addresses: ["127.0.0.5"], text: nil),
        ])
        let e = try makeEvaluator([.recipient: "reject_rbl_client dnsbl.acc.test, permit"], resolver: resolver)
        #expect(await rcpt(e, request())
            == "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using dnsbl.acc.test; Listed in the acceptance test DNSBL")
        #expect(await rcpt(e, request(client: "192.0.2.10")) == "OK")
        let filtered = try makeEvaluator([.recipient: "reject_rbl_client dnsbl.acc.test=127.0.0.[3..9]"], resolver: resolver)
        #expect(await rcpt(filtered, request()) == "OK")
        let rhs = try makeEvaluator([.sender: "reject_rhsbl_sender rhsbl.acc.test"], resolver: resolver)
        #expect(await rcpt(rhs, request(sender: "x@spam.example"))
            == "554 5.7.1 Service unavailable; Sender address [x@spam.example] blocked using rhsbl.acc.test")
        let wl = try makeEvaluator([.client: "permit_dnswl_client wl.acc.test, reject"], resolver: resolver)
        #expect(await rcpt(wl, request()) == "OK")
        #expect(DNSListQuery.reversed(IPAddress("::1")!).hasPrefix("1.0.0.0.0.0"))
        #expect(DNSListQuery.matches("127.0.0.4", "127.0.0.[2..4;9]"))
        #expect(!DNSListQuery.matches("127.0.0.5", "127.0.0.[2..4;9]"))
    }

    @Test func rblReplyTemplate() async throws {
        let resolver = FakeResolver(lists: ["9.2.0.192.dnsbl.acc.test": .listed(addresses: ["127.0.0.2"], text: nil)])
        let e = try makeEvaluator(
            [.client: "reject_rbl_client dnsbl.acc.test"], resolver: resolver,
            configure: {
                $0.rblReplyMaps = [
                    DictTable(["dnsbl.acc.test": "450 4.7.1 Blocked ${rbl_what} via $rbl_domain${rbl_reason?: $rbl_reason}"])
                ]
            })
        #expect(await rcpt(e, request()) == "450 4.7.1 Blocked 192.0.2.9 via dnsbl.acc.test")
    }
}

/// A mutex a @Sendable closure can capture.
final class Box<T: Sendable>: Sendable {
    let value: Mutex<T>
    init(_ initial: T) { value = Mutex(initial) }
}
