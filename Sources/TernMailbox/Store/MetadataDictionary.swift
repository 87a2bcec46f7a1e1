/// IMAP METADATA entries (RFC 5464) in Dovecot's attribute dict, `mail_attribute_dict = file:PATH`: one file
/// of key and value lines, the keys as Dovecot's mail-storage names them (`priv/GUID/comment`,
/// `shared/GUID/comment`, server entries under INBOX's GUID as `.../vendor/vendor.dovecot/pvt/server/...`),
/// values tab-escaped as Dovecot's dict-file writes them. So Dovecot and Tern read each other's metadata.
/// Changes are read-modify-write under the file's dotlock.
public struct MetadataDictionary: Sendable {
    /// Where an entry belongs: `/private/...` or `/shared/...` of a mailbox, or of the server (mailbox "").
    public struct Scope: Sendable {
        /// The mailbox's GUID (for the server: INBOX's).
        public var guid: String
        public var server: Bool

        public init(guid: String, server: Bool) {
            self.guid = guid
            self.server = server
        }
    }

    static let serverPrefix = "vendor/vendor.dovecot/pvt/server/"
    static let hiddenPrefix = "vendor/vendor.dovecot/pvt/"

    public let path: String

    public init(path: String) { self.path = path }

    /// The dict key of `entry` (`/private/comment`) in `scope`.
    static func key(_ entry: String, _ scope: Scope) -> String {
        let lower = entry.lowercased()
        let isPrivate = lower.hasPrefix("/private")
        let rest = String(entry.dropFirst(isPrivate ? 8 : 7).drop(while: { $0 == "/" }))
        return (isPrivate ? "priv/" : "shared/") + scope.guid + "/" + (scope.server ? serverPrefix : "") + rest
    }

    /// The entry name of a dict key in `scope`, if the key is one of that scope's entries.
    static func entry(_ key: String, _ scope: Scope) -> String? {
        for (prefix, name) in [("priv/", "/private"), ("shared/", "/shared")] {
            let base = prefix + scope.guid + "/" + (scope.server ? serverPrefix : "")
            guard key.hasPrefix(base) else { continue }
            let rest = String(key.dropFirst(base.count))
            if !scope.server && rest.hasPrefix(hiddenPrefix) { return nil }
            return name + "/" + rest
        }
        return nil
    }

    /// The entries of `scope` that GETMETADATA asked for: each of `entries` (nil value when unset), and with
    /// `depth` > 0 the entries below them (one level or all), in the file's order.
    public func values(_ entries: [String], _ scope: Scope, depth: Int?) throws(MailboxError) -> [(String, [UInt8]?)] {
        let all = try read()
        var found: [(String, [UInt8]?)] = []
        for requested in entries {
            let key = Self.key(requested, scope)
            let value = all.first { $0.key == key }?.value
            if value != nil || depth == 0 { found.append((requested, value)) }
            guard depth != 0 else { continue }
            let below = key.hasSuffix("/") ? key : key + "/"  // `/private` alone: all of the scope's private ones
            for pair in all where pair.key.hasPrefix(below) {
                guard let name = Self.entry(pair.key, scope) else { continue }
                if depth == nil || !name.dropFirst(requested.count + 1).contains("/") { found.append((name, pair.value)) }
            }
        }
        return found
    }

    /// SETMETADATA: sets the entries with a value, removes those with nil.
    public func set(_ changes: [(entry: String, value: [UInt8]?)], _ scope: Scope) throws(MailboxError) {
        try DictFile(path: path).update { pairs in
            for change in changes { Self.apply(change, scope, to: &pairs) }
        }
    }

    private static func apply(
        _ change: (entry: String, value: [UInt8]?), _ scope: Scope, to pairs: inout [(key: String, value: [UInt8])]
    ) {
        let key = Self.key(change.entry, scope)
        if let value = change.value {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                pairs[index].value = value
            } else {
                pairs.append((key, value))
            }
        } else {
            pairs.removeAll { $0.key == key }
        }
    }

    private func read() throws(MailboxError) -> [(key: String, value: [UInt8])] { try DictFile(path: path).read() }
}
