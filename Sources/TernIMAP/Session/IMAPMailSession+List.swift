import TernMailbox

extension IMAPMailSession {
    /// LIST (RFC 3501 §6.3.8) and its extended form (RFC 5258, RFC 6154, RFC 5819), with Dovecot's choice
    /// of attributes: the basic form always reports children and special use and calls implied parents
    /// `\Noselect`; the extended form reports only what was asked for and calls them `\NonExistent`.
    func list(_ tag: String, _ command: ListCommand) {
        if !command.isExtended, command.patterns.first?.bytes.isEmpty == true {
            // RFC 3501 §6.3.8: an empty pattern asks for the hierarchy delimiter.
            send(.list(MailboxListItem(attributes: [.noselect], delimiter: separator, name: MailboxName(bytes: []))))
            finish(tag, text: IMAPReplyText.listCompleted)
            return
        }
        let subscribedOnly = command.selectionOptions.contains(.subscribed)
        let entries: [MailboxListEntry]
        do {
            entries =
                try subscribedOnly
                ? store.listSubscribed() : store.listMailboxes() + store.listShared { rights($0).contains(.lookup) }
        } catch {
            fail(tag, error)
            return
        }
        let patterns = command.patterns.map { combined(command.reference.bytes, $0.bytes) }
        let specialUseOnly = command.selectionOptions.contains(.specialUse)
        for entry in entries where !specialUseOnly || !entry.specialUse.isEmpty {
            let wireName = self.wireName(entry.name)
            guard patterns.contains(where: { matches(wireName.bytes, $0) }), visible(entry) else { continue }
            let attributes = listAttributes(entry, command)
            send(.list(MailboxListItem(attributes: attributes, delimiter: separator, name: wireName)))
            writeListStatus(entry, wireName, command)
        }
        finish(tag, text: IMAPReplyText.listCompleted)
    }

    func lsub(_ tag: String, reference: MailboxName, pattern: MailboxName) {
        let entries: [MailboxListEntry]
        do {
            entries = try store.listSubscribed()
        } catch {
            fail(tag, error)
            return
        }
        let full = combined(reference.bytes, pattern.bytes)
        for entry in entries {
            let wireName = self.wireName(entry.name)
            guard matches(wireName.bytes, full), visible(entry) else { continue }
            send(.lsub(MailboxListItem(attributes: [], delimiter: separator, name: wireName)))
        }
        finish(tag, text: IMAPReplyText.lsubCompleted)
    }

    var separator: Character { store.settings.separator }

    /// RFC 4314 §4: a mailbox lists only with the lookup right (names without a mailbox of their own have
    /// no ACL and list as before).
    func visible(_ entry: MailboxListEntry) -> Bool {
        guard configuration.acl != nil, !entry.attributes.contains(.noSelect),
            !entry.attributes.contains(.nonExistent)
        else { return true }
        return rights(entry.name).contains(.lookup)
    }

    func listAttributes(_ entry: MailboxListEntry, _ command: ListCommand) -> [MailboxAttribute] {
        let extended = command.isExtended
        let returns = command.returnOptions
        var attributes: [MailboxAttribute] = []
        let subscribedWanted = command.selectionOptions.contains(.subscribed) || returns.contains(.subscribed)
        if extended, subscribedWanted, entry.attributes.contains(.subscribed) { attributes.append(.subscribed) }
        // IMAP4rev2 folds LIST-EXTENDED in (RFC 9051 §6.3.9): a name with no mailbox is \NonExistent.
        let nonExistent = extended || imap4rev2Enabled
        if entry.attributes.contains(.nonExistent) || (nonExistent && entry.attributes.contains(.noSelect)) {
            attributes.append(.nonExistent)
        } else if entry.attributes.contains(.noSelect) {
            attributes.append(.noselect)
        }
        if entry.attributes.contains(.noInferiors) { attributes.append(.noinferiors) }
        if !extended || returns.contains(.children) {
            if entry.attributes.contains(.hasChildren) { attributes.append(.hasChildren) }
            if entry.attributes.contains(.hasNoChildren) { attributes.append(.hasNoChildren) }
        }
        let specialUseWanted = command.selectionOptions.contains(.specialUse) || returns.contains(.specialUse)
        if !extended || specialUseWanted {
            attributes += entry.specialUse.map { MailboxAttribute(specialUse: $0) ?? .other($0) }
        }
        return attributes
    }

    /// RFC 5819: `* STATUS` right after the LIST line of each selectable mailbox.
    private func writeListStatus(_ entry: MailboxListEntry, _ wireName: MailboxName, _ command: ListCommand) {
        guard !entry.attributes.contains(.noSelect), !entry.attributes.contains(.nonExistent),
            rights(entry.name).contains(.read)
        else { return }
        for case .status(let attributes) in command.returnOptions {
            if let values = try? statusValues(entry.name, attributes) { send(.status(wireName, values)) }
        }
    }

    /// Reference and pattern joined as RFC 3501 §6.3.8 describes: the reference is a prefix of the name.
    private func combined(_ reference: [UInt8], _ pattern: [UInt8]) -> [UInt8] {
        reference + pattern
    }

    /// `*` matches anything, `%` anything but the separator (RFC 3501 §6.3.8); INBOX in any case.
    func matches(_ name: [UInt8], _ pattern: [UInt8]) -> Bool {
        ListPattern(pattern, separator: Array(String(separator).utf8).first ?? 0).matches(name)
    }
}

/// A LIST pattern, matched in one pass over the name with the set of pattern positions reached (no
/// backtracking, so `*a*a*a...` costs no more than its length).
struct ListPattern {
    let pattern: [UInt8]
    let separator: UInt8

    init(_ pattern: [UInt8], separator: UInt8) {
        self.separator = separator
        self.pattern = Self.upperCasingInbox(pattern, separator: separator)
    }

    func matches(_ name: [UInt8]) -> Bool {
        var reached = closure([0])
        for byte in name {
            var next = Set<Int>()
            for position in reached where position < pattern.count {
                let wildcard = pattern[position]
                if wildcard == UInt8(ascii: "*") || (wildcard == UInt8(ascii: "%") && byte != separator) {
                    next.insert(position)
                } else if wildcard == byte {
                    next.insert(position + 1)
                }
            }
            reached = closure(next)
            if reached.isEmpty { return false }
        }
        return reached.contains(pattern.count)
    }

    private func closure(_ positions: Set<Int>) -> Set<Int> {
        var result = positions
        var position = (positions.min() ?? pattern.count)
        while position < pattern.count {
            if result.contains(position), pattern[position] == UInt8(ascii: "*") || pattern[position] == UInt8(ascii: "%") {
                result.insert(position + 1)
            }
            position += 1
        }
        return result
    }

    /// `inbox`, `Inbox/...` in a pattern name INBOX, which is case-insensitive (RFC 3501 §5.1).
    private static func upperCasingInbox(_ pattern: [UInt8], separator: UInt8) -> [UInt8] {
        guard pattern.count >= 5, String(decoding: pattern.prefix(5), as: UTF8.self).uppercased() == "INBOX",
            pattern.count == 5 || pattern[5] == separator
        else { return pattern }
        return Array("INBOX".utf8) + pattern.dropFirst(5)
    }
}
