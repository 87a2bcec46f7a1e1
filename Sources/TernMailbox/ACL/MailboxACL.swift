/// A mailbox's access control list as Dovecot's vfile backend keeps it in the mailbox's `dovecot-acl` file:
/// one `[-]identifier letters` line per right set (`user=bob lr`, `-user=carol w`, `owner akxeilprwts`,
/// `anyone lr`, `authenticated i`, `group=staff w`, `group-override=x r`), `#` comments. Entries are kept sorted
/// as Dovecot sorts them: by kind (anyone, authenticated, group, owner, user, group-override), then by name.
public struct MailboxACL: Sendable, Equatable {
    public enum Kind: Int, Sendable, Comparable {
        case anyone, authenticated, group, owner, user, groupOverride

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    /// One identifier with its positive and negative rights (nil: that half is not set).
    public struct Entry: Sendable, Equatable {
        public var kind: Kind
        /// The user or group name; "" for anyone, authenticated and owner.
        public var name: String
        public var rights: ACLRights?
        public var negative: ACLRights?
        /// From the global ACLs (`acl = vfile:PATH`): applied after the mailbox's own, never written.
        public var global = false

        public init(
            kind: Kind, name: String = "", rights: ACLRights? = nil, negative: ACLRights? = nil, global: Bool = false
        ) {
            self.global = global
            self.kind = kind
            self.name = name
            self.rights = rights
            self.negative = negative
        }

        /// The identifier as the file writes it.
        public var fileIdentifier: String {
            switch kind {
            case .anyone: "anyone"
            case .authenticated: "authenticated"
            case .owner: "owner"
            case .user: "user=" + name
            case .group: "group=" + name
            case .groupOverride: "group-override=" + name
            }
        }
    }

    public private(set) var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = []
        for entry in entries { merge(entry) }
    }

    // MARK: the file

    /// Reads a dovecot-acl file's text (`global`: a global ACL file); lines Dovecot would not understand are
    /// skipped.
    public init(fileText: String, global: Bool = false) {
        self.init()
        add(fileText: fileText, global: global)
    }

    /// Adds the entries of a file's text.
    public mutating func add(fileText: String, global: Bool) {
        for rawLine in fileText.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = rawLine.drop(while: { $0 == " " || $0 == "\t" })
            if line.hasSuffix("\r") { line = line.dropLast() }
            guard !line.isEmpty, line.first != "#" else { continue }
            var identifier: Substring
            var letters: Substring
            if line.first == "\"", let close = line.dropFirst().firstIndex(of: "\"") {
                identifier = line[line.index(after: line.startIndex)..<close]
                letters = line[line.index(after: close)...].drop(while: { $0 == " " })
            } else {
                let space = line.firstIndex(of: " ") ?? line.endIndex
                identifier = line[..<space]
                letters = line[space...].drop(while: { $0 == " " })
            }
            // Named rights (`:name`) follow the letters; Tern keeps to the letters.
            letters = letters.prefix(while: { $0 != " " && $0 != ":" })
            let negative = identifier.first == "-"
            if negative { identifier = identifier.dropFirst() }
            guard let (kind, name) = Self.parseFileIdentifier(identifier) else { continue }
            let rights = ACLRights(fileLetters: letters)
            merge(
                Entry(
                    kind: kind, name: name, rights: negative ? nil : rights, negative: negative ? rights : nil,
                    global: global))
        }
    }

    static func parseFileIdentifier(_ text: Substring) -> (Kind, String)? {
        switch text {
        case "anyone", "anonymous": return (.anyone, "")
        case "authenticated": return (.authenticated, "")
        case "owner": return (.owner, "")
        default:
            for (prefix, kind) in [("user=", Kind.user), ("group=", .group), ("group-override=", .groupOverride)]
            where text.hasPrefix(prefix) {
                return (kind, String(text.dropFirst(prefix.count)))
            }
            return nil
        }
    }

    /// The file's text as Dovecot writes it: the positive line, then the negative one, rights sorted by name.
    public var fileText: String {
        var text = ""
        for entry in entries where !entry.global {
            for (rights, sign) in [(entry.rights, ""), (entry.negative, "-")] {
                guard let rights else { continue }
                var identifier = sign + entry.fileIdentifier
                if identifier.contains(" ") {
                    identifier = "\"" + identifier.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"") + "\""
                }
                text += identifier + " " + rights.fileLetters + "\n"
            }
        }
        return text
    }

    // MARK: changes

    /// Adds an entry's halves into the sorted list (a second line for the same identifier sets its other half).
    private mutating func merge(_ entry: Entry) {
        if let index = entries.firstIndex(where: {
            $0.global == entry.global && $0.kind == entry.kind && $0.name == entry.name
        }) {
            if let rights = entry.rights { entries[index].rights = rights }
            if let negative = entry.negative { entries[index].negative = negative }
            return
        }
        // Dovecot's order: the mailbox's own entries, then the global ones; each by kind, then name.
        let position =
            entries.firstIndex { ($0.global ? 1 : 0, $0.kind, $0.name) > (entry.global ? 1 : 0, entry.kind, entry.name) }
            ?? entries.endIndex
        entries.insert(entry, at: position)
    }

    public enum Change: Sendable, Equatable {
        case replace(ACLRights)
        case add(ACLRights)
        case remove(ACLRights)
        /// DELETEACL: the half is removed.
        case clear
    }

    /// SETACL / DELETEACL on one half of an identifier's entry; an entry left with neither half goes away.
    public mutating func update(kind: Kind, name: String, negative: Bool, _ change: Change) {
        var entry =
            entries.first { !$0.global && $0.kind == kind && $0.name == name } ?? Entry(kind: kind, name: name)
        entries.removeAll { !$0.global && $0.kind == kind && $0.name == name }
        let current = negative ? entry.negative : entry.rights
        let updated: ACLRights?
        switch change {
        case .replace(let rights): updated = rights
        case .add(let rights): updated = (current ?? []).union(rights)
        case .remove(let rights): updated = current?.subtracting(rights)
        case .clear: updated = nil
        }
        if negative { entry.negative = updated } else { entry.rights = updated }
        if entry.rights != nil || entry.negative != nil { merge(entry) }
    }

    // MARK: evaluation

    /// The rights of `user` (`isOwner`: the mailbox is the user's own; `groups`: the user's acl_groups), as
    /// Dovecot's acl cache works them out: matching entries in order, each positive half replacing the rights
    /// so far and each negative half replacing what is taken away. The owner has every right until an entry
    /// of kind owner or later names them (an `owner` entry, `user=self`), or when none does.
    public func rights(of user: String, isOwner: Bool, groups: [String] = []) -> ACLRights {
        var rights: ACLRights = []
        var negative: ACLRights = []
        var ownerApplied = !isOwner
        for entry in entries {
            let matches: Bool
            switch entry.kind {
            case .anyone, .authenticated: matches = true
            case .group, .groupOverride: matches = groups.contains(entry.name)
            case .owner: matches = isOwner
            case .user: matches = entry.name == user
            }
            guard matches else { continue }
            if !ownerApplied, entry.kind >= .owner {
                ownerApplied = true
                if entry.kind != .owner {
                    rights = .all
                    negative = []
                }
            }
            if let positive = entry.rights { rights = positive }
            if let taken = entry.negative { negative = taken }
        }
        if !ownerApplied { return .all }
        return rights.subtracting(negative)
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
