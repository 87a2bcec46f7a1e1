import TernMailbox

/// RFC 5464 METADATA (Dovecot's imap_metadata = yes), on Dovecot's attribute dict file.
extension IMAPMailSession {
    func getMetadata(_ tag: String, _ name: MailboxName, _ entries: [String], _ options: MetadataOptions) {
        guard let attributes = metadataAttributes(tag, "GETMETADATA"), let scope = metadataScope(tag, name) else {
            return
        }
        let depth: Int? = options.depth == .zero ? 0 : (options.depth == .one ? 1 : nil)
        var values: [(String, [UInt8]?)]
        do {
            values = try attributes.values(entries, scope, depth: depth)
        } catch {
            fail(tag, error)
            return
        }
        // §4.2.1: values over MAXSIZE are left out; the largest of them is reported.
        var longest = 0
        if let maxSize = options.maxSize {
            values.removeAll { entry in
                guard let value = entry.1, value.count > maxSize else { return false }
                longest = max(longest, value.count)
                return true
            }
        }
        if !values.isEmpty {
            output.raw("* METADATA ")
            output.mailbox(name)
            output.raw(" (")
            for (index, (entry, value)) in values.enumerated() {
                if index > 0 { output.space() }
                output.raw(entry)
                output.space()
                // Dovecot sends every value as a literal.
                if let value { output.literal(value) } else { output.nilValue() }
            }
            output.raw(")")
            output.crlf()
        }
        let code: ResponseCode? = longest > 0 ? .other("METADATA LONGENTRIES \(longest)") : nil
        finish(tag, .ok, code, text: IMAPReplyText.getMetadataCompleted)
    }

    func setMetadata(_ tag: String, _ name: MailboxName, _ values: [MetadataValue]) {
        guard let attributes = metadataAttributes(tag, "SETMETADATA"), let scope = metadataScope(tag, name) else {
            return
        }
        do {
            try attributes.set(values.map { ($0.entry, $0.value) }, scope)
        } catch {
            fail(tag, error)
            return
        }
        finish(tag, text: IMAPReplyText.setMetadataCompleted)
    }

    /// The attribute dict, when METADATA is on; otherwise the command is unknown, as in Dovecot.
    private func metadataAttributes(_ tag: String, _ command: String) -> MetadataDictionary? {
        guard let path = configuration.metadataPath else {
            let error = IMAPCommandError(tag: tag, command: command, reason: .unknownCommand)
            send(.badCommand(error, preLogin: false, timing: timing()))
            countBadCommand()
            return nil
        }
        return MetadataDictionary(path: path)
    }

    /// The mailbox's GUID (INBOX's for the server entries of mailbox ""); nil after answering NO.
    private func metadataScope(_ tag: String, _ name: MailboxName) -> MetadataDictionary.Scope? {
        let server = name.bytes.isEmpty
        guard let storeName = server ? "INBOX" : storeName(tag, name) else { return nil }
        // RFC 5464 §3.2 and §3.3 with ACL: a mailbox's entries need l and any of r s w i p, both for reading
        // and setting (Dovecot's acl_have_attribute_rights); server entries need no rights.
        let granted = server ? ACLRights.all : rights(storeName)
        guard granted.contains(.lookup) else {
            finish(tag, .no, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            return nil
        }
        guard !granted.isDisjoint(with: [.read, .writeSeen, .write, .insert, .post]) else {
            finish(tag, .no, .noPerm, text: IMAPReplyText.permissionDenied)
            return nil
        }
        do {
            let guid = try store.openMailbox(storeName, readOnly: true).guid
            return MetadataDictionary.Scope(guid: guid, server: server)
        } catch .nonexistent {
            finish(tag, .no, text: IMAPReplyText.mailboxDoesNotExist(storeName))
        } catch {
            fail(tag, error)
        }
        return nil
    }
}
