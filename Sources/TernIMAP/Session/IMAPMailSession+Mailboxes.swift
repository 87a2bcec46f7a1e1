import TernMailbox

extension IMAPMailSession {
    func create(_ tag: String, _ name: MailboxName) {
        // RFC 4314 §4: CREATE needs the create right, which a new mailbox takes from its parent's ACL.
        guard let storeName = storeName(tag, name), permitted(.create, tag, storeName, hidden: noPermission(tag))
        else { return }
        do {
            try store.createMailbox(storeName)
        } catch .alreadyExists {
            finish(tag, .no, .alreadyExists, text: IMAPReplyText.mailboxAlreadyExists)
            return
        } catch {
            fail(tag, error)
            return
        }
        if configuration.acl != nil { store.inheritACL(storeName) }
        announceNormalized(name, storeName)
        // RFC 8474 §4: the new mailbox's MAILBOXID in the tagged OK.
        var code: ResponseCode?
        if objectIDs, let mailbox = try? store.openMailbox(storeName, readOnly: false), (try? mailbox.sync()) != nil {
            code = ObjectID.mailboxID(mailbox).map(ResponseCode.mailboxID)
        }
        finish(tag, .ok, code, text: IMAPReplyText.createCompleted)
    }

    func delete(_ tag: String, _ name: MailboxName) {
        guard let storeName = storeName(tag, name),
            permitted(.delete, tag, storeName, hidden: {
                finish(tag, .no, .nonexistent, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            })
        else { return }
        if selected?.mailbox.name == storeName {
            selected = nil
            loadedMessage = nil
        }
        do {
            try store.deleteMailbox(storeName)
        } catch {
            fail(tag, error)
            return
        }
        announceNormalized(name, storeName, [.nonExistent])
        finish(tag, text: IMAPReplyText.deleteCompleted)
    }

    func rename(_ tag: String, _ from: MailboxName, _ to: MailboxName) {
        guard let source = storeName(tag, from), let target = storeName(tag, to),
            permitted(.delete, tag, source, hidden: {
                finish(tag, .no, .nonexistent, text: IMAPReplyText.mailboxDoesNotExist(source))
            }),
            permitted(.create, tag, target, hidden: noPermission(tag))
        else { return }
        do {
            try store.renameMailbox(source, to: target)
        } catch {
            fail(tag, error)
            return
        }
        announceNormalized(to, target)
        finish(tag, text: IMAPReplyText.renameCompleted)
    }

    /// Dovecot refuses to subscribe to a name that is not a mailbox (without a response code).
    func subscribe(_ tag: String, _ name: MailboxName) {
        guard let storeName = storeName(tag, name) else { return }
        guard store.exists(storeName) else {
            finish(tag, .no, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            return
        }
        do {
            try store.subscribe(storeName)
        } catch {
            fail(tag, error)
            return
        }
        finish(tag, text: IMAPReplyText.subscribeCompleted)
    }

    func unsubscribe(_ tag: String, _ name: MailboxName) {
        guard let storeName = storeName(tag, name) else { return }
        do {
            try store.unsubscribe(storeName)
        } catch {
            fail(tag, error)
            return
        }
        finish(tag, text: IMAPReplyText.unsubscribeCompleted)
    }

    /// A create right missing where the parent is not visible either: Dovecot still says Permission denied.
    private func noPermission(_ tag: String) -> () -> Void {
        { self.finish(tag, .no, .noPerm, text: IMAPReplyText.permissionDenied) }
    }

    // MARK: STATUS

    func status(_ tag: String, _ name: MailboxName, _ attributes: [StatusAttribute]) {
        guard let storeName = storeName(tag, name),
            permitted(.read, tag, storeName, hidden: {
                finish(tag, .no, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            })
        else { return }
        do {
            send(.status(name, try statusValues(storeName, attributes)))
        } catch .nonexistent {
            finish(tag, .no, text: IMAPReplyText.mailboxDoesNotExist(storeName))
            return
        } catch {
            fail(tag, error)
            return
        }
        if selected?.mailbox.name == storeName {
            finish(tag, .ok, .clientBug, text: IMAPReplyText.statusSelectedCompleted)
        } else {
            finish(tag, text: IMAPReplyText.statusCompleted)
        }
    }

    /// The values in Dovecot's fixed order, whatever order the client asked in. A second, read-only view of
    /// the mailbox counts \Recent as the files still in new/.
    func statusValues(_ storeName: String, _ attributes: [StatusAttribute]) throws(MailboxError) -> [StatusValue] {
        let mailbox = try store.openMailbox(storeName, readOnly: true)
        let wanted = Set(attributes)
        var values: [StatusValue] = []
        for attribute in StatusAttribute.allCases where wanted.contains(attribute) {
            if attribute == .mailboxID {
                if let id = ObjectID.mailboxID(mailbox) { values.append(StatusValue(attribute, 0, objectID: id)) }
                continue
            }
            values.append(StatusValue(attribute, try statusValue(attribute, mailbox)))
        }
        return values
    }

    private func statusValue(_ attribute: StatusAttribute, _ mailbox: any Mailbox) throws(MailboxError) -> UInt64 {
        switch attribute {
        case .messages: return UInt64(mailbox.messages.count)
        case .recent: return UInt64(mailbox.recentCount)
        case .uidNext: return UInt64(mailbox.nextUID)
        case .uidValidity: return UInt64(mailbox.uidValidity)
        case .unseen: return UInt64(mailbox.messages.count(where: { !$0.flags.contains(.seen) }))
        case .deleted: return UInt64(mailbox.messages.count(where: { $0.flags.contains(.deleted) }))
        case .highestModSeq: return mailbox.highestModSeq
        case .mailboxID: return 0
        case .size:
            var total = 0
            for message in mailbox.messages { total += try mailbox.virtualSize(uid: message.uid) }
            return UInt64(total)
        }
    }

    /// UIDVALIDITY of a mailbox, from the session's view when it is the selected one.
    func uidValidity(of storeName: String) -> UInt32? {
        if let mailbox = selected?.mailbox, mailbox.name == storeName { return mailbox.uidValidity }
        return try? store.openMailbox(storeName, readOnly: true).uidValidity
    }
}
