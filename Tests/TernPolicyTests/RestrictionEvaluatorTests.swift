import Testing
import TernCore
@testable import TernPolicy

@Suite struct RestrictionEvaluatorTests {
    @Test func permitRejectDefer() async throws {
        #expect(await rcpt(try makeEvaluator([.recipient: "permit, reject"]), request()) == "OK")
        #expect(
            await rcpt(try makeEvaluator([.recipient: "reject"]), request())
                == "554 5.7.1 <user@acc.test>: Recipient address rejected: Access denied")
        #expect(
            await rcpt(try makeEvaluator([.recipient: "defer"]), request())
                == "450 4.3.2 <user@acc.test>: Recipient address rejected: Try again later")
        #expect(
            await rcpt(try makeEvaluator([.sender: "reject"]), request())
                == "554 5.7.1 <friend@client.example>: Sender address rejected: Access denied")
        #expect(
            await rcpt(try makeEvaluator([.client: "reject"]), request())
                == "554 5.7.1 <unknown[192.0.2.9]>: Client host rejected: Access denied")
        #expect(
            await rcpt(try makeEvaluator([.helo: "reject"]), request())
                == "554 5.7.1 <client.example>: Helo command rejected: Access denied")
    }

    @Test func permitEndsOnlyItsOwnList() async throws {
        let e = try makeEvaluator([.client: "permit", .sender: "reject", .recipient: "permit"])
        #expect(await rcpt(e, request()) == "554 5.7.1 <friend@client.example>: Sender address rejected: Access denied")
    }

    @Test func delayRejectNoRunsOnlyTheRecipientListsAtRCPT() async throws {
        let e = try makeEvaluator([.client: "reject", .recipient: "permit"], delayReject: false)
        #expect(await rcpt(e, request()) == "OK")
        var state = RestrictionSessionState()
        let outcome = await e.checkClient(request(command: "CONNECT"), &state)
        #expect(outcome.reply?.text == "<unknown[192.0.2.9]>: Client host rejected: Access denied")
    }

    @Test func mynetworksAndSASL() async throws {
        let e = try makeEvaluator([.recipient: "permit_mynetworks, permit_sasl_authenticated, reject"])
        #expect(await rcpt(e, request(client: "10.1.2.3")) == "OK")
        var r = request()
        r.saslUsername = "user"
        #expect(await rcpt(e, r) == "OK")
        #expect(await rcpt(e, request()).hasPrefix("554 5.7.1"))
    }

    @Test func relayControl() async throws {
        let e = try makeEvaluator([:], relay: "permit_mynetworks, reject_unauth_destination")
        #expect(await rcpt(e, request(recipient: "victim@remote.example"))
            == "554 5.7.1 <victim@remote.example>: Relay access denied")
        #expect(await rcpt(e, request(client: "10.0.0.1", recipient: "victim@remote.example")) == "OK")
        #expect(await rcpt(e, request(recipient: "u@sub.relay.example")) == "OK")
        #expect(await rcpt(e, request(recipient: "u@[127.0.0.1]")) == "OK")
        let d = try makeEvaluator([.recipient: "defer_unauth_destination"])
        #expect(await rcpt(d, request(recipient: "v@remote.example")) == "454 4.7.1 <v@remote.example>: Relay access denied")
        let p = try makeEvaluator([.recipient: "permit_auth_destination, reject"])
        #expect(await rcpt(p, request(recipient: "u@acc.test")) == "OK")
        #expect(await rcpt(p, request(recipient: "v@remote.example")).hasPrefix("554"))
    }

    @Test func openRelayTricksAreRefused() async throws {
        let e = try makeEvaluator([:], relay: "reject_unauth_destination")
        for trick in [
            "victim%remote.example@acc.test", "remote.example!victim@acc.test", "victim@remote.example@acc.test",
            "victim%remote.example@ACC.TEST", "u@ACC.TEST.evil.example", "u@[192.0.2.1]", "@acc.test:victim@remote.example",
            "victim%remote.example", "victim@remote.example.", "victim%remote.example%acc.test@acc.test",
        ] {
            #expect(await rcpt(e, request(recipient: trick)).hasSuffix("Relay access denied"), "\(trick)")
        }
        for fine in ["u@ACC.TEST.", "u@Acc.Test", "u%localhost@acc.test", "localhost!u@acc.test", "@relay.example:u@acc.test"] {
            #expect(await rcpt(e, request(recipient: fine)) == "OK", "\(fine)")
        }
    }

    @Test func unknownRestrictionIsAServerError() async throws {
        var state = RestrictionSessionState()
        let e = try makeEvaluator([.recipient: "permit_everything"])
        let outcome = await e.checkRecipient(request(), &state)
        #expect(outcome.reply?.description == "451 4.3.5 Server configuration error")
        #expect(outcome.isServerError)
        #expect(outcome.log.contains(PolicyLogLine(event: nil, text: "warning: unknown smtpd restriction: \"permit_everything\"")))
        let missing = try makeEvaluator([.recipient: "check_policy_service"])
        #expect(await rcpt(missing, request()) == "451 4.3.5 Server configuration error")
    }

    @Test func restrictionClasses() async throws {
        let e = try makeEvaluator(
            [.recipient: "check_recipient_access hash:rcpt, permit"], classes: ["strict": "reject_non_fqdn_sender, reject"],
            tables: ["hash:rcpt": DictTable(["user@acc.test": "strict"])])
        #expect(await rcpt(e, request()) == "554 5.7.1 <user@acc.test>: Recipient address rejected: Access denied")
        #expect(await rcpt(e, request(recipient: "other@acc.test")) == "OK")
    }

    @Test func warnIfRejectOnlyLogs() async throws {
        var state = RestrictionSessionState()
        let e = try makeEvaluator([.recipient: "warn_if_reject, reject, permit"])
        let outcome = await e.checkRecipient(request(), &state)
        #expect(outcome.reply == nil)
        #expect(outcome.log.first?.event == "reject_warning")
    }

    @Test func deferIfPermitAndDeferIfReject() async throws {
        #expect(await rcpt(try makeEvaluator([.recipient: "defer_if_permit, permit"]), request())
            == "450 4.7.0 <user@acc.test>: Recipient address rejected: defer_if_permit requested")
        #expect(await rcpt(try makeEvaluator([.recipient: "defer_if_permit, reject"]), request())
            == "554 5.7.1 <user@acc.test>: Recipient address rejected: Access denied")
        #expect(await rcpt(try makeEvaluator([.recipient: "defer_if_reject, reject"]), request())
            == "450 4.7.0 <user@acc.test>: Recipient address rejected: defer_if_reject requested")
        // A client-stage defer_if_permit is carried to RCPT and turns its permit into a deferral.
        #expect(await rcpt(try makeEvaluator([.client: "defer_if_permit", .recipient: "permit"]), request())
            == "450 4.7.0 <unknown[192.0.2.9]>: Client host rejected: defer_if_permit requested")
    }

    @Test func pipelining() async throws {
        var r = request()
        r.improperPipelining = true
        #expect(await rcpt(try makeEvaluator([.recipient: "reject_unauth_pipelining"]), r)
            == "503 5.5.0 <user@acc.test>: Recipient address rejected: Improper use of SMTP command pipelining")
    }

    @Test func hostnameChecks() async throws {
        let resolver = FakeResolver(hosts: ["good.example": .found, "flaky.example": .tryAgain])
        let e = try makeEvaluator(
            [.helo: "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname"],
            resolver: resolver)
        #expect(await rcpt(e, request(helo: "good.example")) == "OK")
        #expect(await rcpt(e, request(helo: "good.example.")) == "OK")
        #expect(await rcpt(e, request(helo: "bad_name!")) == "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name")
        #expect(await rcpt(e, request(helo: "[1.2.3]")) == "501 5.5.2 <[1.2.3]>: Helo command rejected: invalid ip address")
        #expect(await rcpt(e, request(helo: "[192.0.2.1]")) == "OK")
        #expect(await rcpt(e, request(helo: "localhost")) == "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")
        #expect(await rcpt(e, request(helo: "nx.example")) == "450 4.7.1 <nx.example>: Helo command rejected: Host not found")
        #expect(await rcpt(e, request(helo: "flaky.example")) == "450 4.7.1 <flaky.example>: Helo command rejected: Host not found")
        #expect(await rcpt(e, request(helo: nil)) == "OK")
        let c = try makeEvaluator([.client: "reject_unknown_client_hostname"])
        #expect(await rcpt(c, request()) == "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.9]")
        #expect(await rcpt(c, request(name: "mail.client.example")) == "OK")
        let rev = try makeEvaluator([.client: "reject_unknown_reverse_client_hostname"])
        #expect(await rcpt(rev, request()) == "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.9]")
    }

    @Test func addressChecks() async throws {
        let resolver = FakeResolver(hosts: ["client.example": .found, "flaky.example": .tryAgain])
        let e = try makeEvaluator(
            [.sender: "reject_non_fqdn_sender, reject_unknown_sender_domain",
             .recipient: "reject_non_fqdn_recipient, reject_unknown_recipient_domain, permit"], resolver: resolver)
        #expect(await rcpt(e, request()) == "OK")
        #expect(await rcpt(e, request(sender: "")) == "OK")
        #expect(await rcpt(e, request(sender: "x@y")) == "504 5.5.2 <x@y>: Sender address rejected: need fully-qualified address")
        #expect(await rcpt(e, request(sender: "x@nx.example")) == "450 4.1.8 <x@nx.example>: Sender address rejected: Domain not found")
        #expect(await rcpt(e, request(recipient: "x@nx.example")) == "450 4.1.2 <x@nx.example>: Recipient address rejected: Domain not found")
        #expect(await rcpt(e, request(recipient: "x@acc.test")) == "OK")
        #expect(await rcpt(e, request(recipient: "postmaster")) == "OK")
        // A temporary DNS failure defers only when nothing rejects (defer_if_permit).
        #expect(await rcpt(e, request(sender: "x@flaky.example")) == "450 4.1.8 <x@flaky.example>: Sender address rejected: Domain not found")
    }

    @Test func unlistedRecipientAndSender() async throws {
        let e = try makeEvaluator([.sender: "reject_unlisted_sender", .recipient: "permit"], unlisted: ["nobody@acc.test"])
        #expect(await rcpt(e, request(recipient: "nobody@acc.test"))
            == "550 5.1.1 <nobody@acc.test>: Recipient address rejected: User unknown in local recipient table")
        #expect(await rcpt(e, request(sender: "nobody@acc.test"))
            == "550 5.1.1 <nobody@acc.test>: Sender address rejected: User unknown in local recipient table")
    }

    @Test func tableFailureIsTemporary() async throws {
        let e = try makeEvaluator([.recipient: "check_recipient_access hash:broken"], tables: ["hash:broken": BrokenTable()])
        #expect(await rcpt(e, request()) == "451 4.3.5 <user@acc.test>: Recipient address rejected: Server configuration error")
    }
}
