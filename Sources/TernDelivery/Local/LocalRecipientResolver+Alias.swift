import TernCore

/// Alias expansion and the destinations an alias, .forward or :include: line can name
/// (Postfix alias.c, token.c, resolve.c, file.c, command.c).
extension LocalRecipientResolver {
    /// deliver_alias: look `name` up in alias_maps (in order). Returns false when there is no alias
    /// or when the alias names itself (`name: name, other` delivers to name's own mailbox).
    func deliverAlias(_ attrIn: DeliverAttributes, _ usrIn: UserAttributes, name: String, _ walk: inout Walk) async
        -> Bool
    {
        var attr = attrIn
        var usr = usrIn
        attr.level += 1
        if let from = attr.expandedFrom, from.lowercased() == name.lowercased() { return false }
        if attr.level > Self.nestingLimit {
            walk.warnings.append("alias database loop for \(name)")
            walk.emit(.bounce(status: "5.4.6", text: DeliveryStatusText.aliasLoop(name)), attr)
            return true
        }
        attr.expandedFrom = name
        for alias in aliasMaps {
            let value: String?
            do {
                value = try await alias.table.lookup(name)
            } catch {
                walk.warnings.append("\(alias.table.spec): lookup of '\(name)' failed: \(error)")
                walk.emit(.defer(status: "4.3.0", text: DeliveryStatusText.aliasDatabaseUnavailable), attr)
                return true
            }
            guard let value else { continue }
            attr.expansion = .alias
            // Rights for |command and /file: the database owner, or default_privs if root owns it.
            if alias.ownerUID == 0 {
                usr = UserAttributes()
            } else {
                let owner: SystemUser?
                do { owner = try users.user(uid: alias.ownerUID) } catch { owner = nil }
                guard let owner else {
                    walk.warnings.append("cannot find alias database owner for \(alias.table.spec)")
                    walk.emit(.defer(status: "4.3.0", text: DeliveryStatusText.aliasOwnerUnknown), attr)
                    return true
                }
                usr = UserAttributes(owner)
            }
            // owner-name becomes the envelope sender (errors go to the list owner).
            if settings.ownerRequestSpecial, let ownerValue = await findAlias("owner-\(name)") {
                let owner = canonical(settings.expandOwnerAlias ? ownerValue : "owner-\(name)")
                attr.owner = owner
                attr.sender = owner
                attr.originalRecipient = ""
            } else if settings.resetOwnerAlias {
                attr.owner = nil
            }
            let destinations = AddressListTokenizer.destinations(in: value)
            if destinations.isEmpty {
                walk.warnings.append("no recipient in alias lookup result for \(name)")
                walk.emit(.defer(status: "4.3.0", text: DeliveryStatusText.aliasDatabaseUnavailable), attr)
                return true
            }
            for destination in destinations {
                await deliverToken(attr, usr, destination, &walk)
            }
            return true
        }
        return false
    }

    /// maps_find over alias_maps for the owner- alias; lookup errors count as "no owner".
    func findAlias(_ key: String) async -> String? {
        for alias in aliasMaps {
            if let value = try? await alias.table.lookup(key) { return value }
        }
        return nil
    }

    /// deliver_token: `/file`, `~/file`, `|command`, `:include:/file`, or an address.
    func deliverToken(_ attr: DeliverAttributes, _ usr: UserAttributes, _ token: String, _ walk: inout Walk) async {
        if token.hasPrefix("/") {
            deliverFile(attr, usr, path: token, &walk)
        } else if token.hasPrefix("~") {
            deliverTokenHome(attr, usr, token, &walk)
        } else if token.hasPrefix("|") {
            if settings.allowMailToCommands.isDisjoint(with: attr.expansion) {
                walk.emit(.bounce(status: "5.7.1", text: DeliveryStatusText.mailToCommandRestricted), attr)
            } else {
                deliverCommand(attr, usr, command: String(token.dropFirst()), &walk)
            }
        } else if token.lowercased().hasPrefix(":include:") {
            await deliverInclude(attr, usr, path: String(token.dropFirst(9)), &walk)
        } else {
            await deliverResolve(attr, usr, address: token, &walk)
        }
    }

    /// `~/path` is relative to the home of whoever's rights apply; `~user/path` is refused.
    func deliverTokenHome(_ attr: DeliverAttributes, _ usr: UserAttributes, _ token: String, _ walk: inout Walk) {
        let rest = token.dropFirst()
        guard rest.hasPrefix("/") else {
            walk.warnings.append("bad home directory syntax for: \(token)")
            return walk.emit(.bounce(status: "5.3.5", text: DeliveryStatusText.configurationError), attr)
        }
        guard let home = usr.home else {
            walk.warnings.append("unknown home directory for: \(token)")
            return walk.emit(.bounce(status: "5.3.5", text: DeliveryStatusText.configurationError), attr)
        }
        deliverFile(attr, usr, path: home == "/" ? String(rest) : home + rest, &walk)
    }

    /// deliver_resolve_tree: canonicalize (append @myorigin), splice in an unmatched extension,
    /// then deliver locally (recursively) or forward.
    func deliverResolve(_ attrIn: DeliverAttributes, _ usr: UserAttributes, address: String, _ walk: inout Walk) async {
        var attr = attrIn
        attr.level += 1
        var resolved = canonical(address)
        if let unmatched = attr.unmatched, let delimiter = settings.recipientDelimiter.first,
            let at = resolved.lastIndex(of: "@")
        {
            resolved = String(resolved[..<at]) + String(delimiter) + unmatched + String(resolved[at...])
        }
        attr.recipient = resolved
        let domain = MailAddress(resolved).domain ?? ""
        let local: Bool
        do {
            local = try await isLocalDomain(domain)
        } catch {
            return walk.emit(.defer(status: "4.3.0", text: DeliveryStatusText.addressResolverFailure), attr)
        }
        if local {
            await deliverRecipient(attr, usr, &walk)
        } else {
            deliverIndirect(attr, &walk)
        }
    }

    /// deliver_file: only where allow_mail_to_files permits; root rights become default_privs.
    func deliverFile(_ attrIn: DeliverAttributes, _ usr: UserAttributes, path: String, _ walk: inout Walk) {
        var attr = attrIn
        attr.level += 1
        guard walk.firstTime("file \(usr.uid) \(path)") else { return }
        if settings.allowMailToFiles.isDisjoint(with: attr.expansion) {
            return walk.emit(.bounce(status: "5.7.1", text: DeliveryStatusText.mailToFileRestricted), attr)
        }
        guard let rights = deliveryRights(usr, &walk) else {
            return walk.emit(.defer(status: "4.3.5", text: DeliveryStatusText.configurationError), attr)
        }
        walk.emit(.file(path, as: rights), attr)
    }

    /// deliver_command: the environment Postfix exports, censored with command_expansion_filter.
    func deliverCommand(_ attrIn: DeliverAttributes, _ usr: UserAttributes, command: String, _ walk: inout Walk) {
        var attr = attrIn
        attr.level += 1
        guard walk.firstTime("command \(attr.user):\(usr.uid) \(command)") else { return }
        guard let rights = deliveryRights(usr, &walk) else {
            return walk.emit(.defer(status: "4.3.5", text: DeliveryStatusText.configurationError), attr)
        }
        var env: [String: String] = [
            "LOGNAME": attr.user, "USER": attr.user, "SENDER": attr.sender, "RECIPIENT": attr.recipient,
            "LOCAL": attr.local,
        ]
        if let home = usr.home { env["HOME"] = home }
        if let shell = usr.shell { env["SHELL"] = shell }
        if let domain = attr.domain { env["DOMAIN"] = domain }
        if let ext = attr.extension { env["EXTENSION"] = ext }
        if !attr.originalRecipient.isEmpty { env["ORIGINAL_RECIPIENT"] = attr.originalRecipient }
        let allowed = Set(settings.commandExpansionFilter)
        for (key, value) in env {
            env[key] = String(value.map { allowed.contains($0) ? $0 : "_" })
        }
        let shell = settings.localCommandShell.isEmpty ? nil : settings.localCommandShell
        walk.emit(.command(command, as: rights, shell: shell, environment: env), attr)
    }

    /// The account a command or file delivery runs as: the established rights, or default_privs
    /// when none were established or they are root's (Postfix never runs these as root).
    func deliveryRights(_ usr: UserAttributes, _ walk: inout Walk) -> SystemUser? {
        if usr.uid != 0, let account = usr.account, account.uid == usr.uid, usr.gid != 0 {
            return account
        }
        let fallback: SystemUser?
        do { fallback = try users.user(named: settings.defaultPrivs) } catch { fallback = nil }
        guard let fallback, fallback.uid != 0, fallback.gid != 0 else {
            walk.warnings.append("unknown or privileged default_privs user: \(settings.defaultPrivs)")
            return nil
        }
        guard usr.uid != 0 else { return fallback }
        let base = usr.account
        return SystemUser(
            name: base?.name ?? fallback.name, uid: usr.uid, gid: usr.gid != 0 ? usr.gid : fallback.gid,
            home: base?.home ?? "", shell: base?.shell ?? "", groups: [usr.gid != 0 ? usr.gid : fallback.gid])
    }
}
