import TernMailbox
import TernServer

/// `doveadm fetch|search|expunge|flags`: a search query, then something done to each matching message.
extension DoveadmMailCommand {
    static func fetchBody(_ operands: [String], global: DoveadmGlobalOptions) throws(Refused) -> Body {
        guard operands.count >= 2 else {
            throw refuse(DoveadmTool.usage, "doveadm fetch [-u <user>|-A] [-S <socket_path>] <fields> <search query>")
        }
        var fields: [DoveadmFetchField] = []
        for name in operands[0].split(separator: " ").map(String.init) {
            guard let field = DoveadmFetchField(rawValue: name.lowercased()) else {
                let available = DoveadmFetchField.allCases.map(\.rawValue).joined(separator: " ")
                throw refuse(DoveadmTool.tempFail, "Available fetch fields: \(available)\nFatal: Unknown fetch field: \(name)")
            }
            fields.append(field)
        }
        let query = try parseQuery(Array(operands.dropFirst()))
        return { mail, output in
            let printer = global.printer(default: .pager, output: output)
            printer.header(fields.map { .init($0.rawValue) })
            defer { printer.flush() }
            return forEachMatch(query, mail, output, writable: false) { (mailbox, uids) throws(MailboxError) in
                for uid in uids {
                    guard let index = mailbox.index(of: uid) else { continue }
                    for field in fields {
                        switch try field.value(in: mailbox, index: index, user: mail.user) {
                        case .line(let text): printer.print(text)
                        case .bytes(let bytes): printer.stream(bytes)
                        }
                    }
                }
            }
        }
    }

    /// `search QUERY`: `MAILBOX-GUID UID` lines.
    static func searchBody(_ operands: [String], global: DoveadmGlobalOptions) throws(Refused) -> Body {
        guard !operands.isEmpty else {
            throw refuse(DoveadmTool.usage, "doveadm search [-u <user>|-A] [-S <socket_path>] <search query>")
        }
        let query = try parseQuery(operands)
        return { mail, output in
            let printer = global.printer(default: .flow, output: output)
            printer.header([.init("mailbox-guid", hideTitle: true), .init("uid", hideTitle: true)])
            defer { printer.flush() }
            return forEachMatch(query, mail, output, writable: false) { (mailbox, uids) throws(MailboxError) in
                for uid in uids {
                    printer.print(mailbox.guid)
                    printer.print(String(uid))
                }
            }
        }
    }

    /// `expunge QUERY`; the quota's dict counters and downward warnings follow, as after an IMAP EXPUNGE.
    static func expungeBody(_ operands: [String], global: DoveadmGlobalOptions) throws(Refused) -> Body {
        guard !operands.isEmpty else {
            throw refuse(DoveadmTool.usage, "doveadm expunge [-u <user>|-A] [-S <socket_path>] [-m] [-d] <search query>")
        }
        let query = try parseQuery(operands)
        guard query.namesMailbox else {
            throw refuse(
                DoveadmTool.usage,
                "Fatal: expunge: To avoid accidents, search query must contain MAILBOX in all search branches")
        }
        return { mail, output in
            let quota = userQuota(mail, global)
            return forEachMatch(query, mail, output, writable: true) { (mailbox, uids) throws(MailboxError) in
                let before = quota?.usageBeforeExpunge()
                var sizes: [UInt32: Int] = [:]
                if before != nil { for message in mailbox.messages { sizes[message.uid] = message.size } }
                let removed = try mailbox.expunge(uids: uids)
                let bytes = removed.reduce(0) { $0 + UInt64(sizes[$1] ?? 0) }
                quota?.expunged(mailbox.name, before: before, removing: QuotaAmount(bytes: bytes, messages: UInt64(removed.count)))
            }
        }
    }

    /// `flags add|remove|replace FLAGS QUERY`.
    static func flagsBody(_ name: String, _ operands: [String]) throws(Refused) -> Body {
        guard operands.count >= 2 else {
            throw refuse(DoveadmTool.usage, "doveadm \(name) [-u <user>|-A] [-S <socket_path>] <flags> <search query>")
        }
        let change: FlagChange = name.hasSuffix("add") ? .add : name.hasSuffix("remove") ? .remove : .replace
        let flags: MessageFlags
        let keywords: [String]
        do {
            (flags, keywords) = try DoveadmMail.parseFlags(operands[0])
        } catch {
            throw refuse(DoveadmTool.tempFail, "Fatal: \(error)")
        }
        let query = try parseQuery(Array(operands.dropFirst()))
        return { mail, output in
            forEachMatch(query, mail, output, writable: true) { (mailbox, uids) throws(MailboxError) in
                try mailbox.updateFlags(uids: uids, change, flags: flags, keywords: keywords)
            }
        }
    }

    /// Runs `action` with the matching UIDs of each mailbox the query names; a storage error ends the
    /// command with Dovecot's exit code.
    static func forEachMatch(
        _ query: DoveadmQuery, _ mail: DoveadmMail, _ output: DoveadmOutput, writable: Bool,
        _ action: (any Mailbox, [UInt32]) throws(MailboxError) -> Void
    ) -> Int32 {
        do throws(MailboxError) {
            for mailbox in try mail.mailboxes(for: query, writable: writable) {
                let uids = mail.matches(query, in: mailbox)
                if !uids.isEmpty { try action(mailbox, uids) }
            }
            return 0
        } catch {
            return userError(mail, output, status(of: error), "\(error)")
        }
    }
}
