import TernConfig
public import TernMailbox

/// Dovecot's shared namespace with the acl plugin: `namespace { type = shared  prefix = shared/%%u/
/// location = maildir:%%h/Maildir }` and `plugin { acl_shared_dict = file:PATH }`.
extension AccessSettings {
    /// The shared namespace Tern serves: prefix `<text>%%u<separator>` (the `%%u` is the owner), the personal
    /// namespace's separator, the acl plugin on (it decides what others may see) and a `file:` acl_shared_dict.
    var servedSharedNamespace: (namespace: DovecotSettings.Namespace, prefix: String, dictPath: String)? {
        guard let namespace = global.namespaces.first(where: { $0.type == "shared" }),
            let personal = global.namespaces.first(where: { $0.inbox }) ?? global.namespaces.first,
            namespace.separator == personal.separator, let separator = namespace.separator.first,
            namespace.prefix.hasSuffix("%%u" + String(separator)),
            global.mailPlugins.contains("acl"), let dict = global.plugin["acl_shared_dict"], dict.hasPrefix("file:")
        else { return nil }
        let prefix = String(namespace.prefix.dropLast(4))
        guard !prefix.isEmpty, !prefix.contains("%") else { return nil }
        return (namespace, prefix, String(dict.dropFirst(5)))
    }

    /// acl_shared_dict's file when the shared namespace is served.
    public var sharedDictPath: String? { servedSharedNamespace?.dictPath }

    /// The shared namespace of a session whose user may see `owners` (each with their home): their Maildir
    /// roots from the namespace's location (`%%h` the owner's home; empty: mail_location), options such as
    /// INDEXPVT left out.
    func sharedNamespace(owners: [String: String]) -> SharedNamespace? {
        guard let shared = servedSharedNamespace else { return nil }
        var roots: [String: String] = [:]
        for (owner, home) in owners {
            let location = shared.namespace.location.isEmpty
                ? global.mailLocation : shared.namespace.location.replacingDoublePercent()
            let parts = Self.expand(location, user: owner, home: home).split(separator: ":")
            guard parts.count >= 2, parts[0] == "maildir" else { continue }
            roots[owner] = String(parts[1])
        }
        return SharedNamespace(prefix: shared.prefix, owners: roots)
    }
}

extension String {
    /// `%%` → `%`: Dovecot expands a namespace's variables once for the session user, so `%%h` is left for the
    /// owner.
    fileprivate func replacingDoublePercent() -> String {
        split(separator: "%%", omittingEmptySubsequences: false).joined(separator: "%")
    }
}
