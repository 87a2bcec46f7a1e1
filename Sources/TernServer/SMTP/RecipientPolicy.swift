import NIOCore
import TernConfig
import TernCore
import TernDelivery
import TernMaps
import TernMIME
import TernPolicy
import TernSMTP

/// smtpd(8)'s access policy for one session: the restriction evaluator with this server's lookups
/// (tables, DNS, policy services, the recipient tables of reject_unlisted_recipient), the request facts
/// taken from the session, and the log lines in Postfix's form.
struct RecipientPolicy: Sendable {
    let settings: MTASettings
    let client: ClientIdentity
    let evaluator: RestrictionEvaluator

    init(settings: MTASettings, client: ClientIdentity) {
        self.settings = settings
        self.client = client
        let restrictions = settings.restrictions
        let environment = RestrictionEnvironment(
            mynetworks: settings.mynetworks, classifier: settings.classifier, classes: restrictions.classes,
            parameters: restrictions.parameters, resolver: SystemRestrictionResolver.shared,
            policy: PolicyServiceClient(settings: restrictions.policy),
            unlistedCheck: { address, replyClass in
                try await Self.unlisted(settings, address, shownAs: "<\(address.text)>", replyClass: replyClass)
            })
        evaluator = RestrictionEvaluator(
            lists: restrictions.lists, relayList: restrictions.relay, environment: environment,
            delayReject: restrictions.delayReject, rejectUnlistedRecipient: restrictions.rejectUnlistedRecipient,
            rejectUnlistedSender: restrictions.rejectUnlistedSender)
    }

    /// The facts of the current command for the restrictions and the policy service.
    func request(
        _ command: String, machine: SMTPServerStateMachine, sender: MailAddress?, recipient: MailAddress? = nil,
        recipientCount: Int = 0, size: Int = 0, local: SocketAddress?, improperPipelining: Bool, queueID: String? = nil,
        instance: String
    ) -> RestrictionRequest {
        var r = RestrictionRequest(
            command: command, clientAddress: client.address, clientName: client.name,
            reverseClientName: client.name, clientPort: client.port, protocolName: machine.protocolName)
        r.serverAddress = local?.ipAddress ?? ""
        r.serverPort = local?.port ?? 0
        r.heloName = machine.heloName
        r.sender = sender
        r.recipient = recipient
        r.recipientCount = recipientCount
        r.size = size
        r.saslMethod = machine.saslMethod
        r.saslUsername = machine.authenticatedUser
        r.tlsProtocol = machine.isTLSActive ? "TLS" : nil
        r.improperPipelining = improperPipelining
        r.queueID = queueID
        r.instance = instance
        return r
    }

    /// `NOQUEUE: reject: RCPT from host[addr]: 554 5.7.1 ...; from=<s> to=<r> proto=ESMTP helo=<h>`.
    static func logText(_ event: String, _ text: String, _ r: RestrictionRequest) -> String {
        var line = "\(r.queueID ?? "NOQUEUE"): \(event): \(r.command) from \(r.namaddr): \(text);"
        // The addresses in their quoted (external) form, as Postfix logs them; replies show them unquoted.
        if let sender = r.sender { line += " from=<\(AddressQuoting.quoteLocalPart(sender.text))>" }
        if let recipient = r.recipient { line += " to=<\(AddressQuoting.quoteLocalPart(recipient.text))>" }
        line += " proto=\(r.protocolName)"
        if let helo = r.heloName { line += " helo=<\(helo)>" }
        return line
    }

    /// VRFY: `252 2.0.0 name` for a deliverable address, the RCPT rejection for an unknown one.
    func verify(_ request: VerifyRequest) async -> SMTPCheckResult {
        do {
            let shown = "<\(request.text)>"
            if let reply = try await Self.unlisted(
                settings, request.address, shownAs: shown, replyClass: RestrictionStage.recipient.replyClass)
            {
                return .rejected(SMTPReply(code: reply.code, enhancedStatus: reply.status, reply.text))
            }
            return .rejected(SMTPReply(code: 252, enhancedStatus: "2.0.0", request.text))
        } catch {
            return .rejected(SMTPReply(code: 451, enhancedStatus: "4.3.0", "<\(request.text)>: Temporary lookup failure"))
        }
    }

    /// Is the address listed for its class (smtpd's check_rcpt_maps)? Unqualified names are in $myorigin,
    /// as trivial-rewrite makes them. Nil when it is; otherwise the rejection.
    static func unlisted(
        _ settings: MTASettings, _ recipient: MailAddress, shownAs shown: String, replyClass: String
    ) async throws -> PolicyReply? {
        let address = MailAddress(settings.addressRewriter.qualify(recipient.text))
        let addressClass = try await settings.classifier.classify(domain: address.domain)
        // An address the recipient canonical or virtual alias maps know is accepted whatever its class.
        if try await settings.addressRewriter.listsRecipient(address.text) { return nil }
        func unknown(_ code: Int, _ table: String) -> PolicyReply {
            PolicyReply(
                code: code, status: code >= 500 ? "5.1.1" : "4.1.1",
                text: "\(shown): \(replyClass) rejected: User unknown in \(table)")
        }
        switch addressClass {
        case .local:
            switch await settings.localRecipients.check(address) {
            case .known: return nil
            case .unknown: return unknown(settings.unknownLocalRecipientCode, "local recipient table")
            case .unavailable(_): return PolicyReply(code: 451, status: "4.3.0", text: "\(shown): Temporary lookup failure")
            }
        case .virtualMailbox:
            for table in settings.virtualMailboxMaps {
                if try await AddressSearch.virtual(
                    address: address.text, table: table, delimiter: settings.recipientDelimiter) != nil
                {
                    return nil
                }
            }
            return unknown(550, "virtual mailbox table")
        case .virtualAlias:
            guard !settings.addressRewriter.virtualAliasMaps.isEmpty else { return nil }
            return unknown(settings.config.int("unknown_virtual_alias_reject_code") ?? 550, "virtual alias table")
        case .relay, .remote:
            return nil
        }
    }
}

extension PolicyReply {
    var smtpReply: SMTPReply { SMTPReply(code: code, enhancedStatus: status, text) }
}
