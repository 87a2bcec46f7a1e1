public import TernMailbox

/// Dovecot's acl plugin as the session sees it (`mail_plugins = acl`, imap's `imap_acl`).
public struct ACLSettings: Sendable, Equatable {
    /// imap_acl is loaded too: the ACL commands (and the ACL capability) are there.
    public var commands: Bool
    /// `plugin { acl_anyone = allow }`: SETACL may grant rights to `anyone` and `authenticated`.
    public var anyoneAllowed: Bool
    /// The user's groups (the userdb's `acl_groups`), for `group=` entries.
    public var groups: [String]
    /// The global ACL directory or file of `acl = vfile:PATH`.
    public var globalPath: String?
    /// acl_shared_dict's file (`file:PATH`), kept up to date on SETACL and DELETEACL for shared namespaces.
    public var sharedDictPath: String?

    public init(
        commands: Bool = true, anyoneAllowed: Bool = false, groups: [String] = [], globalPath: String? = nil,
        sharedDictPath: String? = nil
    ) {
        self.sharedDictPath = sharedDictPath
        self.globalPath = globalPath
        self.commands = commands
        self.anyoneAllowed = anyoneAllowed
        self.groups = groups
    }
}

/// RFC 4314 ACL with the replies of Dovecot 2.3's imap_acl plugin, on the user's own mailboxes.
extension IMAPMailSession {
    /// The session user's rights on one of their mailboxes (`creating`: the rights CREATE takes from the
    /// parent); every right when the acl plugin is off.
    func rights(_ storeName: String, creating: Bool = false) -> ACLRights {
        guard let acl = configuration.acl else { return .all }
        return store.myRights(
            storeName, user: configuration.user, groups: acl.groups, global: acl.globalPath, creating: creating)
    }

    /// Checks a right Dovecot's acl plugin requires. Without it: `NO [NOPERM] Permission denied` when the
    /// user may see the mailbox (l), otherwise whatever `hidden` answers for a mailbox that does not exist.
    func permitted(_ right: ACLRights, _ tag: String, _ storeName: String, hidden: () -> Void) -> Bool {
        let granted = rights(storeName, creating: right == .create)
        if granted.contains(right) { return true }
        if granted.contains(.lookup) {
            finish(tag, .no, .noPerm, text: IMAPReplyText.permissionDenied)
        } else {
            hidden()
        }
        return false
    }

    // MARK: commands

    func myRights(_ tag: String, _ name: MailboxName) {
        guard aclEnabled(tag, "MYRIGHTS") != nil, let storeName = storeName(tag, name) else { return }
        let granted = rights(storeName)
        // Dovecot: the post right alone does not show that the mailbox exists.
        if granted.isEmpty || granted == .post {
            finish(tag, .no, .nonexistent, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            return
        }
        output.raw("* MYRIGHTS ")
        output.mailbox(name)
        output.space()
        output.astring(Array(granted.imapLetters(sorted: false).utf8))
        output.crlf()
        finish(tag, text: IMAPReplyText.myRightsCompleted)
    }

    /// Dovecot answers the same list for any identifier, on any mailbox name.
    func listRights(_ tag: String, _ name: MailboxName, _ identifier: String) {
        guard aclEnabled(tag, "LISTRIGHTS") != nil else { return }
        output.raw("* LISTRIGHTS ")
        output.mailbox(name)
        output.space()
        output.astring(Array(identifier.utf8))
        output.space()
        output.raw(IMAPReplyText.listRightsText)
        output.crlf()
        finish(tag, text: IMAPReplyText.listRightsCompleted)
    }

    func getACL(_ tag: String, _ name: MailboxName) {
        guard aclEnabled(tag, "GETACL") != nil, let storeName = storeName(tag, name),
            let acl = administeredACL(tag, storeName)
        else { return }
        output.raw("* ACL ")
        output.mailbox(name)
        let owner = owner(of: storeName)
        for (identifier, letters) in aclItems(acl, owner, convertOwner: true) ?? aclItems(acl, owner, convertOwner: false) ?? [] {
            output.space()
            output.astring(Array(identifier.utf8))
            output.space()
            output.astring(Array(letters.utf8))
        }
        output.crlf()
        finish(tag, text: IMAPReplyText.getACLCompleted)
    }

    func setACL(_ tag: String, _ name: MailboxName, _ identifier: String, _ letters: String) {
        guard let settings = aclEnabled(tag, "SETACL") else { return }
        let command = IMAPCommand.setACL(name, identifier: identifier, rights: letters)
        var identifier = Substring(identifier)
        let negative = identifier.first == "-"
        if negative { identifier = identifier.dropFirst() }
        var letters = Substring(letters)
        let sign = letters.first
        if sign == "-" || sign == "+" { letters = letters.dropFirst() }
        guard let (kind, id) = aclIdentifier(tag, command, String(identifier), allowAnyone: settings.anyoneAllowed)
        else { return }
        let rights: ACLRights
        do {
            rights = try ACLRights(imapLetters: String(letters))
        } catch {
            badArguments(tag, command, IMAPReplyText.invalidACLRight(error.letter))
            return
        }
        guard let storeName = storeName(tag, name), let acl = administeredACL(tag, storeName) else { return }
        var change: MailboxACL.Change =
            sign == "-" ? .remove(rights) : sign == "+" ? .add(rights) : .replace(rights)
        if !negative, kind == .owner || (kind == .user && id == owner(of: storeName)) {
            change = keepingAdmin(change, acl, owner: owner(of: storeName))
        }
        updateACL(tag, storeName, kind, id, negative, change, text: IMAPReplyText.setACLCompleted)
    }

    func deleteACL(_ tag: String, _ name: MailboxName, _ identifier: String) {
        guard aclEnabled(tag, "DELETEACL") != nil else { return }
        let command = IMAPCommand.deleteACL(name, identifier: identifier)
        var identifier = Substring(identifier)
        let negative = identifier.first == "-"
        if negative { identifier = identifier.dropFirst() }
        guard let (kind, id) = aclIdentifier(tag, command, String(identifier), allowAnyone: true),
            let storeName = storeName(tag, name), administeredACL(tag, storeName) != nil
        else { return }
        updateACL(tag, storeName, kind, id, negative, .clear, text: IMAPReplyText.deleteACLCompleted)
    }

    // MARK: helpers

    /// The settings when the acl plugin is on; otherwise the command is unknown, as in Dovecot without imap_acl.
    private func aclEnabled(_ tag: String, _ command: String) -> ACLSettings? {
        guard let settings = configuration.acl, settings.commands else {
            let error = IMAPCommandError(tag: tag, command: command, reason: .unknownCommand)
            send(.badCommand(error, preLogin: false, timing: timing()))
            countBadCommand()
            return nil
        }
        return settings
    }

    /// The ACL of a mailbox the user administers (a); nil after Dovecot's answer otherwise.
    private func administeredACL(_ tag: String, _ storeName: String) -> MailboxACL? {
        let granted = rights(storeName)
        guard granted.contains(.admin) else {
            if granted.contains(.lookup) {
                finish(tag, .no, .noPerm, text: IMAPReplyText.notAdministrator)
            } else {
                finish(tag, .no, .nonexistent, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            }
            return nil
        }
        guard store.exists(storeName), let acl = try? store.acl(storeName, global: configuration.acl?.globalPath) else {
            finish(tag, .no, .nonexistent, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            return nil
        }
        return acl
    }

    private func updateACL(
        _ tag: String, _ storeName: String, _ kind: MailboxACL.Kind, _ id: String, _ negative: Bool,
        _ change: MailboxACL.Change, text: String
    ) {
        do {
            try store.updateACL(storeName) { $0.update(kind: kind, name: id, negative: negative, change) }
        } catch {
            fail(tag, error)
            return
        }
        // Dovecot logs a failed dict update and still answers OK.
        if let path = configuration.acl?.sharedDictPath {
            try? SharedMailboxesDictionary(path: path).rebuild(after: storeName, in: store, user: configuration.user)
        }
        finish(tag, text: text)
    }

    /// The owner of a mailbox: the session user, or another user for the shared namespace.
    private func owner(of storeName: String) -> String { store.sharedOwner(storeName) ?? configuration.user }

    /// An RFC 4314 identifier as Dovecot's imap_acl reads it (`$group`, `!$group` for group-override, `#...`
    /// for global ACLs it will not change); nil after a BAD reply.
    private func aclIdentifier(_ tag: String, _ command: IMAPCommand, _ identifier: String, allowAnyone: Bool)
        -> (MailboxACL.Kind, String)?
    {
        if identifier.hasPrefix("#") {
            badArguments(tag, command, IMAPReplyText.globalACLCannotChange(identifier))
            return nil
        }
        switch identifier {
        case "anyone", "authenticated":
            guard allowAnyone else {
                badArguments(tag, command, IMAPReplyText.aclIdentifierDisallowed(identifier))
                return nil
            }
            return (identifier == "anyone" ? .anyone : .authenticated, "")
        case "owner": return (.owner, "")
        default:
            if identifier.hasPrefix("$") { return (.group, String(identifier.dropFirst())) }
            if identifier.hasPrefix("!$") { return (.groupOverride, String(identifier.dropFirst(2))) }
            return (.user, identifier)
        }
    }

    /// Dovecot does not let the owner take the admin right from themselves: it is kept on replace and
    /// remove, and adding the owner's first rights adds the defaults too.
    private func keepingAdmin(_ change: MailboxACL.Change, _ acl: MailboxACL, owner: String) -> MailboxACL.Change {
        switch change {
        case .replace(let rights): return .replace(rights.union(.admin))
        case .remove(let rights): return .remove(rights.subtracting(.admin))
        case .add(let rights):
            let ownerHasRights = acl.entries.contains { entry in
                entry.rights != nil && (entry.kind == .owner || (entry.kind == .user && entry.name == owner))
            }
            return ownerHasRights ? change : .add(rights.union(.all))
        case .clear: return change
        }
    }

    /// GETACL's identifier/rights pairs. The owner shows as the user's name unless the list also names the
    /// user (nil then: Dovecot lists it again without converting); the owner's defaults come last when no
    /// entry gives the owner rights.
    private func aclItems(_ acl: MailboxACL, _ user: String, convertOwner: Bool) -> [(String, String)]? {
        var items: [(String, String)] = []
        var seenOwner = false
        var ownerHasRights = false
        for entry in acl.entries {
            let identifier: String
            switch entry.kind {
            case .anyone: identifier = "anyone"
            case .authenticated: identifier = "authenticated"
            case .group: identifier = "$" + entry.name
            case .groupOverride: identifier = "!$" + entry.name
            case .owner: identifier = convertOwner ? user : "owner"
            case .user: identifier = entry.name
            }
            if entry.kind == .owner || (entry.kind == .user && entry.name == user) {
                if entry.rights != nil { ownerHasRights = true }
                if !entry.global {
                    if seenOwner && convertOwner { return nil }
                    seenOwner = true
                }
            }
            // Global entries show with `#` (and cannot be changed through IMAP).
            let shown = entry.global ? "#" + identifier : identifier
            if let rights = entry.rights { items.append((shown, rights.imapLetters(sorted: true))) }
            if let negative = entry.negative { items.append(("-" + shown, negative.imapLetters(sorted: true))) }
        }
        if !ownerHasRights { items.append((convertOwner ? user : "owner", ACLRights.all.imapLetters(sorted: false))) }
        return items
    }
}
