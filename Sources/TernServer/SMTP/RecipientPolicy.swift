import TernConfig
import TernCore
import TernDelivery
import TernMaps
import TernPolicy
import TernSMTP

/// The RCPT TO decision of smtpd(8) in Postfix's order: smtpd_relay_restrictions, then
/// smtpd_recipient_restrictions, then the unlisted-recipient check (smtpd_reject_unlisted_recipient) for the
/// address's class (local recipient table, virtual mailbox table, virtual alias table).
struct RecipientPolicy {
    let settings: MTASettings
    let client: ClientIdentity
    /// The client logged in with AUTH (permit_sasl_authenticated).
    var saslAuthenticated = false

    func check(_ recipient: MailAddress) async -> SMTPCheckResult {
        do {
            let context = RecipientContext(
                clientAddress: IPAddress(client.address), recipient: recipient, saslAuthenticated: saslAuthenticated)
            for restrictions in [settings.relayRestrictions, settings.recipientRestrictions] {
                let decision = try await restrictions.evaluate(
                    context, mynetworks: settings.mynetworks, classifier: settings.classifier)
                if case .reject(let code, let status, let text) = decision {
                    return .rejected(SMTPReply(code: code, enhancedStatus: status, text))
                }
            }
            guard settings.rejectUnlistedRecipient else { return .accepted }
            return try await unlisted(recipient, shownAs: "<\(recipient.text)>")
        } catch {
            return .rejected(
                SMTPReply(code: 451, enhancedStatus: "4.3.0", "<\(recipient.text)>: Temporary lookup failure"))
        }
    }

    /// VRFY: `252 2.0.0 name` for a deliverable address, the RCPT rejection for an unknown one.
    func verify(_ request: VerifyRequest) async -> SMTPCheckResult {
        do {
            switch try await unlisted(request.address, shownAs: "<\(request.text)>") {
            case .accepted: return .rejected(SMTPReply(code: 252, enhancedStatus: "2.0.0", request.text))
            case .rejected(let reply): return .rejected(reply)
            }
        } catch {
            return .rejected(SMTPReply(code: 451, enhancedStatus: "4.3.0", "<\(request.text)>: Temporary lookup failure"))
        }
    }

    /// Is the address listed for its class? Unqualified names are in $myorigin, as trivial-rewrite makes them.
    private func unlisted(_ recipient: MailAddress, shownAs shown: String) async throws -> SMTPCheckResult {
        let address = recipient.domain == nil ? MailAddress("\(recipient.text)@\(settings.myorigin)") : recipient
        let code = settings.unknownLocalRecipientCode
        let addressClass = try await settings.classifier.classify(domain: address.domain)
        // An address the recipient canonical or virtual alias maps know is accepted whatever its class
        // (smtpd's check_rcpt_maps).
        if try await settings.addressRewriter.listsRecipient(address.text) { return .accepted }
        switch addressClass {
        case .local:
            switch await settings.localRecipients.check(address) {
            case .known: return .accepted
            case .unknown:
                return .rejected(
                    SMTPReply(
                        code: code, enhancedStatus: code >= 500 ? "5.1.1" : "4.1.1",
                        "\(shown): Recipient address rejected: User unknown in local recipient table"))
            case .unavailable(_):
                return .rejected(SMTPReply(code: 451, enhancedStatus: "4.3.0", "\(shown): Temporary lookup failure"))
            }
        case .virtualMailbox:
            for table in settings.virtualMailboxMaps {
                if try await AddressSearch.virtual(
                    address: address.text, table: table, delimiter: settings.recipientDelimiter) != nil
                {
                    return .accepted
                }
            }
            return .rejected(
                SMTPReply(
                    code: 550, enhancedStatus: "5.1.1",
                    "\(shown): Recipient address rejected: User unknown in virtual mailbox table"))
        case .virtualAlias:
            guard !settings.addressRewriter.virtualAliasMaps.isEmpty else { return .accepted }
            let code = settings.config.int("unknown_virtual_alias_reject_code") ?? 550
            return .rejected(
                SMTPReply(
                    code: code, enhancedStatus: code >= 500 ? "5.1.1" : "4.1.1",
                    "\(shown): Recipient address rejected: User unknown in virtual alias table"))
        case .relay, .remote:
            return .accepted
        }
    }
}
