import Glibc

extension MailStore {
    /// Every mailbox for LIST "" "*": existing ones, parents implied by children (`\Noselect`), configured
    /// special-use, subscription state, and `\HasChildren` / `\HasNoChildren` (RFC 3348). INBOX first, then by
    /// name. Pattern matching is the caller's (IMAP) business.
    public func listMailboxes() throws(MailboxError) -> [MailboxListEntry] {
        let subscribed = Set(try subscriptions())
        if let mbox { return try mbox.listMailboxes(subscribed: subscribed, specialUse: specialUse(of:)) }
        let existing = try allMailboxNames()
        let sep = String(separator)
        var all = Set(existing)
        var implied = Set<String>()
        for name in existing {
            var levels = name.split(separator: separator, omittingEmptySubsequences: false)
            while levels.count > 1 {
                levels.removeLast()
                let parent = levels.joined(separator: sep)
                if !all.contains(parent) { implied.insert(parent) }
            }
        }
        all.formUnion(implied)
        let parents = Set(
            all.compactMap { name -> String? in
                guard let cut = name.lastIndex(of: separator) else { return nil }
                return String(name[..<cut])
            })
        let ordered = ["INBOX"] + all.filter { $0 != "INBOX" }.sorted()
        return ordered.map { name in
            var attributes: MailboxAttributes = parents.contains(name) ? .hasChildren : .hasNoChildren
            if implied.contains(name) { attributes.insert(.noSelect) }
            if subscribed.contains(name) { attributes.insert(.subscribed) }
            return MailboxListEntry(name: name, attributes: attributes, specialUse: specialUse(of: name))
        }
    }

    /// LSUB / LIST (SUBSCRIBED): subscribed names, including ones that do not exist (`\NonExistent`).
    public func listSubscribed() throws(MailboxError) -> [MailboxListEntry] {
        let existing = Dictionary(try listMailboxes().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return try subscriptions().map { name in
            if var entry = existing[name] {
                entry.attributes.insert(.subscribed)
                return entry
            }
            // Another user's mailbox: Dovecot answers `\Subscribed` alone (LSUB `()`), without children.
            if isShared(name), exists(name) {
                return MailboxListEntry(name: name, attributes: .subscribed, specialUse: [])
            }
            return MailboxListEntry(name: name, attributes: [.subscribed, .nonExistent, .noSelect], specialUse: [])
        }
    }

    func specialUse(of name: String) -> [String] {
        settings.mailboxes.first { normalize($0.name) == name }?.specialUse ?? []
    }

    // MARK: Subscriptions

    /// The subscribed names in file order.
    public func subscriptions() throws(MailboxError) -> [String] {
        guard let bytes = try Posix.readFile(subscriptionsPath, limit: 16 << 20) else { return [] }
        return SubscriptionList.parse(bytes, separator: separator).map { sharedSubscription(normalize($0)) }
    }

    /// SUBSCRIBE; RFC 3501 allows subscribing to a name that does not exist.
    public func subscribe(_ name: String) throws(MailboxError) {
        let name = normalize(name)
        _ = try folderPath(name)
        try updateSubscriptions { names in
            if !names.contains(name) { names.append(name) }
        }
    }

    public func unsubscribe(_ name: String) throws(MailboxError) {
        let name = normalize(name)
        try updateSubscriptions { names in names.removeAll { $0 == name } }
    }

    /// Read-modify-write of `subscriptions` under its dotlock (Dovecot's subscription-file.c locks it the
    /// same way), written through a temporary file and rename.
    func updateSubscriptions(_ change: (inout [String]) -> Void) throws(MailboxError) {
        try Posix.makeDirectory(root)
        let lock = try DotLock.acquire(
            for: subscriptionsPath, timeout: DotLock.keywordsTimeout, staleTimeout: DotLock.keywordsStaleTimeout)
        defer { lock.release() }
        let current = try subscriptions()
        var names = current
        change(&names)
        if names != current {
            let file = names.map(sharedSubscriptionEntry)
            try Posix.replaceFile(
                subscriptionsPath, with: SubscriptionList.serialize(file, separator: separator, otherNamespace: isShared))
        }
    }

    // MARK: auto = create / subscribe

    /// Creates (and subscribes) the mailboxes configured with `auto = create` / `auto = subscribe`. Dovecot
    /// does this lazily when a session lists or opens them; calling it once per login gives the same view.
    public func applyAutoSettings() throws(MailboxError) {
        for mailbox in settings.mailboxes where mailbox.auto != .no {
            let name = normalize(mailbox.name)
            if !exists(name) { try createMailbox(name) }
            if mailbox.auto == .subscribe, !(try subscriptions().contains(name)) { try subscribe(name) }
        }
    }
}
