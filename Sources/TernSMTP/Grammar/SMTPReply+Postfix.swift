/// The replies Postfix 3.7 smtpd(8) sends, texts verbatim (checked against the real daemon).
/// Replies without an enhanced status code are sent that way by Postfix too.
extension SMTPReply {
    public static let ok = SMTPReply(code: 250, enhancedStatus: "2.0.0", "Ok")
    public static let senderOk = SMTPReply(code: 250, enhancedStatus: "2.1.0", "Ok")
    public static let recipientOk = SMTPReply(code: 250, enhancedStatus: "2.1.5", "Ok")
    public static let startData = SMTPReply(code: 354, "End data with <CR><LF>.<CR><LF>")
    public static let bye = SMTPReply(code: 221, enhancedStatus: "2.0.0", "Bye")
    public static func queued(as id: String) -> SMTPReply {
        SMTPReply(code: 250, enhancedStatus: "2.0.0", "Ok: queued as \(id)")
    }

    public static let heloSyntax = SMTPReply(code: 501, "Syntax: HELO hostname")
    public static let ehloSyntax = SMTPReply(code: 501, "Syntax: EHLO hostname")
    public static let mailSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Syntax: MAIL FROM:<address>")
    public static let rcptSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Syntax: RCPT TO:<address>")
    public static let dataSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Syntax: DATA")
    public static let rsetSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Syntax: RSET")
    public static let vrfySyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Syntax: VRFY address [SMTPUTF8]")
    public static let etrnSyntax = SMTPReply(code: 500, "Syntax: ETRN domain")
    public static let etrnBadParameter = SMTPReply(code: 501, "Error: invalid parameter syntax")
    /// ETRN for a destination in fast_flush_domains (RFC 1985 §5: 250, without an enhanced status, as Postfix).
    public static let etrnQueuingStarted = SMTPReply(code: 250, "Queuing started")
    /// ETRN for a destination not in fast_flush_domains.
    public static func etrnServiceUnavailable(_ domain: String) -> SMTPReply {
        SMTPReply(code: 459, "<\(domain)>: service unavailable")
    }
    public static let startTLSSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Syntax: STARTTLS")
    public static let badSenderSyntax = SMTPReply(code: 501, enhancedStatus: "5.1.7", "Bad sender address syntax")
    public static let badRecipientSyntax = SMTPReply(code: 501, enhancedStatus: "5.1.3", "Bad recipient address syntax")
    public static let badSizeSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Bad message size syntax")
    public static let badRETSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Bad RET parameter syntax")
    public static let badENVIDSyntax = SMTPReply(code: 501, enhancedStatus: "5.5.4", "Bad ENVID parameter syntax")
    public static let badNOTIFYSyntax = SMTPReply(
        code: 501, enhancedStatus: "5.5.4", "Error: Bad NOTIFY parameter syntax")
    public static let badORCPTSyntax = SMTPReply(
        code: 501, enhancedStatus: "5.5.4", "Error: Bad ORCPT parameter syntax")
    public static let dsnDisabled = SMTPReply(code: 501, enhancedStatus: "5.7.1", "DSN support is disabled")
    public static func unsupportedOption(_ option: String) -> SMTPReply {
        SMTPReply(code: 555, enhancedStatus: "5.5.4", "Unsupported option: \(option)")
    }

    public static let sizeExceedsFixedLimit = SMTPReply(
        code: 552, enhancedStatus: "5.3.4", "Message size exceeds fixed limit")
    public static let sizeExceedsFileSystemLimit = SMTPReply(
        code: 552, enhancedStatus: "5.3.4", "Message size exceeds file system imposed limit")
    /// End of DATA after the content went over message_size_limit (cleanup_stat_detail CLEANUP_STAT_SIZE).
    public static let messageFileTooBig = SMTPReply(code: 552, enhancedStatus: "5.3.4", "Error: message file too big")
    public static let tooManyRecipients = SMTPReply(code: 452, enhancedStatus: "4.5.3", "Error: too many recipients")

    public static let sendHeloFirst = SMTPReply(code: 503, enhancedStatus: "5.5.1", "Error: send HELO/EHLO first")
    public static let etrnSendHeloFirst = SMTPReply(code: 503, "Error: send HELO/EHLO first")
    public static let nestedMail = SMTPReply(code: 503, enhancedStatus: "5.5.1", "Error: nested MAIL command")
    public static let needMail = SMTPReply(code: 503, enhancedStatus: "5.5.1", "Error: need MAIL command")
    public static let needRcpt = SMTPReply(code: 503, enhancedStatus: "5.5.1", "Error: need RCPT command")
    public static let noValidRecipients = SMTPReply(code: 554, enhancedStatus: "5.5.1", "Error: no valid recipients")
    public static let etrnInTransaction = SMTPReply(code: 503, "Error: MAIL transaction in progress")
    public static let mailTransactionInProgress = SMTPReply(
        code: 503, enhancedStatus: "5.5.1", "Error: MAIL transaction in progress")

    public static let commandNotRecognized = SMTPReply(
        code: 500, enhancedStatus: "5.5.2", "Error: command not recognized")
    public static let badSyntax = SMTPReply(code: 500, enhancedStatus: "5.5.2", "Error: bad syntax")
    public static let commandNotImplemented = SMTPReply(
        code: 502, enhancedStatus: "5.5.1", "Error: command not implemented")
    /// BDAT while CHUNKING is not offered; Postfix hangs up after it.
    public static let bdatNotImplemented = SMTPReply(
        code: 521, enhancedStatus: "5.5.1", "Error: command not implemented")
    public static let authNotEnabled = SMTPReply(
        code: 503, enhancedStatus: "5.5.1", "Error: authentication not enabled")
    public static let vrfyDisabled = SMTPReply(code: 502, enhancedStatus: "5.5.1", "VRFY command is disabled")
    public static let insufficientAuthorization = SMTPReply(
        code: 550, enhancedStatus: "5.7.0", "Error: insufficient authorization")
    public static func attributeSyntax(_ command: String) -> SMTPReply {
        SMTPReply(code: 501, enhancedStatus: "5.5.4", "Syntax: \(command) attribute=value...")
    }
    /// smtpd_forbidden_commands and header-like lines (`Subject: …`): Postfix hangs up.
    public static let breakRules = SMTPReply(
        code: 221, enhancedStatus: "2.7.0", "Error: I can break rules, too. Goodbye.")
    public static let readyToStartTLS = SMTPReply(code: 220, enhancedStatus: "2.0.0", "Ready to start TLS")

    public static func tooManyErrors(hostname: String) -> SMTPReply {
        SMTPReply(code: 421, enhancedStatus: "4.7.0", "\(hostname) Error: too many errors")
    }
}
