import TernMailbox

/// RFC 9208 QUOTA as Dovecot 2.3's imap_quota plugin answers it: one quota root for every mailbox, STORAGE in
/// kilobytes (rounded up) and MESSAGE, SETQUOTA refused (quota comes from the configuration).
extension IMAPMailSession {
    func getQuotaRoot(_ tag: String, _ name: MailboxName) {
        guard let quota = quotaOrUnknown(tag, "GETQUOTAROOT"), storeName(tag, name) != nil else { return }
        guard quota.settings.limits != QuotaAmount() else {
            finish(tag, text: IMAPReplyText.noQuota)
            return
        }
        guard let line = quotaLine(tag, quota) else { return }
        output.raw("* QUOTAROOT ")
        output.mailbox(name)
        output.space()
        output.astring(Array(quota.settings.name.utf8))
        output.crlf()
        output.raw(line)
        finish(tag, text: IMAPReplyText.getQuotaRootCompleted)
    }

    func getQuota(_ tag: String, _ root: String) {
        guard let quota = quotaOrUnknown(tag, "GETQUOTA") else { return }
        guard root == quota.settings.name else {
            finish(tag, .no, text: IMAPReplyText.noSuchQuotaRoot)
            return
        }
        guard let line = quotaLine(tag, quota) else { return }
        output.raw(line)
        finish(tag, text: IMAPReplyText.getQuotaCompleted)
    }

    func setQuota(_ tag: String) {
        guard quotaOrUnknown(tag, "SETQUOTA") != nil else { return }
        finish(tag, .no, text: IMAPReplyText.quotaChangeByAdminOnly)
    }

    /// The quota, when the imap_quota plugin is on; otherwise the command is unknown, as in Dovecot.
    private func quotaOrUnknown(_ tag: String, _ command: String) -> MailQuota? {
        guard configuration.quotaCommands, let quota else {
            let error = IMAPCommandError(tag: tag, command: command, reason: .unknownCommand)
            send(.badCommand(error, preLogin: false, timing: timing()))
            countBadCommand()
            return nil
        }
        return quota
    }

    /// `* QUOTA "root" (STORAGE used limit MESSAGE used limit)` with CRLF, unlimited resources left out (nothing
    /// when both are); nil after answering NO when the usage cannot be read.
    private func quotaLine(_ tag: String, _ quota: MailQuota) -> String? {
        let limits = quota.settings.limits
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
    /// the usage before (for `quotaSaved`), nil without quota.
    func checkQuota(_ mailbox: String, bytes: Int, count: Int) throws(MailboxError) -> QuotaAmount? {
        guard let quota else { return nil }
        return try quota.check(mailbox, adding: QuotaAmount(bytes: UInt64(bytes), messages: UInt64(count)))
    }

    /// Runs the quota warning the save crossed.
    func quotaSaved(before: QuotaAmount?, bytes: Int, count: Int) {
        guard let quota, let before else { return }
        quota.warn(
            before: before,
            after: QuotaAmount(bytes: before.bytes + UInt64(bytes), messages: before.messages + UInt64(count)))
    }
}
