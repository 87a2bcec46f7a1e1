public import TernCore

extension DSNNotify {
    /// Parses `NEVER` or a comma list of SUCCESS, FAILURE, DELAY (case-insensitive); NEVER must stand alone
    /// (Postfix dsn_notify_mask()).
    public init?(parameter: String) {
        var mask = DSNNotify()
        for word in parameter.split(separator: ",", omittingEmptySubsequences: false) {
            switch word.uppercased() {
            case "NEVER": mask.insert(.never)
            case "SUCCESS": mask.insert(.success)
            case "FAILURE": mask.insert(.failure)
            case "DELAY": mask.insert(.delay)
            default: return nil
            }
        }
        if mask.isEmpty || (mask.contains(.never) && mask != .never) { return nil }
        self = mask
    }
}

/// RFC 3461 §4.2 `ORCPT=addr-type;xtext`, decoded.
public struct OriginalRecipient: Sendable, Hashable {
    public var addressType: String
    public var address: String
    public init(addressType: String, address: String) {
        self.addressType = addressType
        self.address = address
    }
}

/// The MAIL FROM parameters Postfix accepts (RFC 1870, 6152, 3461, 6531, 4954).
public struct MailParameters: Sendable, Hashable {
    public var size: Int64?
    public var body: BodyType?
    public var smtpUTF8 = false
    public var ret: DSNReturn?
    /// ENVID, xtext-decoded.
    public var envelopeID: String?
    /// The raw AUTH= value (RFC 4954 §5), kept for the SASL layer.
    public var auth: String?
    public init() {}
}

/// The RCPT TO parameters (RFC 3461).
public struct RecipientParameters: Sendable, Hashable {
    /// nil when the client sent no NOTIFY (RFC 3461 §5.2.1: it must then not be invented).
    public var notify: DSNNotify?
    /// The client's ORCPT, or Postfix's default `rfc822;<address as given>`.
    public var originalRecipient: OriginalRecipient
    /// Whether the client sent ORCPT itself.
    public var originalRecipientGiven: Bool
    public init(notify: DSNNotify? = nil, originalRecipient: OriginalRecipient, originalRecipientGiven: Bool) {
        self.notify = notify
        self.originalRecipient = originalRecipient
        self.originalRecipientGiven = originalRecipientGiven
    }
}

/// One accepted recipient with its DSN parameters.
public struct EnvelopeRecipient: Sendable, Hashable {
    public var address: MailAddress
    public var parameters: RecipientParameters
    public init(address: MailAddress, parameters: RecipientParameters) {
        self.address = address
        self.parameters = parameters
    }
}

/// A MAIL transaction as accepted so far: sender, its parameters and the accepted recipients.
public struct MailTransaction: Sendable, Hashable {
    public var sender: MailAddress
    public var parameters: MailParameters
    public var recipients: [EnvelopeRecipient]
    public init(sender: MailAddress, parameters: MailParameters, recipients: [EnvelopeRecipient] = []) {
        self.sender = sender
        self.parameters = parameters
        self.recipients = recipients
    }
}
