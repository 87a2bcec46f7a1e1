/// One of cleanup's content check tables (header_checks(5)): its parameter name, used in Postfix's warnings
/// (`unknown command in header_checks map: ...`), and a lookup that needs no suspension (regexp:, pcre:,
/// and the other tables TernMaps can search at once). A lookup error defers the message.
public struct ContentCheckTable: Sendable {
    public let parameter: String
    public let lookup: @Sendable (String) throws -> String?

    public init(parameter: String, lookup: @escaping @Sendable (String) throws -> String?) {
        self.parameter = parameter
        self.lookup = lookup
    }
}

/// header_checks, mime_header_checks, nested_header_checks, body_checks and body_checks_size_limit.
public struct ContentChecks: Sendable {
    public var header: ContentCheckTable?
    public var mimeHeader: ContentCheckTable?
    public var nestedHeader: ContentCheckTable?
    public var body: ContentCheckTable?
    /// body_checks_size_limit: body lines that start beyond this many body bytes are not checked; 0 checks all.
    public var bodySizeLimit: Int

    public init(
        header: ContentCheckTable? = nil, mimeHeader: ContentCheckTable? = nil,
        nestedHeader: ContentCheckTable? = nil, body: ContentCheckTable? = nil, bodySizeLimit: Int = 51_200
    ) {
        self.header = header
        self.mimeHeader = mimeHeader
        self.nestedHeader = nestedHeader
        self.body = body
        self.bodySizeLimit = bodySizeLimit
    }

    public var isEmpty: Bool { header == nil && mimeHeader == nil && nestedHeader == nil && body == nil }

    /// The table for a header of this class.
    func table(for headerClass: ContentHeaderClass) -> ContentCheckTable? {
        switch headerClass {
        case .primary: return header
        case .mime: return mimeHeader
        case .nested: return nestedHeader
        }
    }
}

/// Which header table applies (MIMEHeaderClass without importing TernMIME into callers).
public enum ContentHeaderClass: Sendable, Equatable {
    case primary, mime, nested
}

/// The message's origin for cleanup's action log lines (`from host[addr]; from=<s> to=<r> proto=ESMTP
/// helo=<h>`): smtpd passes the client, pickup passes `local` and no protocol or HELO name.
public struct ContentCheckOrigin: Sendable, Equatable {
    public var client: String
    public var sender: String
    /// The last envelope recipient (Postfix's state->recip), nil when there is none.
    public var recipient: String?
    public var protocolName: String?
    public var helo: String?

    public init(client: String, sender: String, recipient: String?, protocolName: String? = nil, helo: String? = nil) {
        self.client = client
        self.sender = sender
        self.recipient = recipient
        self.protocolName = protocolName
        self.helo = helo
    }
}

/// A line for the mail log (program `cleanup`), with Postfix's severity.
public struct CleanupLogLine: Sendable, Equatable {
    public var warning: Bool
    public var text: String
}
