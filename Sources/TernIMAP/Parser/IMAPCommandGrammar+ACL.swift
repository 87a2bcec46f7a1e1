/// RFC 4314 ACL commands. Dovecot's imap_acl reads exactly the arguments it needs (astrings) and ignores
/// anything after them; too few are `Missing arguments`.
extension IMAPCommandGrammar {
    static func acl(_ name: String, _ r: inout IMAPArgumentReader) throws -> IMAPCommand? {
        let count: Int
        switch name {
        case "SETACL": count = 3
        case "DELETEACL", "LISTRIGHTS": count = 2
        case "GETACL", "MYRIGHTS": count = 1
        default: return nil
        }
        var arguments: [[UInt8]] = []
        for _ in 0..<count {
            try r.space(orThrow: .missingArguments)
            arguments.append(try r.astring())
        }
        let mailbox = MailboxName(bytes: arguments[0])
        let texts = arguments.dropFirst().map { String(decoding: $0, as: UTF8.self) }
        switch name {
        case "SETACL": return .setACL(mailbox, identifier: texts[0], rights: texts[1])
        case "DELETEACL": return .deleteACL(mailbox, identifier: texts[0])
        case "LISTRIGHTS": return .listRights(mailbox, identifier: texts[0])
        case "GETACL": return .getACL(mailbox)
        default: return .myRights(mailbox)
        }
    }
}
