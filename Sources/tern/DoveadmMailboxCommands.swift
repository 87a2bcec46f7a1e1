import TernMailbox
import TernServer

/// `doveadm mailbox list|create|delete|status`.
extension DoveadmMailCommand {
    /// `mailbox list [-s] [MASK...]`: one name a line (flow with the title hidden).
    static func listBody(_ masks: [String], subscribed: Bool, global: DoveadmGlobalOptions) throws(Refused) -> Body {
        { mail, output in
            let printer = global.printer(default: .flow, output: output)
            printer.header([.init("mailbox", hideTitle: true)])
            defer { printer.flush() }
            do throws(MailboxError) {
                let entries = try subscribed ? mail.store.listSubscribed() : mail.store.listMailboxes()
                for entry in entries where masks.isEmpty || masks.contains(where: { mail.matches(entry.name, $0) }) {
                    printer.print(entry.name)
                }
                return 0
            } catch {
                return userError(mail, output, status(of: error), "Failed to list mailboxes: \(error)")
            }
        }
    }

    static func createBody(_ names: [String], subscribe: Bool) throws(Refused) -> Body {
        guard !names.isEmpty else {
            throw refuse(
                DoveadmTool.usage, "doveadm mailbox create [-u <user>|-A] [-S <socket_path>] [-s] [-g <guid>] <mailbox> [...]")
        }
        return { mail, output in
            forEachName(names, mail, output, failure: "Can't create mailbox") { name throws(MailboxError) in
                try mail.store.createMailbox(name)
                if subscribe { try mail.store.subscribe(name) }
            }
        }
    }

    static func deleteBody(_ names: [String]) throws(Refused) -> Body {
        guard !names.isEmpty else {
            throw refuse(
                DoveadmTool.usage,
                "doveadm mailbox delete [-u <user>|-A] [-S <socket_path>] [-e] [-r] [-s] [-Z] <mailbox> [...]")
        }
        return { mail, output in
            forEachName(names, mail, output, failure: "Can't delete mailbox") { name throws(MailboxError) in
                try mail.store.deleteMailbox(name)
            }
        }
    }

    /// Runs `action` on each name; a failure is reported (`Can't create mailbox X: reason`) and the rest go on.
    private static func forEachName(
        _ names: [String], _ mail: DoveadmMail, _ output: DoveadmOutput, failure: String,
        _ action: (String) throws(MailboxError) -> Void
    ) -> Int32 {
        var result: Int32 = 0
        for name in names {
            do throws(MailboxError) {
                try action(name)
            } catch {
                result = userError(mail, output, status(of: error), "\(failure) \(name): \(error)")
            }
        }
        return result
    }

    /// `mailbox status FIELDS MASK...`: the mailbox, then the fields in Dovecot's order.
    static func statusBody(_ operands: [String], global: DoveadmGlobalOptions) throws(Refused) -> Body {
        guard operands.count >= 2 else {
            throw refuse(DoveadmTool.usage, "doveadm mailbox status [-u <user>|-A] [-S <socket_path>] [-t] <fields> <mailbox mask> [...]")
        }
        var wanted = Set<String>()
        for field in operands[0].split(separator: " ").map(String.init) {
            if field == "all" {
                wanted.formUnion(DoveadmMail.statusFields)
            } else if DoveadmMail.statusFields.contains(field) {
                wanted.insert(field)
            } else {
                throw refuse(DoveadmTool.usage, "Fatal: Unknown status field: \(field)")
            }
        }
        let fields = DoveadmMail.statusFields.filter(wanted.contains)
        let masks = Array(operands.dropFirst())
        return { mail, output in
            let printer = global.printer(default: .flow, output: output)
            printer.header([.init("mailbox", hideTitle: true)] + fields.map { .init($0) })
            defer { printer.flush() }
            var result: Int32 = 0
            for mask in masks {
                do throws(MailboxError) {
                    let names = try mail.mailboxNames(matching: [mask])
                    if names.isEmpty && !mask.contains("*") && !mask.contains("%") {
                        throw MailboxError.nonexistent(mask)
                    }
                    for name in names {
                        let mailbox = try mail.store.openMailbox(name, readOnly: true)
                        printer.print(name)
                        for field in fields { printer.print(DoveadmMail.statusValue(field, of: mailbox)) }
                    }
                } catch {
                    result = userError(
                        mail, output, status(of: error), "Mailbox \(mask): Failed to lookup mailbox status: \(error)")
                }
            }
            return result
        }
    }

    /// `force-resync MASK`: each matching mailbox opened for writing, which syncs its uidlist with the
    /// files (new files get UIDs, vanished ones are dropped, new/ moves to cur/).
    static func resyncBody(_ masks: [String]) throws(Refused) -> Body {
        guard !masks.isEmpty else {
            throw refuse(DoveadmTool.usage, "doveadm force-resync [-u <user>|-A] [-S <socket_path>] [-f] <mailbox mask>")
        }
        return { mail, output in
            do throws(MailboxError) {
                for name in try mail.mailboxNames(matching: []) where masks.contains(where: { mail.matches(name, $0) }) {
                    try mail.store.openMailbox(name).sync()
                }
                return 0
            } catch {
                return userError(mail, output, status(of: error), "Force-resync failed: \(error)")
            }
        }
    }
}
