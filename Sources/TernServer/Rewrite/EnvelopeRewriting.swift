import TernCore
import TernQueue

extension AddressRewriter {
    /// The envelope as cleanup writes it: the sender and each recipient rewritten for their class, then each
    /// recipient expanded through virtual_alias_maps; duplicates of an expansion are dropped as cleanup does.
    func rewriteEnvelope(_ envelope: inout QueueEnvelope) async throws(RewriteError) {
        if !envelope.sender.isNull {
            envelope.sender = MailAddress(try await rewrite(envelope.sender.text, as: .envelopeSender))
        }
        var bccAddresses = try await bcc(sender: envelope.sender)
        var recipients: [QueueRecipient] = []
        var seen = Set<String>()
        for recipient in envelope.recipients {
            let rewritten = try await rewrite(recipient.address.text, as: .envelopeRecipient)
            bccAddresses += try await bcc(recipient: rewritten)
            for address in try await expand(rewritten) {
                let copy = recipient.readdressed(address)
                // cleanup's duplicate filter: the same address for the same original and DSN settings.
                let original = "\(copy.originalRecipient?.text ?? "")\n\(copy.orcpt ?? "")\n\(copy.notify.rawValue)"
                let key = "\(original)\n\(address.lowercased())"
                if seen.insert(key).inserted { recipients.append(copy) }
            }
        }
        try await addBcc(bccAddresses, to: &recipients)
        envelope.recipients = recipients
    }

    /// The envelope when no maps or masquerading are configured: only bare names are qualified, without waiting.
    func qualifyEnvelope(_ envelope: inout QueueEnvelope) {
        envelope.sender = MailAddress(qualify(envelope.sender.text))
        envelope.recipients = envelope.recipients.map { $0.readdressed(qualify($0.address.text)) }
    }
}

extension QueueRecipient {
    /// This recipient under another address; the address the client gave stays its original recipient
    /// (Postfix's orig_rcpt, logged as `orig_to=`) and, unless the client sent one, its DSN ORCPT, as
    /// Postfix records `dsn_orig_rcpt=rfc822;...`.
    func readdressed(_ address: String) -> QueueRecipient {
        guard address != self.address.text else { return self }
        var copy = self
        copy.address = MailAddress(address)
        if copy.originalRecipient == nil { copy.originalRecipient = self.address }
        if copy.orcpt == nil { copy.orcpt = "rfc822;\(self.address.text)" }
        return copy
    }
}
