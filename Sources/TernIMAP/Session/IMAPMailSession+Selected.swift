import Foundation
import TernMailbox

/// The selected mailbox and what the client was last told about it.
struct SelectedMailbox {
    let mailbox: any Mailbox
    /// The `* n RECENT` count last sent; a new one goes out when it changes.
    var announcedRecent: Int
    /// Keywords last announced in `* FLAGS`.
    var announcedKeywords: [String]
    /// RFC 5182 `$`: the UIDs the last SEARCH RETURN (SAVE) found; messages expunged since drop out by
    /// themselves. Empty after SELECT.
    var savedSearch: [UInt32] = []
    /// RFC 5267: SEARCH RETURN (UPDATE) results the client is kept told about.
    var searchUpdates: [SearchUpdate] = []
    /// Opened with EXAMINE (not only read-only for lack of ACL rights).
    var examined = false
    /// The session user's ACL rights on it (RFC 4314; all without the acl plugin).
    var rights = ACLRights.all
    /// NOTIFY's MessageNew FETCH covers messages from this UID on (the UIDNEXT at SELECT, then after each).
    var notifyUIDNext: UInt32 = 0
    /// PREVIEW texts by UID (`tern.preview`), read when first needed; those made since, until appended to the
    /// file; the file's size as last read or written (0: rewrite it).
    var previews: [UInt32: [UInt8]]?
    var newPreviews: [UInt32: [UInt8]] = [:]
    var previewFileSize = 0
    /// THREAD's step 1 over the whole mailbox, continued by the next THREAD (REFERENCES and REFS share it).
    var threadLinks: ThreadLinks?

    var readOnly: Bool { mailbox.isReadOnly }
}

extension IMAPMailSession {
    // MARK: SELECT / EXAMINE

    /// `condstore`: SELECT (CONDSTORE) enables CONDSTORE (RFC 7162 §3.1.8). HIGHESTMODSEQ is always sent while
    /// CONDSTORE is advertised: every Tern mailbox keeps MODSEQs (§3.1.2.1; Dovecot does the same for
    /// mailboxes whose index tracks them). `qresync`: what the client knew (§3.2.5), answered before the
    /// tagged reply.
    func select(
        _ tag: String, _ name: MailboxName, readOnly: Bool, condstore: Bool = false,
        qresync: QResyncParameters? = nil
    ) {
        closeForSelect()
        if qresync != nil, !qresyncEnabled {
            let error = IMAPCommandError(
                tag: tag, command: readOnly ? "EXAMINE" : "SELECT", reason: .syntax(IMAPReplyText.qresyncNotEnabled))
            send(.badCommand(error, preLogin: false, timing: timing()))
            return
        }
        if condstore { enableCondstore() }
        guard let storeName = storeName(tag, name),
            permitted(.read, tag, storeName, hidden: { complete(tag, .no, text: IMAPReplyText.mailboxDoesNotExist(storeName)) })
        else { return }
        // Without a right to change anything the mailbox is read-only even for SELECT (Dovecot's acl_is_readonly).
        let granted = rights(storeName)
        let mailbox: any Mailbox
        do {
            mailbox = try store.openMailbox(storeName, readOnly: readOnly || !granted.canWrite)
        } catch .nonexistent {
            complete(tag, .no, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            return
        } catch {
            let failure = failure(error, mailbox: storeName)
            complete(tag, .no, failure.code, text: failure.text)
            return
        }
        let keywords = mailbox.definedKeywords
        selected = SelectedMailbox(
            mailbox: mailbox, announcedRecent: mailbox.recentCount, announcedKeywords: keywords, examined: readOnly,
            rights: granted, notifyUIDNext: mailbox.nextUID)
        var response = SelectResponse(
            flags: Self.mailboxFlags(keywords), permanentFlags: Self.permanentFlags(keywords, granted),
            exists: UInt32(mailbox.messages.count), recent: UInt32(mailbox.recentCount),
            // UIDONLY: no sequence numbers in responses, so no [UNSEEN n] (RFC 9586 §3).
            firstUnseen: uidOnly ? nil : mailbox.firstUnseenSequence.map { UInt32($0) },
            uidValidity: mailbox.uidValidity,
            uidNext: mailbox.nextUID, highestModSeq: reportsModSeqs ? mailbox.highestModSeq : nil,
            readOnly: mailbox.isReadOnly,
            list: imap4rev2Enabled ? selectedListItem(storeName, oldName: denormalized(name)) : nil)
        if objectIDs { response.mailboxID = ObjectID.mailboxID(mailbox) }
        var lines = response.responses(tag: tag, examine: readOnly, replacedMailbox: false, timing: timing())
        let completion = lines.removeLast()
        for line in lines { send(line) }
        if let qresync { writeResync(qresync) }
        lastReportedModSeq = mailbox.highestModSeq
        highestFetchedModSeq = 0
        send(completion)
    }

    /// RFC 9051 §6.3.2: IMAP4rev2's SELECT reports the mailbox's LIST line, attributes as LIST gives them,
    /// with OLDNAME when the client named it in a denormalized form.
    private func selectedListItem(_ storeName: String, oldName: MailboxName?) -> MailboxListItem {
        let entry = (try? store.listMailboxes())?.first { $0.name == storeName }
        let basic = ListCommand(reference: MailboxName(bytes: []), patterns: [MailboxName(bytes: [])])
        let attributes = entry.map { listAttributes($0, basic) } ?? []
        return MailboxListItem(attributes: attributes, delimiter: separator, name: wireName(storeName), oldName: oldName)
    }

    /// SELECT and EXAMINE first close the selected mailbox, and say so: `* OK [CLOSED]` (RFC 7162 §3.2.11).
    func closeForSelect() {
        guard selected != nil else { return }
        selected = nil
        loadedMessage = nil
        send(.untagged(.ok, .closed, IMAPReplyText.previousMailboxClosed))
    }

    static func mailboxFlags(_ keywords: [String]) -> [Flag] {
        Flag.system + keywords.map(Flag.keyword)
    }

    /// PERMANENTFLAGS for the rights the user has (RFC 4314 §4): \Seen needs s, \Deleted t, the rest w.
    static func permanentFlags(_ keywords: [String], _ rights: ACLRights) -> [Flag] {
        (mailboxFlags(keywords) + [.wildcard]).filter { flag in
            switch flag {
            case .seen: rights.contains(.writeSeen)
            case .deleted: rights.contains(.writeDeleted)
            default: rights.contains(.write)
            }
        }
    }

    /// The store's name for a wire name, or nil after answering `NO` for a name that cannot be decoded.
    func storeName(_ tag: String, _ name: MailboxName) -> String? {
        guard let decoded = decodedName(name) else {
            complete(tag, .no, text: invalidNameText)
            return nil
        }
        return store.normalize(decoded)
    }

    /// A wire name in Unicode: modified UTF-7, or UTF-8 once UTF8=ACCEPT or IMAP4rev2 is enabled (RFC 6855 §3:
    /// the client then sends no modified UTF-7, so `&` is itself). A UTF-8 name is taken in its NFC form
    /// (RFC 9051 §5.1: names are Net-Unicode; a server may accept a denormalized name in every command and
    /// use its NFC form, so `CREATE` and `SELECT` of the same denormalized name reach the same mailbox).
    func decodedName(_ name: MailboxName) -> String? {
        guard utf8Names else { return name.decoded }
        return String(validating: name.bytes, as: UTF8.self)?.precomposedStringWithCanonicalMapping
    }

    /// The name an IMAP4rev2 client gave, when it is not the NFC form the mailbox goes by: the OLDNAME of
    /// RFC 9051 §6.3.9.7 (bytes compared: Swift's `==` treats canonically equivalent strings as equal).
    func denormalized(_ name: MailboxName) -> MailboxName? {
        guard imap4rev2Enabled, let decoded = decodedName(name), Array(decoded.utf8) != name.bytes else { return nil }
        return name
    }

    /// RFC 9051 §6.3.9.7: after CREATE, RENAME or DELETE of a denormalized name, an unsolicited LIST tells the
    /// client the name the mailbox has, `* LIST () "/" name ("OLDNAME" (given))`.
    func announceNormalized(_ given: MailboxName, _ storeName: String, _ attributes: [MailboxAttribute] = []) {
        guard let oldName = denormalized(given) else { return }
        send(.list(MailboxListItem(attributes: attributes, delimiter: separator, name: wireName(storeName), oldName: oldName)))
    }

    var invalidNameText: String { utf8Names ? "Mailbox name is not valid UTF-8" : "Mailbox name is not valid mUTF-7" }

    /// A store name as the client is told it.
    func wireName(_ storeName: String) -> MailboxName {
        utf8Names ? MailboxName(bytes: Array(storeName.utf8)) : MailboxName(storeName)
    }

    // MARK: CLOSE / EXPUNGE

    /// CLOSE expunges `\Deleted` messages without telling the client (RFC 3501 §6.4.2).
    /// Without the expunge right (RFC 4314) Dovecot closes without expunging and says why.
    func close(_ tag: String) {
        var text = IMAPReplyText.closeCompleted
        if let mailbox = selected?.mailbox, !mailbox.isReadOnly {
            if selected?.rights.contains(.expunge) == false {
                text = IMAPReplyText.closedWithoutExpunging
            } else {
                let quotaBefore = quotaBeforeExpunge(mailbox)
                if let removed = try? mailbox.expungeDeleted() {
                    statistics.expunged += removed.count
                    quotaExpunged(mailbox.name, quotaBefore, removed: removed)
                }
            }
        }
        selected = nil
        loadedMessage = nil
        complete(tag, text: text)
    }

    /// EXPUNGE, or UID EXPUNGE (RFC 4315) limited to `uids`. Read-only mailboxes expunge nothing, quietly.
    func expunge(_ tag: String, uids set: SequenceSet?) {
        guard let mailbox = selected?.mailbox else { return }
        // Without the expunge right Dovecot expunges nothing and says OK.
        if !mailbox.isReadOnly, selected?.rights.contains(.expunge) == true {
            var candidates = mailbox.messages.filter { $0.flags.contains(.deleted) }.map(\.uid)
            if let set {
                let largest = mailbox.messages.last?.uid ?? 0
                candidates = candidates.filter { set.contains($0, largest: largest) }
            }
            do {
                try expungeAnnouncing(candidates)
            } catch {
                fail(tag, error)
                return
            }
        }
        finish(tag, text: IMAPReplyText.expungeCompleted)
    }

    /// Expunges and writes `* n EXPUNGE` for each message (highest first, so no number shifts under the
    /// client), then the new RECENT count.
    func expungeAnnouncing(_ uids: [UInt32]) throws(MailboxError) {
        guard let mailbox = selected?.mailbox, !uids.isEmpty else { return }
        let before = mailbox.messages.map(\.uid)
        let quotaBefore = quotaBeforeExpunge(mailbox)
        let removed = try mailbox.expunge(uids: uids)
        statistics.expunged += removed.count
        quotaExpunged(mailbox.name, quotaBefore, removed: removed)
        writeSearchRemovals(removed, before: before)
        writeExpunges(removed, before: before)
        writeRecentIfChanged()
    }

    /// Once QRESYNC is enabled, one `* VANISHED uids` instead (RFC 7162 §3.2.10).
    func writeExpunges(_ uids: [UInt32], before: [UInt32]) {
        guard !uids.isEmpty else { return }
        if uids.contains(where: { loadedMessage?.uid == $0 }) { loadedMessage = nil }
        guard notifyCountChanges else { return }
        if qresyncEnabled || uidOnly {
            send(.vanished(SequenceSet.compact(uids.sorted()), earlier: false))
            return
        }
        var sequence: [UInt32: UInt32] = [:]
        for (index, uid) in before.enumerated() { sequence[uid] = UInt32(index + 1) }
        for number in uids.compactMap({ sequence[$0] }).sorted(by: >) {
            send(.expunge(number))
        }
    }

    func writeRecentIfChanged() {
        guard !imap4rev2Enabled, let current = selected?.mailbox.recentCount, current != selected?.announcedRecent else { return }
        selected?.announcedRecent = current
        if notifyCountChanges { send(.recent(UInt32(current))) }
    }

    // MARK: untagged updates (RFC 3501 §7)

    /// Syncs the selected mailbox and writes what changed in Dovecot's order (imap-sync.c): search updates for
    /// expunged messages, new keywords, FETCH FLAGS for messages others changed (numbered as the client knows
    /// them), EXPUNGEs (unless `holdingExpunges`), EXISTS, RECENT, search updates for the rest. A new
    /// UIDVALIDITY voids every UID the client holds, so the session ends as Dovecot's does.
    func writeUpdates(holdingExpunges: Bool = false) {
        guard let mailbox = selected?.mailbox else { return }
        let before = mailbox.messages.map(\.uid)
        let sync = holdingExpunges ? mailbox.syncKeepingExpunged : syncsQuickly ? mailbox.quickSync : mailbox.sync
        guard let changes = try? sync() else { return }
        if changes.uidValidityChanged {
            send(.untagged(.bye, nil, "Mailbox UIDVALIDITY changed"))
            closing = true
            return
        }
        writeSearchRemovals(changes.expunged, before: before)
        writeKeywordsIfChanged()
        if notifyFlagChanges { writeFlagChanges(changes.flagsChanged, before: before) }
        writeExpunges(changes.expunged, before: before)
        if !changes.added.isEmpty, notifyCountChanges { send(.exists(UInt32(mailbox.messages.count))) }
        writeRecentIfChanged()
        if !changes.added.isEmpty, notifyCountChanges { writeNewMessageFetches() }
        writeSearchChanges(changes.flagsChanged + changes.added)
    }

    /// `* n FETCH (FLAGS ...)` for messages another session changed, `n` counted in `before` (the list before
    /// this sync's expunges, which follow).
    private func writeFlagChanges(_ uids: [UInt32], before: [UInt32]) {
        guard let mailbox = selected?.mailbox, !uids.isEmpty else { return }
        var sequence: [UInt32: Int] = [:]
        for (index, uid) in before.enumerated() { sequence[uid] = index + 1 }
        for uid in uids {
            guard let number = sequence[uid], let index = mailbox.index(of: uid) else { continue }
            let message = mailbox.messages[index]
            let uid: [FetchResponseItem] = unsolicitedFetchUID ? implicitUID(message.uid) : []
            let modSeq: [FetchResponseItem] = condstoreEnabled ? [.modSeq(message.modSeq)] : []
            send(.fetch(UInt32(number), uid + modSeq + [.flags(flagList(message))]))
        }
    }

    /// `* FLAGS` and `* OK [PERMANENTFLAGS]` when keywords were added to the mailbox (Dovecot sends both).
    func writeKeywordsIfChanged() {
        guard let selection = selected else { return }
        let keywords = selection.mailbox.definedKeywords
        guard keywords != selection.announcedKeywords else { return }
        selected?.announcedKeywords = keywords
        send(.flags(Self.mailboxFlags(keywords)))
        if selection.readOnly {
            send(.untagged(.ok, .permanentFlags([]), IMAPReplyText.readOnlyMailbox))
        } else {
            send(.untagged(.ok, .permanentFlags(Self.permanentFlags(keywords, selection.rights)), IMAPReplyText.flagsPermitted))
        }
    }

    /// A message's flags as FETCH FLAGS lists them: system flags, `\Recent` (not in IMAP4rev2, RFC 9051
    /// §2.3.2), then keywords.
    func flagList(_ message: MessageInfo) -> [Flag] {
        var flags: [Flag] = []
        for (flag, name) in MessageFlags.all where message.flags.contains(flag) {
            if let parsed = Flag(parsing: name) { flags.append(parsed) }
        }
        if message.isRecent, !imap4rev2Enabled { flags.append(.recent) }
        return flags + message.keywords.map(Flag.keyword)
    }

    // MARK: sequence sets

    /// Indexes (sequence number - 1) named by a set. For sequence numbers, nil when a number lies beyond the
    /// mailbox (Dovecot: `Invalid messageset`); `strict` false lets SEARCH ignore them instead.
    func indexes(_ set: SequenceSet, uid: Bool, strict: Bool = true) -> [Int]? {
        guard let selection = selected else { return [] }
        let messages = selection.mailbox.messages
        guard case .ranges(let ranges) = set else {
            // `$` (RFC 5182): the saved UIDs still present, whether the command is a UID one or not.
            return selection.savedSearch.compactMap { selection.mailbox.index(of: $0) }
        }
        if uid {
            let largest = messages.last?.uid ?? 0
            return messages.indices.filter { set.contains(messages[$0].uid, largest: largest) }
        }
        let count = UInt32(messages.count)
        if strict {
            if count == 0 { return nil }
            for range in ranges where range.resolved(largest: count).upperBound > count { return nil }
        }
        var chosen = Set<Int>()
        for range in ranges {
            let bounds = range.resolved(largest: count)
            guard bounds.lowerBound <= count, count > 0 else { continue }
            for number in bounds.lowerBound...min(bounds.upperBound, count) { chosen.insert(Int(number) - 1) }
        }
        return chosen.sorted()
    }
}
