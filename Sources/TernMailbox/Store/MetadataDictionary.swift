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
        let lock = try DotLock.acquire(for: path, timeout: DotLock.keywordsTimeout, staleTimeout: DotLock.keywordsStaleTimeout)
        defer { lock.release() }
        var pairs = try read()
        for change in changes {
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
        var text: [UInt8] = []
        for pair in pairs { text += Self.escape(Array(pair.key.utf8)) + [0x0A] + Self.escape(pair.value) + [0x0A] }
        try Posix.replaceFile(path, with: text)
    }

    private func read() throws(MailboxError) -> [(key: String, value: [UInt8])] {
        guard let bytes = try Posix.readFile(path) else { return [] }
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        var pairs: [(key: String, value: [UInt8])] = []
        var index = 0
        while index + 1 < lines.count {
            pairs.append((String(decoding: Self.unescape(Array(lines[index])), as: UTF8.self), Self.unescape(Array(lines[index + 1]))))
            index += 2
        }
        return pairs
    }

    /// Dovecot's tab-escaping: 0x01 → 01 '1', TAB → 01 't', CR → 01 'r', LF → 01 'n'.
    static func escape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case 0x01: out += [0x01, UInt8(ascii: "1")]
            case 0x09: out += [0x01, UInt8(ascii: "t")]
            case 0x0D: out += [0x01, UInt8(ascii: "r")]
            case 0x0A: out += [0x01, UInt8(ascii: "n")]
            default: out.append(byte)
            }
        }
        return out
    }

    static func unescape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var escaped = false
        for byte in bytes {
            if escaped {
                switch byte {
                case UInt8(ascii: "1"): out.append(0x01)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "n"): out.append(0x0A)
                default: out.append(byte)
                }
                escaped = false
            } else if byte == 0x01 {
                escaped = true
            } else {
                out.append(byte)
            }
        }
        return out
    }
}
