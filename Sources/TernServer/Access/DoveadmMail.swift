import Foundation
import TernIMAP
public import TernMailbox

/// The mailbox side of the doveadm mail commands: which mailboxes a query or mask names, which messages
/// match, and the values of `doveadm fetch` fields.
public struct DoveadmMail {
    public let store: MailStore
    public let user: String
    /// The user's home (%h in plugin settings).
    public let home: String
    /// The userdb's plugin settings (`quota_rule=...`), over dovecot.conf's.
    public let userdbSettings: [String: String]

    public init(store: MailStore, user: String, home: String = "", userdbSettings: [String: String] = [:]) {
        self.store = store
        self.user = user
        self.home = home
        self.userdbSettings = userdbSettings
    }

    /// Existing, selectable mailboxes whose names match every one of `masks` (`*` and `%` as in LIST;
    /// no masks: all of them), in the store's listing order.
    public func mailboxNames(matching masks: [String]) throws(MailboxError) -> [String] {
        try store.listMailboxes().filter { !$0.attributes.contains(.noSelect) }.map(\.name).filter { name in
            masks.allSatisfy { matches(name, $0) }
        }
    }

    /// Whether `name` matches a mask (`*` anything, `%` anything within one hierarchy level).
    public func matches(_ name: String, _ mask: String) -> Bool {
        SearchQuery.mailboxName(name, matches: mask, separator: store.settings.separator)
    }

    /// The mailboxes a query names (by pattern and GUID), opened; read-only unless `writable`.
    public func mailboxes(for query: DoveadmQuery, writable: Bool) throws(MailboxError) -> [any Mailbox] {
        var opened: [any Mailbox] = []
        for name in try mailboxNames(matching: query.mailboxPatterns) {
            let mailbox = try store.openMailbox(name, readOnly: !writable)
            if query.mailboxGUIDs.allSatisfy({ $0.lowercased() == mailbox.guid.lowercased() }) { opened.append(mailbox) }
        }
        return opened
    }

    /// The UIDs in `mailbox` that the query's search keys match.
    public func matches(_ query: DoveadmQuery, in mailbox: any Mailbox) -> [UInt32] {
        SearchQuery.matchingUIDs(query.key, in: mailbox)
    }

    // MARK: flags

    /// A flag list as `doveadm flags` takes it: system flags (`\Seen`) and keywords; `\Recent` cannot be set.
    public static func parseFlags(_ text: String) throws(DoveadmFlagError) -> (MessageFlags, [String]) {
        var flags: MessageFlags = []
        var keywords: [String] = []
        for word in text.split(separator: " ").map(String.init) {
            if word.hasPrefix("\\") {
                guard let flag = MessageFlags(imapName: word) else { throw DoveadmFlagError(flag: word) }
                flags.insert(flag)
            } else {
                keywords.append(word)
            }
        }
        return (flags, keywords)
    }

    /// A message's flags as Dovecot prints them: system flags, `\Recent`, then keywords.
    public static func flagText(_ message: MessageInfo) -> String {
        (message.flags.imapNames + (message.isRecent ? ["\\Recent"] : []) + message.keywords).joined(separator: " ")
    }

    // MARK: mailbox status

    /// `doveadm mailbox status` fields in the order Dovecot prints them; `all` is every one of them.
    public static let statusFields = ["messages", "recent", "uidnext", "uidvalidity", "unseen", "vsize", "guid"]

    public static func statusValue(_ field: String, of mailbox: any Mailbox) -> String {
        switch field {
        case "messages": String(mailbox.messages.count)
        case "recent": String(mailbox.recentCount)
        case "uidnext": String(mailbox.nextUID)
        case "uidvalidity": String(mailbox.uidValidity)
        case "unseen": String(mailbox.messages.filter { !$0.flags.contains(.seen) }.count)
        case "vsize": String(mailbox.messages.reduce(0) { $0 + ((try? mailbox.virtualSize(uid: $1.uid)) ?? $1.size) })
        case "guid": mailbox.guid
        default: ""
        }
    }
}

/// `Invalid system flag: \Bogus`, as Dovecot words it.
public struct DoveadmFlagError: Error, Sendable, CustomStringConvertible {
    public let flag: String
    public var description: String { "Invalid system flag: \(flag)" }
}
