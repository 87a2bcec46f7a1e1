import TernMailbox

/// An APPEND in progress: the message being streamed and the UIDs of those already saved (MULTIAPPEND).
struct AppendState {
    let tag: String
    let mailbox: String
    var appender: (any MailboxAppender)?
    var uids: [UInt32] = []
}

extension IMAPMailSession {
    /// A message literal was announced. The mailbox is checked before the client sends it: a synchronizing
    /// literal is then refused without `+ OK`, as Dovecot does.
    func appendStarted(_ message: AppendMessage) {
        if message.index > 0 {
            guard commitPendingAppend() else { return }
        }
        guard let storeName = appendTarget(message) else { return }
        if message.byteCount == 0 {
            rejectAppend(message.tag, .no, nil, IMAPReplyText.zeroByteMessage)
            return
        }
        let (flags, keywords) = Self.storeFlags(message.flags)
        do {
            let appender = try store.beginAppend(
                to: storeName, flags: flags, keywords: keywords, internalDate: message.internalDate?.epochSeconds)
            if append == nil { append = AppendState(tag: message.tag, mailbox: storeName) }
            append?.appender = appender
        } catch .nonexistent {
            rejectAppend(message.tag, .no, .tryCreate, IMAPReplyText.mailboxDoesNotExist(storeName))
            return
        } catch {
            rejectAppend(message.tag, .no, error.imapResponseCode.map(ResponseCode.other), error.description)
            return
        }
        if message.synchronizing { send(.literalContinuation) }
    }

    /// The store name of APPEND's mailbox, or nil after refusing the message.
    private func appendTarget(_ message: AppendMessage) -> String? {
        guard let decoded = message.mailbox.decoded else {
            rejectAppend(message.tag, .no, nil, "Mailbox name is not valid mUTF-7")
            return nil
        }
        let storeName = store.normalize(decoded)
        guard store.exists(storeName) else {
            rejectAppend(message.tag, .no, .tryCreate, IMAPReplyText.mailboxDoesNotExist(storeName))
            return nil
        }
        return storeName
    }

    func appendReceived(_ bytes: [UInt8]) {
        guard let appender = append?.appender else { return }
        do {
            try appender.write(bytes)
        } catch {
            rejectAppend(append?.tag ?? "*", .no, error.imapResponseCode.map(ResponseCode.other), error.description)
        }
    }

    func appendEnded(tag: String) {
        guard commitPendingAppend(), let state = append else { return }
        append = nil
        let code = uidValidity(of: state.mailbox).map {
            ResponseCode.appendUID(uidValidity: $0, uids: SequenceSet.compact(state.uids))
        }
        finish(tag, .ok, code, text: IMAPReplyText.appendCompleted)
    }

    /// Saves the message streamed so far; false (after answering NO) when that failed.
    private func commitPendingAppend() -> Bool {
        guard let appender = append?.appender else { return append != nil }
        append?.appender = nil
        do {
            let uid = try appender.commit()
            append?.uids.append(uid)
            return true
        } catch {
            rejectAppend(append?.tag ?? "*", .no, error.imapResponseCode.map(ResponseCode.other), error.description)
            return false
        }
    }

    /// Drops the whole command: messages not yet committed are discarded, the parser skips the rest.
    private func rejectAppend(_ tag: String, _ status: IMAPStatus, _ code: ResponseCode?, _ text: String) {
        append?.appender?.abort()
        append = nil
        parser.rejectAppend()
        finish(tag, status, code, text: text)
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
