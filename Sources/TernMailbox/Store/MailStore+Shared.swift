/// Dovecot's shared namespace (`namespace { type = shared  prefix = shared/%%u/ }`): other users' Maildirs under
/// `shared/<owner>/`, `shared/<owner>` itself being the owner's INBOX. Names of this namespace resolve to the
/// owner's store; the acl plugin decides what the session user may do there.
public struct SharedNamespace: Sendable, Equatable {
    /// The prefix before the owner's level (`shared/` of `shared/%%u/`).
    public var prefix: String
    /// The owners the session may see (from acl_shared_dict), each with their Maildir root, by the level that
    /// names them (`carla`; with `prefix = shared/%%n/` the local part of `carla@example.org`).
    public var owners: [String: String]
    /// The user names of the levels that differ from them (`carla` → `carla@example.org`).
    public var users: [String: String]
    /// The location's `INDEXPVT=` directory per owner's user name (`~/Maildir/shared/<owner>` in the session
    /// user's home): where the session user's private `\Seen` of that owner's mailboxes is kept. None: `\Seen`
    /// is shared.
    public var privateIndexes: [String: String]

    public init(
        prefix: String, owners: [String: String], users: [String: String] = [:],
        privateIndexes: [String: String] = [:]
    ) {
        self.prefix = prefix
        self.owners = owners
        self.users = users
        self.privateIndexes = privateIndexes
    }
}

extension MailStore {
    /// The shared namespace as the session knows it now.
    var sharedNamespace: SharedNamespace? { settings.sharedOwners?.namespace ?? settings.shared }

    /// The owner, the owner's store and the name in it of a shared-namespace name; nil for the user's own
    /// names. An owner the session does not know has a nil store.
    func sharedTarget(_ name: String) -> (owner: String, store: MailStore?, name: String)? {
        guard var shared = sharedNamespace, name.hasPrefix(shared.prefix), name.count > shared.prefix.count else {
            return nil
        }
        let rest = name.dropFirst(shared.prefix.count)
        let level = String(rest.prefix { $0 != separator })
        // An owner not known yet may have shared since (SELECT or STATUS before any LIST).
        if shared.owners[level] == nil, let directory = settings.sharedOwners { shared = directory.refresh() }
        let inner = rest.dropFirst(level.count + 1)
        let store = shared.owners[level].map { root in
            MailStore(settings: MailStoreSettings(root: root, separator: separator))
        }
        return (shared.users[level] ?? level, store, inner.isEmpty ? "INBOX" : String(inner))
    }

    /// The directory under INDEXPVT for a shared mailbox's private flags, named as Dovecot names its private
    /// index directories there (`.INBOX`, `.Work`, `.A.B`); nil without INDEXPVT or outside the namespace.
    func privateFlagsDirectory(_ name: String) -> String? {
        guard let target = sharedTarget(name), let store = target.store,
            let directory = sharedNamespace?.privateIndexes[target.owner]
        else { return nil }
        let inner = store.normalize(target.name)
        if inner == "INBOX" { return directory + "/.INBOX" }
        guard let path = try? store.folderPath(inner) else { return nil }
        return directory + "/" + path.dropFirst(store.root.count + 1)
    }

    /// How the subscriptions file names another user's INBOX, as Dovecot writes it: `shared/carla/INBOX` for
    /// `shared/carla`. Other names are kept.
    func sharedSubscriptionEntry(_ name: String) -> String {
        guard let target = sharedTarget(name), !name.dropFirst(sharedNamespace?.prefix.count ?? 0).contains(separator)
        else { return name }
        return name + String(separator) + target.name
    }

    /// The mailbox name of a subscriptions file entry: `shared/carla/INBOX` is `shared/carla`.
    func sharedSubscription(_ entry: String) -> String {
        guard let target = sharedTarget(entry), target.name.uppercased() == "INBOX",
            entry.hasSuffix(String(separator) + target.name)
        else { return entry }
        return String(entry.dropLast(target.name.count + 1))
    }

    /// The owner's store of a shared-namespace mailbox (nil for the user's own names and unknown owners).
    public func sharedStore(_ name: String) -> MailStore? { sharedTarget(normalize(name))?.store }

    /// Whether `name` is in the shared namespace (another user's mailbox).
    public func isShared(_ name: String) -> Bool { sharedTarget(normalize(name)) != nil }

    /// The owner of a shared-namespace mailbox.
    public func sharedOwner(_ name: String) -> String? { sharedTarget(normalize(name))?.owner }

    /// The shared namespace's part of LIST "" "*": each owner's mailboxes that `visible` lets through as
    /// `shared/<owner>/<name>`, with the `shared` and `shared/<owner>` levels above them (`list = children`:
    /// only with something below). `shared/<owner>` is the owner's INBOX, selectable when visible.
    public func listShared(visible: (String) -> Bool) -> [MailboxListEntry] {
        guard let shared = settings.sharedOwners?.refresh() ?? settings.shared else { return [] }
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
