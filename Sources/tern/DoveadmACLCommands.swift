import TernConfig
import TernMailbox
import TernServer

/// `doveadm acl get|rights|set|add|remove|delete` (Dovecot's acl plugin commands) on the user's own
/// mailboxes' dovecot-acl files, with rights by name (`lookup read`) and identifiers as the file writes them
/// (`user=bob`, `owner`, `anyone`, `-user=bob` for the negative half).
extension DoveadmMailCommand {
    static func aclBody(_ name: String, _ operands: [String], global: DoveadmGlobalOptions) throws(Refused) -> Body {
        switch name {
        case "acl get":
            guard operands.count == 1 else { throw refuse(DoveadmTool.usage, "doveadm acl get [-u <user>|-A] [-S <socket_path>] [-m] <mailbox>") }
            return aclGet(operands[0], global: global, globalACL: globalACLPath(global))
        case "acl rights":
            guard operands.count == 1 else { throw refuse(DoveadmTool.usage, "doveadm acl rights [-u <user>|-A] [-S <socket_path>] <mailbox>") }
            return aclRights(operands[0], global: global, globalACL: globalACLPath(global))
        case "acl delete":
            guard operands.count == 2, let (kind, id, negative) = aclIdentifier(operands[1]) else {
                throw refuse(DoveadmTool.usage, "doveadm acl delete [-u <user>|-A] [-S <socket_path>] <mailbox> <id>")
            }
            return aclChange(operands[0]) { $0.update(kind: kind, name: id, negative: negative, .clear) }
        default:
            let verb = String(name.dropFirst(4))
            let usage = "doveadm acl \(verb) [-u <user>|-A] [-S <socket_path>] <mailbox> <id> <right> [<right> ...]"
            guard operands.count >= 3, let (kind, id, negative) = aclIdentifier(operands[1]) else {
                throw refuse(DoveadmTool.usage, usage)
            }
            guard let rights = ACLRights(names: Array(operands.dropFirst(2))) else {
                let bad = operands.dropFirst(2).first { ACLRights(names: [$0]) == nil } ?? ""
                return { mail, output in
                    output.flush()
                    return DoveadmTool.fail(DoveadmTool.usage, "doveadm(\(mail.user)): Fatal: Invalid right '\(bad)'")
                }
            }
            let change: MailboxACL.Change = verb == "add" ? .add(rights) : verb == "remove" ? .remove(rights) : .replace(rights)
            return aclChange(operands[0]) { $0.update(kind: kind, name: id, negative: negative, change) }
        }
    }

    /// `-user=bob` → (user, bob, negative).
    private static func aclIdentifier(_ text: String) -> (MailboxACL.Kind, String, Bool)? {
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parsed = MailboxACL(fileText: "\(body) l\n").entries.first
        return parsed.map { ($0.kind, $0.name, negative) }
    }

    /// The table Dovecot prints: ID, Global (`global` for the entries of the global ACLs), Rights with `-name` for the
    /// negative ones. The owner's defaults are not listed, as in Dovecot.
    /// The global ACL directory or file of `acl = vfile:PATH`.
    private static func globalACLPath(_ global: DoveadmGlobalOptions) -> String? {
        let backend = global.settings()?.settings(protocol: "imap").plugin["acl"] ?? ""
        return backend.split(separator: ":").dropFirst().first.map(String.init)
    }

    private static func aclGet(_ mailbox: String, global: DoveadmGlobalOptions, globalACL: String?) -> Body {
        { mail, output in
            let printer = global.printer(default: .table, output: output)
            printer.header([.init("ID"), .init("Global"), .init("Rights")])
            defer { printer.flush() }
            guard mail.store.exists(mailbox) else {
                return userError(mail, output, DoveadmTool.notFound, "Can't open mailbox \(mailbox): Mailbox doesn't exist: \(mailbox)")
            }
            do throws(MailboxError) {
                for entry in try mail.store.acl(mailbox, global: globalACL).entries {
                    var names = entry.rights?.names(sorted: true) ?? []
                    names += (entry.negative?.names(sorted: true) ?? []).map { "-" + $0 }
                    printer.print(entry.fileIdentifier)
                    printer.print(entry.global ? "global" : "")
                    printer.print(names.joined(separator: " "))
                }
                return 0
            } catch {
                return userError(mail, output, status(of: error), "\(error)")
            }
        }
    }

    private static func aclRights(_ mailbox: String, global: DoveadmGlobalOptions, globalACL: String?) -> Body {
        { mail, output in
            let printer = global.printer(default: .table, output: output)
            printer.header([.init("Rights")])
            defer { printer.flush() }
            guard mail.store.exists(mailbox) else {
                return userError(mail, output, DoveadmTool.notFound, "Can't open mailbox \(mailbox): Mailbox doesn't exist: \(mailbox)")
            }
            let rights = mail.store.myRights(mailbox, user: mail.user, global: globalACL)
            printer.print(rights.names(sorted: false).joined(separator: " "))
            return 0
        }
    }

    private static func aclChange(_ mailbox: String, _ change: @escaping (inout MailboxACL) -> Void) -> Body {
        { mail, output in
            do throws(MailboxError) {
                try mail.store.updateACL(mailbox, change)
                return 0
            } catch .nonexistent {
                return userError(mail, output, DoveadmTool.notFound, "Can't open mailbox \(mailbox): Mailbox doesn't exist: \(mailbox)")
            } catch {
                return userError(mail, output, status(of: error), "\(error)")
            }
        }
    }
}
