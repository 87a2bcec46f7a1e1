import TernConfig
public import TernMailbox

/// Dovecot's shared namespace with the acl plugin: `namespace { type = shared  prefix = shared/%%u/
/// location = maildir:%%h/Maildir }` and `plugin { acl_shared_dict = file:PATH }`.
extension AccessSettings {
    /// The shared namespace Tern serves: prefix `<text><owner><separator>`, the owner level one of `%%u`,
    /// `%%n@%%d` or `%%n` (the owner's name, as Dovecot expands them for each owner), the personal namespace's
    /// separator, the acl plugin on (it decides what others may see) and a `file:` acl_shared_dict. An empty
    /// `<text>` is left out: Dovecot refuses it beside the personal namespace ("Duplicate namespace prefix").
    var servedSharedNamespace:
        (namespace: DovecotSettings.Namespace, prefix: String, owner: String, dictPath: String)?
    {
        guard let namespace = global.namespaces.first(where: { $0.type == "shared" }),
            let personal = global.namespaces.first(where: { $0.inbox }) ?? global.namespaces.first,
            namespace.separator == personal.separator, let separator = namespace.separator.first,
            namespace.prefix.last == separator, let variable = namespace.prefix.firstIndex(of: "%"),
            global.mailPlugins.contains("acl"), let dict = global.plugin["acl_shared_dict"], dict.hasPrefix("file:")
        else { return nil }
        let prefix = String(namespace.prefix[..<variable])
        let owner = String(namespace.prefix[variable...].dropLast())
        guard !prefix.isEmpty, ["%%u", "%%n@%%d", "%%n"].contains(owner) else { return nil }
        return (namespace, prefix, owner, String(dict.dropFirst(5)))
    }

    /// acl_shared_dict's file when the shared namespace is served.
    public var sharedDictPath: String? { servedSharedNamespace?.dictPath }

    /// The shared namespace of `user`'s session (home `home`) who may see `owners` (each with their home): the
    /// owners' levels (`%%n`: only owners of the user's domain, by their local part), their Maildir roots from
    /// the namespace's location (`%%h` the owner's home; empty: mail_location), and its `INDEXPVT=` directories,
    /// where `~` is the session user's home and `%%u` the owner, as Dovecot expands them.
    func sharedNamespace(user: String, home: String, owners: [String: String]) -> SharedNamespace? {
        guard let shared = servedSharedNamespace else { return nil }
        let location = shared.namespace.location.isEmpty
            ? global.mailLocation : shared.namespace.location.replacingDoublePercent()
        let parts = location.split(separator: ":").map(String.init)
        guard parts.count >= 2, parts[0] == "maildir" else { return nil }
        let domain = { (name: String) in name.split(separator: "@", maxSplits: 1).dropFirst().first ?? "" }
        var namespace = SharedNamespace(prefix: shared.prefix, owners: [:])
        for (owner, ownerHome) in owners {
            if shared.owner == "%%n", domain(owner) != domain(user) { continue }
            let level = Self.expand(shared.owner.replacingDoublePercent(), user: owner, home: ownerHome)
            let root = Self.expand(parts[0] + ":" + parts[1], user: owner, home: ownerHome)
            namespace.owners[level] = String(root.dropFirst("maildir:".count))
            if level != owner { namespace.users[level] = owner }
            if let option = parts.dropFirst(2).first(where: { $0.hasPrefix("INDEXPVT=") }) {
                var path = String(option.dropFirst(9))
                if path == "~" || path.hasPrefix("~/") { path = home + path.dropFirst() }
                namespace.privateIndexes[owner] = Self.expand(path, user: owner, home: ownerHome)
            }
        }
        return namespace
    }
}

extension String {
    /// `%%` → `%`: Dovecot expands a namespace's variables once for the session user, so `%%h` is left for the
    /// owner.
    fileprivate func replacingDoublePercent() -> String {
        split(separator: "%%", omittingEmptySubsequences: false).joined(separator: "%")
    }
}
