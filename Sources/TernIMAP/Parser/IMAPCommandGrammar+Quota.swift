/// RFC 9208 QUOTA's commands as Dovecot 2.3's imap_quota reads them: one argument each for GETQUOTAROOT and
/// GETQUOTA (anything after it is ignored), a root and a list for SETQUOTA.
extension IMAPCommandGrammar {
    static func quota(_ name: String, _ r: inout IMAPArgumentReader) throws -> IMAPCommand {
        try r.space(orThrow: .missingArguments)
        switch name {
        case "GETQUOTAROOT":
            return .getQuotaRoot(try r.mailbox())
        case "GETQUOTA":
            return .getQuota(try r.astringText())
        default:
            let root = try r.astringText()
            try r.space(orThrow: .missingArguments)
            _ = try r.parenthesized { try $0.astring() }
            return .setQuota(root)
        }
    }
}
