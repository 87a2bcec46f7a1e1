import TernCore
import TernQueue

/// sender_bcc_maps and recipient_bcc_maps (postconf(5)): cleanup looks up the envelope sender and each
/// envelope recipient (after canonical mapping, before virtual alias expansion) with the canonical(5) search
/// order, and adds each result as a recipient that gets no DSN notices, virtual aliases expanded.
struct BccMaps: Sendable {
    let sender: [any LookupTable]
    let recipient: [any LookupTable]

    var isEmpty: Bool { sender.isEmpty && recipient.isEmpty }
}

extension AddressRewriter {
    /// The sender_bcc_maps addresses for this sender (none for the null sender).
    func bcc(sender: MailAddress) async throws(RewriteError) -> [String] {
        guard !bcc.sender.isEmpty, !sender.isNull else { return [] }
        return try await lookup(sender.text, in: bcc.sender, parameter: "sender_bcc_maps", propagate: false) ?? []
    }

    /// The recipient_bcc_maps addresses for this (canonical) recipient.
    func bcc(recipient: String) async throws(RewriteError) -> [String] {
        guard !bcc.recipient.isEmpty, !recipient.isEmpty else { return [] }
        return try await lookup(recipient, in: bcc.recipient, parameter: "recipient_bcc_maps", propagate: false) ?? []
    }

    /// Adds the BCC addresses (qualified, virtual aliases expanded) that are not recipients already, with
    /// NOTIFY=NEVER as cleanup_addr_bcc() does.
    func addBcc(_ addresses: [String], to recipients: inout [QueueRecipient]) async throws(RewriteError) {
        for address in addresses {
            for expanded in try await expand(qualify(address)) {
                guard !recipients.contains(where: { $0.address.text.lowercased() == expanded.lowercased() }) else {
                    continue
                }
                recipients.append(QueueRecipient(MailAddress(expanded), notify: .never))
            }
        }
    }
}
