/// The EHLO keywords Tern's smtpd can offer, in Postfix's announcement order.
public enum EHLOKeyword: String, Sendable, Hashable, CaseIterable {
    case pipelining = "PIPELINING"
    case size = "SIZE"
    case vrfy = "VRFY"
    case etrn = "ETRN"
    case enhancedStatusCodes = "ENHANCEDSTATUSCODES"
    case eightBitMIME = "8BITMIME"
    case dsn = "DSN"
    case smtpUTF8 = "SMTPUTF8"
}

/// smtpd(8) settings the protocol logic needs (postconf(5) names in the comments).
public struct SMTPServerConfiguration: Sendable {
    /// myhostname.
    public var hostname: String
    /// smtpd_banner, already expanded (`mail.example.com ESMTP Tern`).
    public var banner: String
    /// message_size_limit; 0 means no limit.
    public var messageSizeLimit: Int = 10_240_000
    /// smtpd_recipient_limit.
    public var recipientLimit: Int = 1000
    /// smtpd_recipient_overshoot_limit.
    public var recipientOvershootLimit: Int = 1000
    /// disable_vrfy_command.
    public var disableVRFY = false
    /// HELO/EHLO waits for smtpd_helo_restrictions (smtpd_delay_reject = no and a non-empty list).
    public var checksHelo = false
    /// DATA waits for smtpd_data_restrictions (a non-empty list).
    public var checksData = false
    /// smtpd_helo_required.
    public var heloRequired = false
    /// smtpd_soft_error_limit: from this many errors on, each reply is delayed.
    public var softErrorLimit: Int = 10
    /// smtpd_hard_error_limit: at this many errors the session ends with 421.
    public var hardErrorLimit: Int = 20
    /// smtpd_error_sleep_time in seconds.
    public var errorSleepSeconds: Int = 1
    /// smtpd_junk_command_limit (NOOP, VRFY, ETRN, RSET).
    public var junkCommandLimit: Int = 100
    /// line_length_limit.
    public var lineLengthLimit: Int = 2048
    /// strict_rfc821_envelopes.
    public var strictRFC821Envelopes = false
    /// Keywords to announce (smtpd_discard_ehlo_keywords already applied). VRFY is left out when
    /// `disableVRFY` is set; DSN, when absent, also makes RET/ENVID/NOTIFY/ORCPT fail.
    public var ehloKeywords: Set<EHLOKeyword> = Set(EHLOKeyword.allCases)
    /// Extra EHLO lines from the caller, announced after ETRN (and STARTTLS) where Postfix puts them.
    public var extraEHLOLines: [String] = []
    /// smtpd_tls_security_level and friends: whether STARTTLS is offered or required.
    public var tls = SMTPServerTLSPolicy()
    /// smtpd_sasl_auth_enable (and allowed on this connection); otherwise AUTH is "not enabled".
    public var authAvailable = false
    /// broken_sasl_auth_clients: also announce `AUTH=mech...` for clients of the RFC 2554 drafts.
    public var brokenAuthClients = false
    /// smtpd_sasl_response_limit: the longest SASL response line.
    public var saslResponseLimit: Int = 12288
    /// smtpd_forbidden_commands; besides these, a command word that does not start with a letter, or
    /// looks like a message header, makes Postfix hang up.
    public var forbiddenCommands: Set<String> = ["CONNECT", "GET", "POST"]

    public init(hostname: String, banner: String) {
        self.hostname = hostname
        self.banner = banner
    }

    var envelopeOptions: EnvelopeParsingOptions {
        var options = EnvelopeParsingOptions()
        options.dsnEnabled = ehloKeywords.contains(.dsn)
        options.smtpUTF8Enabled = ehloKeywords.contains(.smtpUTF8)
        options.strictRFC821Envelopes = strictRFC821Envelopes
        options.messageSizeLimit = Int64(messageSizeLimit)
        return options
    }

    /// The EHLO reply lines after the host name, in Postfix's order; `authMechanisms` empty: no AUTH.
    func ehloLines(authMechanisms: [String], startTLS: Bool = false) -> [String] {
        var lines: [String] = []
        if ehloKeywords.contains(.pipelining) { lines.append("PIPELINING") }
        if ehloKeywords.contains(.size) { lines.append(messageSizeLimit > 0 ? "SIZE \(messageSizeLimit)" : "SIZE") }
        if ehloKeywords.contains(.vrfy) && !disableVRFY { lines.append("VRFY") }
        if ehloKeywords.contains(.etrn) { lines.append("ETRN") }
        if startTLS { lines.append("STARTTLS") }
        lines.append(contentsOf: extraEHLOLines)
        if !authMechanisms.isEmpty {
            let names = authMechanisms.joined(separator: " ")
            lines.append("AUTH \(names)")
            if brokenAuthClients { lines.append("AUTH=\(names)") }
        }
        for keyword in [EHLOKeyword.enhancedStatusCodes, .eightBitMIME, .dsn, .smtpUTF8]
        where ehloKeywords.contains(keyword) {
            lines.append(keyword.rawValue)
        }
        return lines
    }
}
