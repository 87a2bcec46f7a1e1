import TernMailbox

/// RFC 9208 QUOTA as Dovecot 2.3's imap_quota plugin answers it: every quota root (`quota`, `quota2`, ...) for
/// every mailbox it covers, STORAGE in kilobytes (rounded up) and MESSAGE, SETQUOTA refused (quota comes from
/// the configuration).
extension IMAPMailSession {
    /// `* QUOTAROOT mailbox root...` with the roots that cover the mailbox and are not `hidden`, then a QUOTA
    /// line for each root with limits.
    func getQuotaRoot(_ tag: String, _ name: MailboxName) {
        guard let quota = quotaOrUnknown(tag, "GETQUOTAROOT"), let storeName = storeName(tag, name) else { return }
        let roots = quota.roots.filter { !$0.settings.hidden && $0.settings.inNamespace(storeName) }
        guard roots.contains(where: { $0.settings.limits != QuotaAmount() }) else {
            finish(tag, text: IMAPReplyText.noQuota)
            return
        }
        var lines = ""
        for root in roots {
            guard let line = quotaLine(tag, root) else { return }
            lines += line
        }
        output.raw("* QUOTAROOT ")
        output.mailbox(name)
        for root in roots {
            output.space()
            output.astring(Array(root.settings.name.utf8))
        }
        output.crlf()
        output.raw(lines)
        finish(tag, text: IMAPReplyText.getQuotaRootCompleted)
    }

    func getQuota(_ tag: String, _ name: String) {
        guard let quota = quotaOrUnknown(tag, "GETQUOTA") else { return }
        guard let root = quota.root(named: name) else {
            finish(tag, .no, text: IMAPReplyText.noSuchQuotaRoot)
            return
        }
        guard let line = quotaLine(tag, root) else { return }
        output.raw(line)
        finish(tag, text: IMAPReplyText.getQuotaCompleted)
    }

    func setQuota(_ tag: String) {
        guard quotaOrUnknown(tag, "SETQUOTA") != nil else { return }
        finish(tag, .no, text: IMAPReplyText.quotaChangeByAdminOnly)
    }

    /// The quota, when the imap_quota plugin is on; otherwise the command is unknown, as in Dovecot.
    private func quotaOrUnknown(_ tag: String, _ command: String) -> UserQuota? {
        guard configuration.quotaCommands, let quota else {
            let error = IMAPCommandError(tag: tag, command: command, reason: .unknownCommand)
            send(.badCommand(error, preLogin: false, timing: timing()))
            countBadCommand()
            return nil
        }
        return quota
    }

    /// `* QUOTA "root" (STORAGE used limit MESSAGE used limit)` with CRLF, unlimited resources left out (nothing
    /// when both are; the dirsize backend knows no MESSAGE); nil after answering NO when the usage cannot be read.
    private func quotaLine(_ tag: String, _ quota: MailQuota) -> String? {
        var limits = quota.settings.limits
        if quota.settings.backend == .dirsize { limits.messages = 0 }
        if limits == QuotaAmount() { return "" }
        let usage: QuotaAmount
        do {
            usage = try quota.usage()
        } catch {
            fail(tag, error)
            return nil
        }
        var writer = IMAPWriter()
        writer.raw("* QUOTA ")
        writer.astring(Array(quota.settings.name.utf8))
        var resources: [String] = []
        if limits.bytes > 0 { resources.append("STORAGE \((usage.bytes + 1023) / 1024) \((limits.bytes + 1023) / 1024)") }
        if limits.messages > 0 { resources.append("MESSAGE \(usage.messages) \(limits.messages)") }
        writer.raw(" (" + resources.joined(separator: " ") + ")")
        writer.crlf()
        return String(decoding: writer.take(), as: UTF8.self)
    }

    /// Throws `overQuota` when saving `bytes` in `count` messages into `mailbox` would go over quota; returns
    /// each root's usage before (for `quotaSaved`), nil without quota. Another user's mailbox (shared
    /// namespace) counts on the owner's usage (their maildirsize) against the session user's limits, as Dovecot
    /// 2.3.19 checks it; no warning runs for it (nil).
    /// `movingFrom`: the source mailbox of a MOVE (see UserQuota.check).
    func checkQuota(_ mailbox: String, bytes: Int, count: Int, movingFrom source: String? = nil)
        throws(MailboxError) -> [QuotaAmount]?
    {
        guard let quota else { return nil }
        let adding = QuotaAmount(bytes: UInt64(bytes), messages: UInt64(count))
        if let owner = store.sharedStore(mailbox) {
            let roots = quota.roots.map { MailQuota(settings: $0.settings, store: owner) }
            _ = try UserQuota(roots: roots).check(mailbox, adding: adding, movingFrom: source)
            return nil
        }
        return try quota.check(mailbox, adding: adding, movingFrom: source)
    }

    /// Runs the quota warnings the save crossed.
    func quotaSaved(_ mailbox: String, before: [QuotaAmount]?, bytes: Int, count: Int, movingFrom source: String? = nil) {
        guard let quota, let before else { return }
        quota.saved(
            mailbox, before: before, adding: QuotaAmount(bytes: UInt64(bytes), messages: UInt64(count)),
            movingFrom: source)
    }

    /// What `quotaExpunged` needs, read before an expunge: each root's usage and the messages' sizes; nil when
    /// no root needs them (no dict counters, no downward warnings).
    func quotaBeforeExpunge(_ mailbox: any Mailbox) -> (usage: [QuotaAmount], sizes: [UInt32: Int])? {
        guard let usage = quota?.usageBeforeExpunge() else { return nil }
        var sizes: [UInt32: Int] = [:]
        for message in mailbox.messages { sizes[message.uid] = message.size }
        return (usage, sizes)
    }

    /// After an expunge: dict counters drop and downward warnings (`-storage=100%%`) run.
    func quotaExpunged(_ mailbox: String, _ before: (usage: [QuotaAmount], sizes: [UInt32: Int])?, removed: [UInt32]) {
        guard let quota, let before else { return }
        let bytes = removed.reduce(0) { $0 + UInt64(before.sizes[$1] ?? 0) }
        quota.expunged(mailbox, before: before.usage, removing: QuotaAmount(bytes: bytes, messages: UInt64(removed.count)))
    }
}
