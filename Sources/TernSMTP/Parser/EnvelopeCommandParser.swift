public import TernCore

/// What MAIL/RCPT parsing depends on from the configuration.
public struct EnvelopeParsingOptions: Sendable, Hashable {
    /// DSN offered in EHLO; when not, RET/ENVID/NOTIFY/ORCPT get `501 5.7.1 DSN support is disabled`.
    public var dsnEnabled = true
    /// SMTPUTF8 offered (smtputf8_enable).
    public var smtpUTF8Enabled = true
    /// strict_rfc821_envelopes.
    public var strictRFC821Envelopes = false
    /// message_size_limit (0 = no limit), checked against SIZE=.
    public var messageSizeLimit: Int64 = 10_240_000
    public init() {}
}

/// A parsed RCPT TO.
public struct RecipientCommand: Sendable, Hashable {
    public var address: MailAddress
    /// The address argument as the client sent it (`<user@example.com>`), used in Postfix's reject texts.
    public var originalText: String
    public var parameters: RecipientParameters
}

/// MAIL FROM and RCPT TO argument parsing with Postfix's checks and replies, in Postfix's order
/// (smtpd.c mail_cmd(), rcpt_cmd()). The state checks (HELO required, nested MAIL, need MAIL) come
/// first and live in the state machine.
public enum EnvelopeCommandParser {
    /// `tokens` is the whole tokenized line, verb included.
    public static func parseMail(_ tokens: [SMTPToken], options: EnvelopeParsingOptions = .init())
        -> Result<(sender: MailAddress, parameters: MailParameters), SMTPReply>
    {
        guard tokens.count >= 3, tokens[1].text.lowercased() == "from:" else { return .failure(.mailSyntax) }
        if tokens[2].isMalformed { return .failure(.badSenderSyntax) }
        let params = tokens[3...].map(\.text)
        let utf8 = options.smtpUTF8Enabled && params.contains { $0.uppercased() == "SMTPUTF8" }
        guard
            case .success(let sender) = EnvelopeAddressParser.extract(
                tokens[2].text, allowEmpty: true, allowUTF8: utf8, strict: options.strictRFC821Envelopes)
        else { return .failure(.badSenderSyntax) }

        var parameters = MailParameters()
        for arg in params {
            let upper = arg.uppercased()
            if upper == "BODY=8BITMIME" {
                parameters.body = .eightBitMIME
            } else if upper == "BODY=7BIT" {
                parameters.body = .sevenBit
            } else if upper.hasPrefix("SIZE=") {
                let digits = arg.dropFirst(5)
                guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    return .failure(.badSizeSyntax)
                }
                guard let size = Int64(digits) else { return .failure(.sizeExceedsFileSystemLimit) }
                parameters.size = size
            } else if upper.hasPrefix("AUTH=") {
                parameters.auth = String(arg.dropFirst(5))
            } else if upper == "SMTPUTF8" && options.smtpUTF8Enabled {
                parameters.smtpUTF8 = true
            } else if upper.hasPrefix("RET=") {
                guard options.dsnEnabled else { return .failure(.dsnDisabled) }
                guard parameters.ret == nil, let ret = DSNReturn(rawValue: String(upper.dropFirst(4))) else {
                    return .failure(.badRETSyntax)
                }
                parameters.ret = ret
            } else if upper.hasPrefix("ENVID=") {
                guard options.dsnEnabled else { return .failure(.dsnDisabled) }
                guard parameters.envelopeID == nil, let id = XText.decode(String(arg.dropFirst(6))),
                    id.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
                else { return .failure(.badENVIDSyntax) }
                parameters.envelopeID = id
            } else {
                return .failure(.unsupportedOption(arg))
            }
        }
        if options.messageSizeLimit > 0, let size = parameters.size, size > options.messageSizeLimit {
            return .failure(.sizeExceedsFixedLimit)
        }
        return .success((MailAddress(sender), parameters))
    }

    /// `tokens` is the whole tokenized line, verb included. `smtpUTF8` is the transaction's SMTPUTF8 flag.
    public static func parseRcpt(
        _ tokens: [SMTPToken], smtpUTF8: Bool = false, options: EnvelopeParsingOptions = .init()
    ) -> Result<RecipientCommand, SMTPReply> {
        guard tokens.count >= 3, tokens[1].text.lowercased() == "to:" else { return .failure(.rcptSyntax) }
        if tokens[2].isMalformed { return .failure(.badRecipientSyntax) }
        guard
            case .success(let address) = EnvelopeAddressParser.extract(
                tokens[2].text, allowEmpty: false, allowUTF8: smtpUTF8, strict: options.strictRFC821Envelopes)
        else { return .failure(.badRecipientSyntax) }

        var notify: DSNNotify?
        var orcpt: OriginalRecipient?
        for arg in tokens[3...].map(\.text) {
            let upper = arg.uppercased()
            if upper.hasPrefix("NOTIFY=") {
                guard options.dsnEnabled else { return .failure(.dsnDisabled) }
                guard notify == nil, let mask = DSNNotify(parameter: String(arg.dropFirst(7))) else {
                    return .failure(.badNOTIFYSyntax)
                }
                notify = mask
            } else if upper.hasPrefix("ORCPT=") {
                guard options.dsnEnabled else { return .failure(.dsnDisabled) }
                let value = arg.dropFirst(6)
                guard orcpt == nil, let semicolon = value.firstIndex(of: ";"), semicolon != value.startIndex,
                    let decoded = XText.decode(String(value[value.index(after: semicolon)...]))
                else { return .failure(.badORCPTSyntax) }
                orcpt = OriginalRecipient(addressType: String(value[..<semicolon]), address: decoded)
            } else {
                return .failure(.unsupportedOption(arg))
            }
        }
        let original = tokens[2].text
        let defaultORCPT = OriginalRecipient(addressType: "rfc822", address: stripAngles(original))
        let parameters = RecipientParameters(
            notify: notify, originalRecipient: orcpt ?? defaultORCPT, originalRecipientGiven: orcpt != nil)
        return .success(RecipientCommand(address: MailAddress(address), originalText: original, parameters: parameters))
    }

    static func stripAngles(_ text: String) -> String {
        if text.count >= 2, text.hasPrefix("<"), text.hasSuffix(">") { return String(text.dropFirst().dropLast()) }
        return text
    }
}
