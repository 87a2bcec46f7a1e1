/// The `Received:` header smtpd prepends (RFC 5321 §4.4), in Postfix's layout (smtpd.c):
///
///     Received: from HELO (NAME [ADDR])
///     \tby MYHOSTNAME (MAIL_NAME) with PROTOCOL id QUEUEID
///     \tfor <RCPT>; DATE                      (exactly one recipient)
///
/// or, with several recipients (so Bcc recipients stay hidden),
///
///     \tby MYHOSTNAME (MAIL_NAME) with PROTOCOL id QUEUEID;
///     \tDATE
///
/// Lines are joined with LF, without a final line end. `mailName` is `mail_name` (`Tern`).
public struct ReceivedHeader: Sendable, Equatable {
    public var heloName: String?
    public var clientName: String
    /// The client address as text; IPv6 addresses get Postfix's `IPv6:` prefix.
    public var clientAddress: String
    public var myHostname: String
    public var mailName: String
    /// ESMTP, SMTP, ESMTPS, ESMTPA, ESMTPSA, LMTP...
    public var protocolName: String
    public var queueID: String
    /// The only recipient, or nil when there are several.
    public var recipient: String?
    public var epochSeconds: Int
    public var zone: MailTimeZone
    /// Optional comment lines placed after the `from` line, e.g. `(using TLSv1.3 with cipher ...)` or
    /// `(Authenticated sender: user)` (smtpd_tls_received_header, smtpd_sasl_authenticated_header).
    public var comments: [String]

    public init(
        heloName: String?, clientName: String, clientAddress: String, myHostname: String, mailName: String = "Tern",
        protocolName: String, queueID: String, recipient: String?, epochSeconds: Int, zone: MailTimeZone = .local,
        comments: [String] = []
    ) {
        self.heloName = heloName
        self.clientName = clientName
        self.clientAddress = clientAddress
        self.myHostname = myHostname
        self.mailName = mailName
        self.protocolName = protocolName
        self.queueID = queueID
        self.recipient = recipient
        self.epochSeconds = epochSeconds
        self.zone = zone
        self.comments = comments
    }

    /// The address as it appears between brackets: `IPv6:` is prefixed to IPv6 literals (RFC 5321 §4.1.3).
    public static func literal(_ address: String) -> String {
        address.contains(":") && !address.hasPrefix("IPv6:") ? "IPv6:" + address : address
    }

    public var lines: [String] {
        var out = ["Received: from \(heloName ?? clientName) (\(clientName) [\(Self.literal(clientAddress))])"]
        for comment in comments { out.append("\t(\(comment))") }
        let date = MailDate.rfc5322(epochSeconds: epochSeconds, zone: zone)
        if let recipient {
            out.append("\tby \(myHostname) (\(mailName)) with \(protocolName) id \(queueID)")
            out.append("\tfor <\(AddressQuoting.quoteLocalPart(recipient))>; \(date)")
        } else {
            out.append("\tby \(myHostname) (\(mailName)) with \(protocolName) id \(queueID);")
            out.append("\t\(date)")
        }
        return out
    }

    /// The header as one string, lines joined by LF, no trailing line end.
    public var text: String { lines.joined(separator: "\n") }

    /// The header Postfix's pickup writes for locally submitted mail:
    /// `Received: by MYHOSTNAME (MAIL_NAME, from userid UID)\n\tid QUEUEID; DATE`.
    public static func local(
        myHostname: String, mailName: String = "Tern", uid: Int, queueID: String, epochSeconds: Int,
        zone: MailTimeZone = .local
    ) -> String {
        "Received: by \(myHostname) (\(mailName), from userid \(uid))\n\tid \(queueID); "
            + MailDate.rfc5322(epochSeconds: epochSeconds, zone: zone)
    }
}
