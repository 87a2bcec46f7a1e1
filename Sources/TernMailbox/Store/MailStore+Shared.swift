/// Dovecot's shared namespace (`namespace { type = shared  prefix = shared/%%u/ }`): other users' Maildirs under
/// `shared/<owner>/`, `shared/<owner>` itself being the owner's INBOX. Names of this namespace resolve to the
/// owner's store; the acl plugin decides what the session user may do there.
public struct SharedNamespace: Sendable, Equatable {
    /// The prefix before the owner's name (`shared/` of `shared/%%u/`).
    public var prefix: String
    /// The owners the session may see (from acl_shared_dict), each with their Maildir root.
    public var owners: [String: String]

    public init(prefix: String, owners: [String: String]) {
        self.prefix = prefix
        self.owners = owners
    }
}

extension MailStore {
    /// The owner, the owner's store and the name in it of a shared-namespace name; nil for the user's own
    /// names. An owner the session does not know has a nil store.
    func sharedTarget(_ name: String) -> (owner: String, store: MailStore?, name: String)? {
        guard let shared = settings.shared, name.hasPrefix(shared.prefix), name.count > shared.prefix.count else {
            return nil
        }
        let rest = name.dropFirst(shared.prefix.count)
        let owner = String(rest.prefix { $0 != separator })
        let inner = rest.dropFirst(owner.count + 1)
        let store = shared.owners[owner].map { root in
            MailStore(settings: MailStoreSettings(root: root, separator: separator))
        }
        return (owner, store, inner.isEmpty ? "INBOX" : String(inner))
    }

    /// Whether `name` is in the shared namespace (another user's mailbox).
    public func isShared(_ name: String) -> Bool { sharedTarget(normalize(name)) != nil }

    /// The owner of a shared-namespace mailbox.
    public func sharedOwner(_ name: String) -> String? { sharedTarget(normalize(name))?.owner }

    /// The shared namespace's part of LIST "" "*": each owner's mailboxes that `visible` lets through as
    /// `shared/<owner>/<name>`, with the `shared` and `shared/<owner>` levels above them (`list = children`:
    /// only with something below). `shared/<owner>` is the owner's INBOX, selectable when visible.
    public func listShared(visible: (String) -> Bool) -> [MailboxListEntry] {
        guard let shared = settings.shared else { return [] }
        let sep = String(separator)
        var entries: [MailboxListEntry] = []
        for owner in shared.owners.keys.sorted() {
            let base = shared.prefix + owner
            guard let store = sharedTarget(base)?.store, let names = try? store.listMailboxes() else { continue }
            var children: [MailboxListEntry] = []
            for var entry in names where entry.name != "INBOX" {
                entry.name = base + sep + entry.name
                entry.attributes.remove(.subscribed)
                entry.specialUse = []
                if entry.attributes.contains(.noSelect) || visible(entry.name) { children.append(entry) }
            }
            // Parents implied only by hidden mailboxes go too; \HasChildren follows what is left.
            children = children.filter { entry in
                !entry.attributes.contains(.noSelect) || children.contains { $0.name.hasPrefix(entry.name + sep) && !$0.attributes.contains(.noSelect) }
            }
            for index in children.indices {
                let name = children[index].name
                let hasChildren = children.contains { $0.name.hasPrefix(name + sep) }
                children[index].attributes.subtract([.hasChildren, .hasNoChildren])
                children[index].attributes.insert(hasChildren ? .hasChildren : .hasNoChildren)
            }
            let inboxVisible = visible(base)
            guard inboxVisible || !children.isEmpty else { continue }
            var attributes: MailboxAttributes = children.isEmpty ? .hasNoChildren : .hasChildren
            if !inboxVisible { attributes.insert(.noSelect) }
            entries.append(MailboxListEntry(name: base, attributes: attributes, specialUse: []))
            entries += children
        }
        guard !entries.isEmpty else { return [] }
        let top = String(shared.prefix.dropLast())
        return [MailboxListEntry(name: top, attributes: [.noSelect, .hasChildren], specialUse: [])] + entries
    }
}
