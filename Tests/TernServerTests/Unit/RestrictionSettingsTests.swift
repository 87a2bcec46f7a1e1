import TernConfig
import TernCore
import TernMaps
import TernPolicy
import Testing

@testable import TernServer

@Suite struct RestrictionSettingsTests {
    func settings(_ lines: String) throws -> RestrictionSettings {
        let config = try MainConfig.parse(text: lines)
        return try RestrictionSettings.make(config) { try MapOpener.open($0) }
    }

    @Test func listsClassesAndParametersComeFromMainCF() throws {
        let s = try settings(
            """
            smtpd_delay_reject = no
            smtpd_restriction_classes = strict
            strict = reject_non_fqdn_sender, reject
            smtpd_client_restrictions = check_client_access inline:{10.0.0.1=OK}, reject_unknown_client_hostname
            smtpd_recipient_restrictions = permit_mynetworks, inline:{a@b.example=strict}, reject_unauth_destination
            smtpd_data_restrictions = reject_unauth_pipelining
            access_map_reject_code = 550
            smtpd_policy_service_timeout = 7s
            smtpd_policy_service_default_action = DUNNO
            """)
        #expect(!s.delayReject)
        #expect(s.lists[.client]?.restrictions.count == 2)
        #expect(s.lists[.recipient]?.restrictions.count == 3)
        #expect(s.has(.data) && !s.has(.endOfData) && !s.has(.helo))
        #expect(s.classes["strict"]?.restrictions.count == 2)
        #expect(s.parameters.accessMapRejectCode == 550)
        #expect(s.parameters.policyDefaultAction == "DUNNO")
        #expect(s.parameters.accessParentMatches)
        #expect(s.policy.timeout == 7)
        // compatibility_level 0: smtpd_relay_restrictions is empty.
        #expect(s.relay.restrictions.isEmpty)
        #expect(!s.lacksRelayControl)
    }

    @Test func relayControlIsRequired() throws {
        #expect(try settings("smtpd_recipient_restrictions = permit_mynetworks").lacksRelayControl)
        #expect(try settings("smtpd_recipient_restrictions = permit, reject").lacksRelayControl)
        #expect(try settings("smtpd_recipient_restrictions = warn_if_reject reject_unauth_destination").lacksRelayControl)
        #expect(!(try settings("smtpd_relay_restrictions = permit_mynetworks, defer_unauth_destination").lacksRelayControl))
        #expect(!(try settings("compatibility_level = 3.6").lacksRelayControl))
        let classes = "smtpd_restriction_classes = relay\nrelay = reject_unauth_destination\n"
        #expect(!(try settings(classes + "smtpd_recipient_restrictions = permit_mynetworks, relay").lacksRelayControl))
    }

    @Test func aTableThatDoesNotOpenNamesTheParameter() throws {
        #expect(throws: FileError.self) {
            try settings("smtpd_sender_restrictions = check_sender_access hash:/nonexistent/access")
        }
    }
}

/// smtpd's NOQUEUE lines name the envelope addresses in their quoted form, as Postfix logs them.
@Suite struct RestrictionLogTextTests {
    @Test func addressesAreQuotedInTheLogLine() {
        var request = RestrictionRequest(
            command: "RCPT", clientAddress: "192.0.2.9", clientName: "unknown", reverseClientName: "unknown",
            clientPort: 4000, protocolName: "ESMTP")
        request.heloName = "client.test"
        request.sender = MailAddress("john doe@example.com")
        request.recipient = MailAddress("user@remote.test@example.com")
        #expect(
            RecipientPolicy.logText("reject", "554 5.7.1 <user@remote.test@example.com>: Relay access denied", request)
                == "NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 <user@remote.test@example.com>: "
                + #"Relay access denied; from=<"john doe"@example.com> to=<"user@remote.test"@example.com> "#
                + "proto=ESMTP helo=<client.test>")
    }
}
