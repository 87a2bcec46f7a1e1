import TernMailbox

extension IMAPMailSession {
    /// STORE / UID STORE (RFC 3501 §6.4.6). A keyword new to the mailbox is announced with `* FLAGS` and
    /// PERMANENTFLAGS before the FETCH responses, as Dovecot does. UNCHANGEDSINCE (RFC 7162 §3.1.3) leaves
    /// messages with a higher MODSEQ alone and names them in `[MODIFIED set]`.
    func store(
        _ tag: String, _ set: SequenceSet, _ storeFlags: StoreFlags, uid: Bool, unchangedSince: UInt64?,
        command: IMAPCommand
    ) {
        guard let selection = selected else { return }
        guard var chosen = indexes(set, uid: uid) else {
            badArguments(tag, command, IMAPReplyText.invalidMessageset)
            return
        }
        if unchangedSince != nil { enableCondstore() }
        // EXAMINE; a SELECT made read-only by the ACL goes on, and stores only what the rights allow.
        if selection.examined || (selection.readOnly && selection.rights.canWrite) {
            if unchangedSince != nil {
                complete(tag, .no, text: IMAPReplyText.condstoreReadOnly)
            } else {
                complete(tag, text: "Store ignored with read-only mailbox.")
            }
            return
        }
        var modified: [UInt32] = []
        if let unchangedSince {
            let messages = selection.mailbox.messages
            modified = chosen.filter { messages[$0].modSeq > unchangedSince }.map {
                uid ? messages[$0].uid : UInt32($0 + 1)
            }
            chosen = chosen.filter { messages[$0].modSeq <= unchangedSince }
        }
        let (flags, keywords) = Self.storeFlags(storeFlags.flags)
        let uids = chosen.map { selection.mailbox.messages[$0].uid }
        let wasDeleted = Set(chosen.filter { selection.mailbox.messages[$0].flags.contains(.deleted) }.map {
            selection.mailbox.messages[$0].uid
        })
        var before: [UInt32: (MessageFlags, [String])] = [:]
        for index in chosen {
            let message = selection.mailbox.messages[index]
            before[message.uid] = (message.flags, message.keywords)
        }
        let updated: [MessageInfo]
        do {
            guard
                let changed = try updateFlags(
                    selection, uids, storeFlags.operation, flags: flags, keywords: keywords)
            else {
                // No right to change any flag: Dovecot ignores the STORE silently.
                if uid { finish(tag, text: IMAPReplyText.storeCompleted) } else { complete(tag, text: IMAPReplyText.storeCompleted) }
                return
            }
            // Dovecot answers only for the messages the STORE changed.
            updated = changed.filter { message in
                before[message.uid].map { $0.0 != message.flags || $0.1 != message.keywords } ?? true
            }
        } catch {
            let failure = failure(error, mailbox: selected?.mailbox.name)
            complete(tag, .no, failure.code, text: failure.text)
            return
        }
        statistics.deleted += updated.count(where: { $0.flags.contains(.deleted) && !wasDeleted.contains($0.uid) })
        writeKeywordsIfChanged()
        writeStoredFlags(updated, uid: uid, silent: storeFlags.silent)
        writeSearchChanges(updated.map(\.uid))
        let code = modified.isEmpty ? nil : ResponseCode.modified(SequenceSet.compact(modified))
        let text = modified.isEmpty ? IMAPReplyText.storeCompleted : IMAPReplyText.conditionalStoreFailed
        // RFC 3501 §7.4.1: no EXPUNGE during STORE; UID STORE may report them.
        if uid { finish(tag, .ok, code, text: text) } else { complete(tag, .ok, code, text: text) }
    }

    /// Changes flags as far as the ACL rights allow (RFC 4314 §4: s for \\Seen, t for \\Deleted, w for the
    /// others and keywords), as Dovecot's acl plugin filters them; nil when nothing may change. A replace with
    /// some rights missing leaves the flags it may not touch as they are.
    private func updateFlags(
        _ selection: SelectedMailbox, _ uids: [UInt32], _ operation: StoreFlags.Operation, flags: MessageFlags,
        keywords: [String]
    ) throws(MailboxError) -> [MessageInfo]? {
        let rights = selection.rights
        let mailbox = selection.mailbox
        if rights.isSuperset(of: [.write, .writeSeen, .writeDeleted]) {
            let change: FlagChange = operation == .add ? .add : operation == .remove ? .remove : .replace
            return try mailbox.updateFlags(uids: uids, change, flags: flags, keywords: keywords)
        }
        var allowed: MessageFlags = rights.contains(.write) ? [.answered, .flagged, .draft] : []
        if rights.contains(.writeSeen) { allowed.insert(.seen) }
        if rights.contains(.writeDeleted) { allowed.insert(.deleted) }
        let mayKeywords = rights.contains(.write)
        switch operation {
        case .add, .remove:
            let flags = flags.intersection(allowed)
            let keywords = mayKeywords ? keywords : []
            guard !flags.isEmpty || !keywords.isEmpty else { return nil }
            return try mailbox.updateFlags(uids: uids, operation == .add ? .add : .remove, flags: flags, keywords: keywords)
        case .replace:
            guard !allowed.isEmpty else { return nil }
            let dropped = mayKeywords ? mailbox.definedKeywords.filter { !keywords.contains($0) } : []
            _ = try mailbox.updateFlags(uids: uids, .remove, flags: allowed.subtracting(flags), keywords: dropped)
            return try mailbox.updateFlags(
                uids: uids, .add, flags: flags.intersection(allowed), keywords: mayKeywords ? keywords : [])
        }
    }

    /// The FETCH responses of STORE: `[UID n] [MODSEQ (m)] FLAGS (...)`. Once CONDSTORE is enabled MODSEQ goes
    /// out even for .SILENT (RFC 7162 §3.1.3), in the order Dovecot writes it; with QRESYNC so does the UID.
    private func writeStoredFlags(_ messages: [MessageInfo], uid: Bool, silent: Bool) {
        guard let mailbox = selected?.mailbox, !silent || condstoreEnabled else { return }
        for message in messages {
            guard let index = mailbox.index(of: message.uid) else { continue }
            var items: [FetchResponseItem] = uid || qresyncEnabled ? implicitUID(message.uid) : []
            if condstoreEnabled { items.append(.modSeq(message.modSeq)) }
            if !silent { items.append(.flags(flagList(message))) }
            send(.fetch(UInt32(index + 1), items))
        }
    }

    // MARK: COPY / MOVE

    /// COPY (RFC 3501 §6.4.7, COPYUID from RFC 4315) and MOVE (RFC 6851: COPYUID untagged, then EXPUNGEs).
    func copy(_ tag: String, _ set: SequenceSet, _ name: MailboxName, uid: Bool, move: Bool, command: IMAPCommand) {
        guard let selection = selected else { return }
        guard let chosen = indexes(set, uid: uid) else {
            badArguments(tag, command, IMAPReplyText.invalidMessageset)
            return
        }
        guard let target = storeName(tag, name),
            permitted(.insert, tag, target, hidden: {
                finish(tag, .no, .tryCreate, text: IMAPReplyText.mailboxDoesNotExist(target))
            })
        else { return }
        // MOVE expunges from the source, which needs the expunge right.
        if move, !selection.readOnly, !selection.rights.contains(.expunge) {
            finish(tag, .no, .noPerm, text: IMAPReplyText.permissionDenied)
            return
        }
        if move, selection.readOnly {
            finish(tag, .no, text: MailboxError.readOnly.description)
            return
        }
        guard !chosen.isEmpty else {
            finish(tag, text: "No messages found.")
            return
        }
        let uids = chosen.map { selection.mailbox.messages[$0].uid }
        let bytes = chosen.reduce(0) { $0 + selection.mailbox.messages[$1].size }
        let pairs: [(UInt32, UInt32)]
        var before: [QuotaAmount]?
        do {
            before = try checkQuota(
                target, bytes: bytes, count: uids.count, movingFrom: move ? selection.mailbox.name : nil)
            pairs = try store.copy(uids: uids, from: selection.mailbox, to: target)
        } catch .nonexistent {
            finish(tag, .no, .tryCreate, text: IMAPReplyText.mailboxDoesNotExist(target))
            return
        } catch {
            fail(tag, error)
            return
        }
        quotaSaved(target, before: before, bytes: bytes, count: pairs.count, movingFrom: move ? selection.mailbox.name : nil)
        if store.settings.mailboxes.contains(where: { store.normalize($0.name) == target && $0.isTrash }) {
            statistics.trashed += pairs.count
        }
        indexSavedMessages(in: target)
        let code = uidValidity(of: target).map {
            ResponseCode.copyUID(
                uidValidity: $0, source: SequenceSet.compact(pairs.map(\.0)),
                destination: SequenceSet.compact(pairs.map(\.1)))
        }
        guard move else {
            finish(tag, .ok, code, text: IMAPReplyText.copyCompleted)
            return
        }
        finishMove(tag, code: code, moved: pairs.map(\.0))
    }

    private func finishMove(_ tag: String, code: ResponseCode?, moved: [UInt32]) {
        send(.untagged(.ok, code, IMAPReplyText.movedUIDs))
        do {
            try expungeAnnouncing(moved)
        } catch {
            fail(tag, error)
            return
        }
        finish(tag, text: IMAPReplyText.moveCompleted)
    }
}

extension MailboxSettings {
    /// COPY into it counts as `trashed` in the logout line.
    var isTrash: Bool { specialUse.contains { $0.lowercased() == "\\trash" } }
}
