import Testing
import TernCore
@testable import TernPolicy

@Suite struct AccessMapTests {
    func senderAccess(_ entries: [String: String], sender: String, parent: Bool = true) async throws -> String {
        let e = try makeEvaluator(
            [.sender: "check_sender_access hash:s"], tables: ["hash:s": DictTable(entries)],
            configure: { $0.accessParentMatches = parent; $0.recipientDelimiter = "+" })
        return await rcpt(e, request(sender: sender))
    }

    @Test func mailLookupOrder() async throws {
        let table = [
            "example.com": "REJECT", "vip@example.com": "OK", "spammer@": "REJECT Go away",
            "user@sub.example.org": "550 5.7.1 Full", "example.org": "DUNNO",
        ]
        #expect(try await senderAccess(table, sender: "someone@example.com")
            == "554 5.7.1 <someone@example.com>: Sender address rejected: Access denied")
        #expect(try await senderAccess(table, sender: "vip@example.com") == "OK")
        #expect(try await senderAccess(table, sender: "vip+tag@example.com") == "OK")
        #expect(try await senderAccess(table, sender: "x@deep.sub.example.com").hasPrefix("554"))
        #expect(try await senderAccess(table, sender: "spammer@elsewhere.example")
            == "554 5.7.1 <spammer@elsewhere.example>: Sender address rejected: Go away")
        #expect(try await senderAccess(table, sender: "user@sub.example.org")
            == "550 5.7.1 <user@sub.example.org>: Sender address rejected: Full")
        // The domain entry (DUNNO) comes before the localpart@ entry.
        #expect(try await senderAccess(["example.org": "DUNNO", "x@": "REJECT"], sender: "x@example.org") == "OK")
    }

    @Test func parentDomainStyle() async throws {
        #expect(try await senderAccess([".example.net": "REJECT"], sender: "a@b.example.net", parent: true) == "OK")
        #expect(try await senderAccess([".example.net": "REJECT"], sender: "a@b.example.net", parent: false).hasPrefix("554"))
        #expect(try await senderAccess(["example.net": "REJECT"], sender: "a@b.example.net", parent: false) == "OK")
    }

    @Test func nullSenderKey() async throws {
        #expect(try await senderAccess(["<>": "REJECT"], sender: "") == "554 5.7.1 <>: Sender address rejected: Access denied")
    }

    @Test func clientLookupOrder() async throws {
        let table = DictTable([
            "127.0.0.2": "REJECT Your host is blocked", "127.0.5": "REJECT Your network is blocked",
            "127.0.5.7": "OK", "127.0.6.": "REJECT Dotted key", "bad.example": "REJECT By name",
        ])
        let e = try makeEvaluator([.client: "check_client_access hash:c"], tables: ["hash:c": table])
        #expect(await rcpt(e, request(client: "127.0.0.2"))
            == "554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: Your host is blocked")
        #expect(await rcpt(e, request(client: "127.0.5.9")).hasSuffix("Your network is blocked"))
        #expect(await rcpt(e, request(client: "127.0.5.7")) == "OK")
        #expect(await rcpt(e, request(client: "127.0.6.1")) == "OK")
        #expect(await rcpt(e, request(client: "192.0.2.1", name: "mx.bad.example")).hasSuffix("By name"))
        #expect(AccessKeys.address("2001:db8::1").map(\.0) == ["2001:db8::1", "2001:db8:", "2001:db8", "2001"])
    }

    @Test func patternTablesSeeOnlyTheFullKey() async throws {
        #expect(AccessKeys.isPatternTable("regexp:/etc/postfix/x"))
        #expect(!AccessKeys.isPatternTable("hash:/etc/postfix/x"))
        let table = DictTable(["example.com": "REJECT"], spec: "regexp:/test")
        let e = try makeEvaluator([.sender: "check_sender_access regexp:s"], tables: ["regexp:s": table])
        #expect(await rcpt(e, request(sender: "u@example.com")) == "OK")
    }

    func action(_ value: String, stage: RestrictionStage = .recipient) async throws -> (String, RestrictionOutcome, RestrictionSessionState) {
        let e = try makeEvaluator(
            [stage: "check_\(stage == .recipient ? "recipient" : "client")_access hash:a"],
            tables: ["hash:a": DictTable(["user@acc.test": value, "192.0.2.9": value])],
            configure: { $0.accessMapRejectCode = 554 })
        var state = RestrictionSessionState()
        let outcome = await e.checkRecipient(request(), &state)
        return (outcome.reply?.description ?? "OK", outcome, state)
    }

    @Test func actions() async throws {
        #expect(try await action("OK").0 == "OK")
        #expect(try await action("RELAY").0 == "OK")
        #expect(try await action("12345").0 == "OK")
        #expect(try await action("DUNNO").0 == "OK")
        #expect(try await action("REJECT").0 == "554 5.7.1 <user@acc.test>: Recipient address rejected: Access denied")
        #expect(try await action("REJECT 5.2.2 Mailbox full").0 == "554 5.2.2 <user@acc.test>: Recipient address rejected: Mailbox full")
        #expect(try await action("DEFER").0 == "450 4.7.1 <user@acc.test>: Recipient address rejected: Access denied")
        #expect(try await action("DEFER Come back later").0 == "450 4.7.1 <user@acc.test>: Recipient address rejected: Come back later")
        #expect(try await action("450 Busy").0 == "450 4.7.1 <user@acc.test>: Recipient address rejected: Busy")
        #expect(try await action("550 5.1.1 Gone").0 == "550 5.1.1 <user@acc.test>: Recipient address rejected: Gone")
        // A sender-form DSN is turned into its recipient form.
        #expect(try await action("550 5.1.8 Bad").0 == "550 5.1.2 <user@acc.test>: Recipient address rejected: Bad")
        #expect(try await action("DEFER_IF_PERMIT Try later").0 == "450 4.7.1 <user@acc.test>: Recipient address rejected: Try later")
        #expect(try await action("DEFER_IF_PERMIT 4.2.0 Greylisted").0 == "450 4.2.0 <user@acc.test>: Recipient address rejected: Greylisted")
        #expect(try await action("DEFER_IF_REJECT").0 == "OK")
        #expect(try await action("reject_unauth_destination, permit").0 == "OK")
        #expect(try await action("hash:/etc/other").0 == "451 4.3.5 Server configuration error")
        #expect(try await action("no_such_restriction").0 == "451 4.3.5 Server configuration error")
        #expect(try await action("999 Strange").0 == "451 4.3.5 Server configuration error")
    }

    @Test func messageActions() async throws {
        let (hold, holdOutcome, holdState) = try await action("HOLD")
        #expect(hold == "OK")
        #expect(holdState.actions.hold)
        #expect(holdOutcome.log == [PolicyLogLine(event: "hold", text: "<user@acc.test>: Recipient address triggers HOLD action")])
        let (discard, _, discardState) = try await action("DISCARD Not wanted")
        #expect(discard == "OK")
        #expect(discardState.actions.discard && discardState.discard)
        let (_, _, prepend) = try await action("PREPEND X-Checked: yes")
        #expect(prepend.actions.prepend == ["X-Checked: yes"])
        let (_, badPrepend, noHeader) = try await action("PREPEND not a header")
        #expect(noHeader.actions.prepend.isEmpty)
        #expect(badPrepend.log.first?.text.contains("requires header: text") == true)
        let (_, redirectLog, redirect) = try await action("REDIRECT other@acc.test")
        #expect(redirect.actions.redirect == "other@acc.test")
        #expect(redirectLog.log.first == PolicyLogLine(event: "redirect", text: "<user@acc.test>: Recipient address triggers REDIRECT other@acc.test"))
        let (_, _, filter) = try await action("FILTER smtp:[127.0.0.1]:10025")
        #expect(filter.actions.filter == "smtp:[127.0.0.1]:10025")
        let (_, warnLog, _) = try await action("WARN Looks odd")
        #expect(warnLog.log.first == PolicyLogLine(event: "warn", text: "Looks odd"))
    }

    @Test func clientActionsNeedATransaction() async throws {
        let e = try makeEvaluator(
            [.client: "check_client_access hash:a"], tables: ["hash:a": DictTable(["192.0.2.9": "HOLD"])],
            delayReject: false)
        var state = RestrictionSessionState()
        let outcome = await e.checkClient(request(sender: nil, recipient: nil, command: "CONNECT"), &state)
        #expect(!state.actions.hold)
        #expect(outcome.log.first?.text.contains("action HOLD is always skipped") == true)
    }

    @Test func recipientOKIsIgnoredForRoutedAddresses() async throws {
        let e = try makeEvaluator(
            [.recipient: "check_recipient_access hash:r, reject_unauth_destination"],
            tables: ["hash:r": DictTable(["acc.test": "OK"])])
        #expect(await rcpt(e, request(recipient: "victim%remote.example@acc.test")).hasSuffix("Relay access denied"))
    }

    @Test func dsnHelpers() {
        #expect(DSNSplit.split("4.2.0 Greylisted", default: "4.7.1") == ("4.2.0", "Greylisted"))
        #expect(DSNSplit.split("Greylisted", default: "4.7.1") == ("4.7.1", "Greylisted"))
        #expect(DSNSplit.fix("5.1.1", replyClass: "Sender address") == "4.1.0")
        #expect(DSNSplit.fix("5.1.1", replyClass: "Recipient address") == "4.1.1")
        #expect(DSNSplit.fix("5.7.1", replyClass: "Sender address") == "5.7.1")
        #expect(DSNSplit.fix("5.1.1", replyClass: "Client host") == "4.0.0")
    }
}
