import TernMailbox
import TernServer

/// `doveadm quota get|recalc`, with the quota plugin's settings of the doveadm protocol.
extension DoveadmMailCommand {
    /// `quota get`: one row per resource of each quota root (hidden ones too), STORAGE in kilobytes (rounded
    /// up), `-` for an unlimited one, `%` of the limit; the dirsize backend has no MESSAGE row.
    static func quotaGetBody(global: DoveadmGlobalOptions) -> Body {
        { mail, output in
            let printer = global.printer(default: .table, output: output)
            printer.header([
                .init("Quota name"), .init("Type"), .init("Value", rightJustify: true),
                .init("Limit", rightJustify: true), .init("%", rightJustify: true),
            ])
            defer { printer.flush() }
            for root in userQuota(mail, global)?.roots ?? [] {
                let usage: QuotaAmount
                do throws(MailboxError) {
                    usage = try root.usage()
                } catch {
                    return userError(mail, output, DoveadmTool.tempFail, "Failed to get quota resource STORAGE: \(error)")
                }
                let limits = root.settings.limits
                var rows = [("STORAGE", (usage.bytes + 1023) / 1024, (limits.bytes + 1023) / 1024)]
                if root.settings.backend != .dirsize { rows.append(("MESSAGE", usage.messages, limits.messages)) }
                for (type, value, limit) in rows {
                    printer.print(root.settings.name)
                    printer.print(type)
                    printer.print(String(value))
                    printer.print(limit > 0 ? String(limit) : "-")
                    printer.print(limit > 0 ? String(value * 100 / limit) : "0")
                }
            }
            return 0
        }
    }

    /// `quota recalc`: counts the mail again (the maildir backend rewrites `maildirsize`, dict its counters).
    static func quotaRecalcBody(global: DoveadmGlobalOptions) -> Body {
        { mail, output in
            do throws(MailboxError) {
                for root in userQuota(mail, global)?.roots ?? [] { try root.recalculate() }
                return 0
            } catch {
                return userError(mail, output, DoveadmTool.tempFail, "Recalculating quota failed: \(error)")
            }
        }
    }

    /// The user's quota roots, the userdb's settings over doveadm's; nil without quota.
    static func userQuota(_ mail: DoveadmMail, _ global: DoveadmGlobalOptions) -> UserQuota? {
        guard let settings = global.settings()?.settings(protocol: "doveadm"),
            let roots = try? settings.quota(user: mail.user, home: mail.home, userdb: mail.userdbSettings)
        else { return nil }
        return UserQuota(settings: roots, store: mail.store, warningPrograms: settings.quotaWarningPrograms)
    }
}
