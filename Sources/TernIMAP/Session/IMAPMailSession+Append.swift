import TernMailbox

/// An APPEND in progress. Messages received completely wait in `tmp/` and become visible together when the
/// command ends, so that a MULTIAPPEND (RFC 3502 §6.3.11) keeps all of its messages or none.
struct AppendState {
    let tag: String
    let mailbox: String
    /// The message being received.
    var appender: (any MailboxAppender)?
    /// CATENATE: the bytes the message has so far, for the TOOBIG limit.
    var composedSize = 0
    var received: [any MailboxAppender] = []
    /// REPLACE (RFC 8508): the UID of the selected mailbox's message to expunge once the new one is stored.
    var replacing: UInt32?
}

extension IMAPMailSession {
    /// A message was announced. The mailbox is checked before the client sends it: a synchronizing
    /// literal is then refused without `+ OK`, as Dovecot does.
    func appendStarted(_ message: AppendMessage) {
        if message.index > 0 {
            guard finishAppendedMessage() else { return }
        }
        if message.utf8, !utf8Names {
            rejectUTF8Literal(message.tag)
            return
        }
        var replacing: UInt32?
        if let target = message.replace {
            guard let uid = replaceTarget(message.tag, target) else { return }
            replacing = uid
        }
        guard let storeName = appendTarget(message) else { return }
        if !message.catenate && message.byteCount == 0 {
            rejectAppend(message.tag, .no, nil, IMAPReplyText.zeroByteMessage)
            return
        }
        let (flags, keywords) = Self.storeFlags(message.flags)
        do {
            // Dovecot checks the quota with the announced size before it asks for the literal.
            let received = append?.received ?? []
            _ = try checkQuota(
                storeName, bytes: received.reduce(message.byteCount) { $0 + $1.size }, count: received.count + 1)
            let appender = try store.beginAppend(
                to: storeName, flags: flags, keywords: keywords, internalDate: message.internalDate?.epochSeconds)
            if append == nil { append = AppendState(tag: message.tag, mailbox: storeName, replacing: replacing) }
            append?.appender = appender
            append?.composedSize = 0
        } catch .nonexistent {
            rejectAppend(message.tag, .no, .tryCreate, IMAPReplyText.mailboxDoesNotExist(storeName))
            return
        } catch {
            rejectAppend(failure: error, message.tag)
            return
        }
        if message.synchronizing { send(.literalContinuation) }
    }

    /// The UID of the message REPLACE names in the selected mailbox, or nil after refusing the command: BAD
    /// outside the selected state and for a sequence number past the end, as for other commands; NO for a UID
    /// not there (RFC 8508 §3.3) and in a mailbox selected read-only, where nothing can be expunged.
    private func replaceTarget(_ tag: String, _ target: ReplaceTarget) -> UInt32? {
        guard let mailbox = selected?.mailbox else {
            rejectAppend(tag, .bad, nil, IMAPReplyText.noMailboxSelected)
            return nil
        }
        if uidOnly, !target.uid {
            rejectAppend(tag, .bad, .other("UIDREQUIRED"), IMAPReplyText.uidRequired)
            return nil
        }
        let message = target.uid
            ? mailbox.message(uid: target.number)
            : mailbox.messages.indices.contains(Int(target.number) - 1) ? mailbox.messages[Int(target.number) - 1] : nil
        guard let message else {
            if target.uid {
                rejectAppend(tag, .no, nil, IMAPReplyText.messageNotFound)
            } else {
                let text = IMAPReplyText.commandError(target.commandName, IMAPReplyText.invalidMessageset)
                rejectAppend(tag, .bad, nil, text)
            }
            return nil
        }
        guard !mailbox.isReadOnly else {
            rejectAppend(tag, .no, nil, IMAPReplyText.mailboxReadOnly)
            return nil
        }
        return message.uid
    }

    /// The store name of APPEND's mailbox, or nil after refusing the message.
    private func appendTarget(_ message: AppendMessage) -> String? {
        guard let decoded = decodedName(message.mailbox) else {
            rejectAppend(message.tag, .no, nil, invalidNameText)
            return nil
        }
        let storeName = store.normalize(decoded)
        let granted = rights(storeName)
        guard store.exists(storeName), granted.contains(.lookup) || granted.contains(.insert) else {
            rejectAppend(message.tag, .no, .tryCreate, IMAPReplyText.mailboxDoesNotExist(storeName))
            return nil
        }
        // RFC 4314 §4: APPEND needs the insert right.
        guard granted.contains(.insert) else {
            rejectAppend(message.tag, .no, .noPerm, IMAPReplyText.permissionDenied)
            return nil
        }
        return storeName
    }

    func appendReceived(_ bytes: [UInt8]) {
        guard let appender = append?.appender else { return }
        do {
            try appender.write(bytes)
        } catch {
            rejectAppend(failure: error, append?.tag ?? "*")
        }
    }

    /// RFC 6855 §4: UTF8 is APPEND syntax only once UTF8=ACCEPT is enabled; Dovecot knows none of it.
    private func rejectUTF8Literal(_ tag: String) {
        rejectAppend(tag, .bad, nil, "Error in IMAP command APPEND: Invalid arguments.")
    }

    /// CATENATE's `TEXT` literal (RFC 4469 §5), or its `UTF8 (literal8)` part (RFC 6855 §4), is announced.
    func catenateTextStarted(byteCount: Int, synchronizing: Bool, utf8: Bool) {
        guard let state = append, state.appender != nil else { return }
        if utf8, !utf8Names {
            rejectUTF8Literal(state.tag)
            return
        }
        guard grow(byteCount) else { return }
        if synchronizing { send(.literalContinuation) }
    }

    /// CATENATE's `URL`: the part it names is copied into the message, or the whole APPEND fails with
    /// `NO [BADURL url]` (RFC 4469 §6).
    func catenateURL(_ text: String) {
        guard let state = append, let appender = state.appender else { return }
        do throws(IMAPURL.Failure) {
            let url = try IMAPURL(relative: text)
            let bytes = try urlData(url)
            guard grow(bytes.count) else { return }
            do {
                try appender.write(bytes)
            } catch {
                rejectAppend(failure: error, state.tag)
            }
        } catch {
            rejectAppend(state.tag, .no, .badURL(text), error.text)
        }
    }

    /// Counts CATENATE's bytes; false (after answering `NO [TOOBIG]`) past the limit.
    private func grow(_ count: Int) -> Bool {
        guard let state = append else { return false }
        guard state.composedSize + count <= configuration.maxComposedMessageSize else {
            rejectAppend(state.tag, .no, .tooBig, IMAPReplyText.composedMessageTooBig)
            return false
        }
        append?.composedSize += count
        return true
    }

    /// The bytes an IMAP URL names, with CRLF line ends: the message, or its section, cut to PARTIAL.
    private func urlData(_ url: IMAPURL) throws(IMAPURL.Failure) -> [UInt8] {
        guard let name = url.mailbox.map({ store.normalize($0) }) ?? selected?.mailbox.name else {
            throw IMAPURL.Failure.noMailbox
        }
        let mailbox: any Mailbox
        if let open = selected?.mailbox, open.name == name {
            mailbox = open
        } else {
            do {
                mailbox = try store.openMailbox(name, readOnly: true)
            } catch {
                throw IMAPURL.Failure(IMAPReplyText.mailboxDoesNotExist(name))
            }
        }
        if let validity = url.uidValidity, validity != mailbox.uidValidity {
            throw IMAPURL.Failure(IMAPReplyText.invalidUIDValidity)
        }
        guard mailbox.message(uid: url.uid) != nil, let bytes = try? Self.readMessage(mailbox, uid: url.uid) else {
            throw IMAPURL.Failure(IMAPReplyText.messageNotFound)
        }
        let data = url.section.map { MessageSections(bytes).data($0) } ?? bytes
        return Self.slice(data, url.partial)
    }

    func appendEnded(tag: String) {
        guard finishAppendedMessage(), let state = append else { return }
        append = nil
        let uids: [UInt32]
        let bytes = state.received.reduce(0) { $0 + $1.size }
        let before: [QuotaAmount]?
        do {
            before = try checkQuota(state.mailbox, bytes: bytes, count: state.received.count)
            uids = try store.commitAppends(state.received)
        } catch {
            for appender in state.received { appender.abort() }
            fail(tag, error)
            return
        }
        quotaSaved(state.mailbox, before: before, bytes: bytes, count: uids.count)
        let code = uidValidity(of: state.mailbox).map {
            ResponseCode.appendUID(uidValidity: $0, uids: SequenceSet.compact(uids))
        }
        indexSavedMessages(in: state.mailbox)
        guard let replaced = state.replacing else {
            finish(tag, .ok, code, text: IMAPReplyText.appendCompleted)
            return
        }
        // RFC 8508 §3.4 and §4.3: APPENDUID in an untagged OK, the new message's EXISTS (when it went into the
        // selected mailbox), then the old one's EXPUNGE (VANISHED with QRESYNC).
        send(.untagged(.ok, code, IMAPReplyText.replacementReady))
        writeUpdates()
        do {
            try expungeAnnouncing([replaced])
        } catch {
            fail(tag, error)
            return
        }
        finish(tag, text: IMAPReplyText.replaceCompleted)
    }

    /// fts_autoindex: the full-text index of a mailbox messages were just saved into takes them now, not at the
    /// next search (up to FullTextIndexer.waitLimit missing messages). A failure only leaves that to the next
    /// search, as in Dovecot. A mailbox of its own, so the
    /// selected one still reports the new messages with the command's reply.
    func indexSavedMessages(in storeName: String) {
        guard configuration.fullTextAutoIndex, let mailbox = try? store.openMailbox(storeName, readOnly: true)
        else { return }
        _ = try? FullTextIndexer.update(mailbox, limit: FullTextIndexer.waitLimit)
    }

    /// Puts the message received so far aside until the command ends; false (after answering NO) when that
    /// failed.
    private func finishAppendedMessage() -> Bool {
        guard let appender = append?.appender else { return append != nil }
        append?.appender = nil
        do {
            try (appender as? MessageAppender)?.prepare()
            append?.received.append(appender)
            return true
        } catch {
            rejectAppend(failure: error, append?.tag ?? "*")
            return false
        }
    }

    /// Drops the whole command: no message of it is kept; the parser skips the rest.
    private func rejectAppend(_ tag: String, _ status: IMAPStatus, _ code: ResponseCode?, _ text: String) {
        discardAppend()
        parser.rejectAppend()
        finish(tag, status, code, text: text)
    }

    private func rejectAppend(failure error: MailboxError, _ tag: String) {
        let failure = failure(error)
        rejectAppend(tag, .no, failure.code, failure.text)
    }

    /// Throws away the messages of an APPEND that failed (also when the parser refused the rest of it).
    func discardAppend() {
        append?.appender?.abort()
        for appender in append?.received ?? [] { appender.abort() }
        append = nil
    }

    /// APPEND's and STORE's flags in the store's terms: system flags and keyword names.
    static func storeFlags(_ flags: [Flag]) -> (MessageFlags, [String]) {
        var system: MessageFlags = []
        var keywords: [String] = []
        for flag in flags {
            switch flag {
            case .answered: system.insert(.answered)
            case .flagged: system.insert(.flagged)
            case .deleted: system.insert(.deleted)
            case .seen: system.insert(.seen)
            case .draft: system.insert(.draft)
            case .keyword(let name): if !keywords.contains(name) { keywords.append(name) }
            case .recent, .wildcard: break
            }
        }
        return (system, keywords)
    }
}
