import TernMailbox

extension IMAPMailSession {
    /// Runs one parsed command; every command ends with exactly one tagged reply (or `* BYE`).
    func run(_ tagged: TaggedCommand) {
        let tag = tagged.tag
        let command = tagged.command
        if needsSelection(command), selected == nil {
            complete(tag, .bad, text: IMAPReplyText.noMailboxSelected)
            countBadCommand()
            return
        }
        if uidOnly, Self.usesSequenceNumbers(command) {
            complete(tag, .bad, .other("UIDREQUIRED"), text: IMAPReplyText.uidRequired)
            countBadCommand()
            return
        }
        badCommands = 0
        switch command {
        case .capability:
            send(.capability(configuration.capabilities))
            finish(tag, text: IMAPReplyText.capabilityCompleted)
        case .noop: finish(tag, text: IMAPReplyText.noopCompleted)
        case .logout: logout(tag)
        case .startTLS, .authenticate, .login:
            // Already logged in: the imap process does not know these, as Dovecot's does not.
            let error = IMAPCommandError(tag: tag, command: command.name, reason: .unknownCommand)
            send(.badCommand(error, preLogin: false, timing: timing()))
            countBadCommand()
        case .compress(let mechanism): compress(tag, mechanism)
        case .getMetadata(let name, let entries, let options): getMetadata(tag, name, entries, options)
        case .setMetadata(let name, let values): setMetadata(tag, name, values)
        case .setACL(let name, let identifier, let rights): setACL(tag, name, identifier, rights)
        case .deleteACL(let name, let identifier): deleteACL(tag, name, identifier)
        case .getACL(let name): getACL(tag, name)
        case .listRights(let name, let identifier): listRights(tag, name, identifier)
        case .myRights(let name): myRights(tag, name)
        case .getQuotaRoot(let name): getQuotaRoot(tag, name)
        case .getQuota(let root): getQuota(tag, root)
        case .setQuota: setQuota(tag)
        case .id:
            send(.id([IDParameter(key: "name", value: "Dovecot")]))
            finish(tag, text: IMAPReplyText.idCompleted)
        case .enable(let names): enable(tag, names)
        case .namespace:
            let personal = NamespaceDescription(prefix: "", delimiter: store.settings.separator)
            // Dovecot calls `type = shared` namespaces "other users'" (RFC 2342 §5).
            let shared = store.settings.shared.map { [NamespaceDescription(prefix: $0.prefix, delimiter: separator)] }
            send(.namespace(personal: [personal], other: shared, shared: nil))
            finish(tag, text: IMAPReplyText.namespaceCompleted)
        case .idle: startIdle(tag)
        case .notify(let set): notify(tag, set)
        case .cancelUpdate(let tags): cancelUpdates(tag, tags)
        default: runMailboxCommand(tag, command)
        }
    }

    private func runMailboxCommand(_ tag: String, _ command: IMAPCommand) {
        switch command {
        case .select(let name, let condstore, let qresync):
            select(tag, name, readOnly: false, condstore: condstore, qresync: qresync)
        case .examine(let name, let condstore, let qresync):
            select(tag, name, readOnly: true, condstore: condstore, qresync: qresync)
        case .create(let name): create(tag, name)
        case .delete(let name): delete(tag, name)
        case .rename(let from, let to): rename(tag, from, to)
        case .subscribe(let name): subscribe(tag, name)
        case .unsubscribe(let name): unsubscribe(tag, name)
        case .list(let list): self.list(tag, list)
        case .lsub(let reference, let pattern): lsub(tag, reference: reference, pattern: pattern)
        case .status(let name, let attributes): status(tag, name, attributes)
        default: runSelectedCommand(tag, command)
        }
    }

    private func runSelectedCommand(_ tag: String, _ command: IMAPCommand) {
        switch command {
        case .check: finish(tag, text: IMAPReplyText.checkCompleted)
        case .close: close(tag)
        case .unselect:
            selected = nil
            complete(tag, text: IMAPReplyText.unselectCompleted)
        case .expunge: expunge(tag, uids: nil)
        case .uidExpunge(let set): expunge(tag, uids: set)
        case .search(let search, let uid): self.search(tag, search, uid: uid, command: command)
        case .sort(let sort, let uid): self.sort(tag, sort, uid: uid)
        case .thread(let thread, let uid): self.thread(tag, thread, uid: uid)
        case .fetch(let set, let attributes, let uid, let changedSince, let vanished):
            fetch(tag, set, attributes, uid: uid, changedSince: changedSince, vanished: vanished, command: command)
        case .store(let set, let flags, let uid, let unchangedSince):
            store(tag, set, flags, uid: uid, unchangedSince: unchangedSince, command: command)
        case .copy(let set, let name, let uid): copy(tag, set, name, uid: uid, move: false, command: command)
        case .move(let set, let name, let uid): copy(tag, set, name, uid: uid, move: true, command: command)
        default:
            let error = IMAPCommandError(tag: tag, command: command.name, reason: .unknownCommand)
            send(.badCommand(error, preLogin: false, timing: timing()))
        }
    }

    private func needsSelection(_ command: IMAPCommand) -> Bool {
        switch command {
        case .check, .close, .expunge, .uidExpunge, .search, .fetch, .store, .copy, .move, .unselect, .sort, .thread:
            return true
        default:
            return false
        }
    }

    private func logout(_ tag: String) {
        send(.untagged(.bye, nil, IMAPReplyText.loggingOut))
        complete(tag, text: IMAPReplyText.logoutCompleted)
        closing = true
    }

    /// RFC 4978, with the replies of Dovecot's imap_zlib plugin. After the OK the caller (the session
    /// worker) compresses both directions, starting with the input after this command's line.
    private func compress(_ tag: String, _ mechanism: String) {
        guard configuration.capabilities.contains(IMAPReplyText.compressDeflate) else {
            let error = IMAPCommandError(tag: tag, command: "COMPRESS", reason: .unknownCommand)
            send(.badCommand(error, preLogin: false, timing: timing()))
            countBadCommand()
            return
        }
        if compression != .none {
            complete(tag, .no, .other("COMPRESSIONACTIVE"), text: IMAPReplyText.compressionActive)
        } else if mechanism != "DEFLATE" {
            complete(tag, .no, text: IMAPReplyText.unknownCompression)
        } else {
            complete(tag, text: IMAPReplyText.beginCompression)
            compression = .starting
        }
    }

    /// RFC 5161: only extensions this session both advertises and can turn on are reported.
    private func enable(_ tag: String, _ names: [String]) {
        let advertised = Set(configuration.capabilities.map { $0.uppercased() })
        var enabled: [String] = []
        for name in names.map({ $0.uppercased() })
        where Self.enableable.contains(name) && advertised.contains(name) && !enabled.contains(name) {
            if name == "CONDSTORE" { enableCondstore() }
            if name == "QRESYNC" { enableQResync() }
            let rev2 = name == Self.imap4rev2.uppercased()
            if name == "UTF8=ACCEPT" || rev2 { acceptUTF8() }
            if name == "UTF8=ACCEPT" { utf8AcceptEnabled = true }
            if rev2 { imap4rev2Enabled = true }
            if name == "UIDONLY" { uidOnly = true }
            enabled.append(rev2 ? Self.imap4rev2 : name)
        }
        // Dovecot sends no `* ENABLED` when nothing was enabled.
        if !enabled.isEmpty { send(.enabled(enabled)) }
        // Dovecot's ENABLE answers without syncing the mailbox.
        complete(tag, text: IMAPReplyText.enabled)
    }

    /// The RFC 5161 extensions a session can enable (upper case), when the capability list has them.
    static let enableable: Set<String> = ["CONDSTORE", "QRESYNC", "UTF8=ACCEPT", "IMAP4REV2", "UIDONLY"]
    static let imap4rev2 = "IMAP4rev2"

    /// RFC 9586 §3: what UIDONLY refuses: the commands' sequence-number forms, SEARCH keys naming sequence
    /// numbers (also in UID SEARCH, SORT and THREAD), and QRESYNC's sequence match data.
    static func usesSequenceNumbers(_ command: IMAPCommand) -> Bool {
        switch command {
        case .fetch(_, _, let uid, _, _), .store(_, _, let uid, _), .copy(_, _, let uid), .move(_, _, let uid):
            return !uid
        case .search(let search, let uid): return !uid || search.key.namesSequenceNumbers
        case .sort(let sort, let uid): return !uid || sort.key.namesSequenceNumbers
        case .thread(let thread, let uid): return !uid || thread.key.namesSequenceNumbers
        case .select(_, _, let qresync), .examine(_, _, let qresync): return qresync?.sequenceMatch != nil
        default: return false
        }
    }

    /// RFC 6855 §3: UTF-8 mailbox names both ways, and UTF-8 in quoted strings of responses.
    private func acceptUTF8() {
        utf8Names = true
        output.quotesUTF8 = true
    }

    // MARK: IDLE (RFC 2177)

    private func startIdle(_ tag: String) {
        idleTag = tag
        lastKeepalive = configuration.clock()
        loadedMessage = nil  // an idle session may wait for hours; it keeps no message text meanwhile
        loadedStructure = nil
        send(.idling)
        parser.expectContinuationLine()
        writeUpdates()
        writeUnreportedHighestModSeq()
    }

    func idleLine(_ line: [UInt8]) {
        guard let tag = idleTag else { return }
        idleTag = nil
        commandStart = configuration.clock()
        if String(decoding: line, as: UTF8.self).uppercased() == "DONE" {
            writeUpdates()
            guard !closing else { return }
            writeUnreportedHighestModSeq()
            complete(tag, text: IMAPReplyText.idleCompleted)
        } else {
            complete(tag, .bad, text: IMAPReplyText.expectedDone)
        }
    }
}
