/// Dovecot's acl_shared_dict (`file:PATH`): which users have mailboxes another user, a group or anyone may
/// look up, so that a shared namespace can list them. Keys as Dovecot's acl-lookup-dict writes them,
/// `shared/shared-boxes/user/<grantee>/<owner>`, `.../group/<group>/<owner>`, `.../anyone/<owner>`, each with
/// the value `1`. An owner's keys are rebuilt from all of the owner's ACL files after every ACL change.
public struct SharedMailboxesDictionary: Sendable {
    static let prefix = "shared/shared-boxes/"

    public let file: DictFile

    public init(path: String) { file = DictFile(path: path) }

    /// The owners whose mailboxes `user` (with `groups`) may see, sorted.
    public func owners(user: String, groups: [String]) throws(MailboxError) -> [String] {
        let grantees = ["user/" + user, "anyone"] + groups.map { "group/" + $0 }
        var owners = Set<String>()
        for pair in try file.read() where pair.key.hasPrefix(Self.prefix) {
            let rest = pair.key.dropFirst(Self.prefix.count)
            guard let cut = rest.lastIndex(of: "/"), grantees.contains(String(rest[..<cut])) else { continue }
            owners.insert(String(rest[rest.index(after: cut)...]))
        }
        return owners.sorted()
    }

    /// After an ACL change on `name` of `store` (the session user's, or another's in the shared namespace):
    /// rewrites the owner's keys.
    public func rebuild(after name: String, in store: MailStore, user: String) throws(MailboxError) {
        guard let target = store.sharedTarget(store.normalize(name)) else { return try rebuild(owner: user, store: store) }
        guard let owner = target.store else { return }
        try rebuild(owner: target.owner, store: owner)
    }

    /// Rewrites `owner`'s keys from the lookup rights in the ACLs of all of `store`'s mailboxes (the
    /// owner's own entries do not count). New files are world-writable, as Dovecot creates them: every
    /// user's session updates it.
    func rebuild(owner: String, store: MailStore) throws(MailboxError) {
        var grantees = Set<String>()
        for name in try store.allMailboxNames() {
            for entry in try store.acl(name).entries where entry.rights?.contains(.lookup) == true {
                switch entry.kind {
                case .anyone, .authenticated: grantees.insert("anyone")
                case .group, .groupOverride: grantees.insert("group/" + entry.name)
                case .user where entry.name != owner: grantees.insert("user/" + entry.name)
                case .user, .owner: break
                }
            }
        }
        try file.update(mode: 0o666) { pairs in
            pairs.removeAll { $0.key.hasPrefix(Self.prefix) && $0.key.hasSuffix("/" + owner) }
            for grantee in grantees.sorted() { pairs.append((Self.prefix + grantee + "/" + owner, Array("1".utf8))) }
        }
    }
}
