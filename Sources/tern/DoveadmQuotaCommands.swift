import TernMailbox
import TernServer

/// `doveadm quota get|recalc`, with the quota plugin's settings of the doveadm protocol.
extension DoveadmMailCommand {
    /// `quota get`: one row per resource of the quota root, STORAGE in kilobytes (rounded up), `-` for an
    /// unlimited one, `%` of the limit.
    static func quotaGetBody(global: DoveadmGlobalOptions) -> Body {
        { mail, output in
            let printer = global.printer(default: .table, output: output)
            printer.header([
                .init("Quota name"), .init("Type"), .init("Value", rightJustify: true),
                .init("Limit", rightJustify: true), .init("%", rightJustify: true),
            ])
            defer { printer.flush() }
            guard let quota = quota(mail, global) else { return 0 }
            let usage: QuotaAmount
            do throws(MailboxError) {
                usage = try quota.usage()
            } catch {
                return userError(mail, output, DoveadmTool.tempFail, "Failed to get quota resource STORAGE: \(error)")
            }
            let limits = quota.settings.limits
            let rows = [
                ("STORAGE", (usage.bytes + 1023) / 1024, (limits.bytes + 1023) / 1024),
                ("MESSAGE", usage.messages, limits.messages),
            ]
            for (type, value, limit) in rows {
                printer.print(quota.settings.name)
                printer.print(type)
                printer.print(String(value))
                printer.print(limit > 0 ? String(limit) : "-")
                printer.print(limit > 0 ? String(value * 100 / limit) : "0")
            }
            return 0
        }
    }

    /// `quota recalc`: counts the mail again (the maildir backend rewrites `maildirsize`).
    static func quotaRecalcBody(global: DoveadmGlobalOptions) -> Body {
        { mail, output in
            guard let quota = quota(mail, global) else { return 0 }
            do throws(MailboxError) {
                try quota.recalculate()
                return 0
            } catch {
                return userError(mail, output, DoveadmTool.tempFail, "Recalculating quota failed: \(error)")
            }
        }
    }

    private static func quota(_ mail: DoveadmMail, _ global: DoveadmGlobalOptions) -> MailQuota? {
        guard let settings = global.settings()?.settings(protocol: "doveadm"),
            let quota = settings.quota(user: mail.user, home: mail.home)
        else { return nil }
        return MailQuota(settings: quota, store: mail.store, warningPrograms: settings.quotaWarningPrograms)
    }
}
