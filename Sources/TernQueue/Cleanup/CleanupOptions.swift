public import TernMIME

/// The main.cf settings cleanup applies (postconf(5)); the caller resolves them and passes plain values.
public struct CleanupOptions: Sendable, Equatable {
    /// myhostname, used in generated Message-Id values.
    public var myHostname: String
    /// True when the client matches local_header_rewrite_clients (or always_add_missing_headers = yes):
    /// only then are missing Message-Id/Date/From headers added, as Postfix 2.6 and later do.
    public var addMissingHeaders: Bool
    /// header_size_limit: a longer logical header is cut there, the excess discarded.
    public var headerSizeLimit: Int
    /// hopcount_limit: this many Received: headers make the message fail (554 5.4.0 too many hops).
    public var hopcountLimit: Int
    /// empty_address_recipient: what a null sender becomes in a generated From: header.
    public var emptyAddress: String
    /// Time zone for the generated Date: header.
    public var zone: MailTimeZone
    /// $myorigin for bare names in address headers (`To: bob` becomes `To: bob@origin`), as Postfix does for
    /// local_header_rewrite_clients and local submissions; nil leaves headers as they are.
    public var qualifyDomain: String?
    /// Keep the finished headers in `Cleanup.heldHeaders` instead of writing them, so the caller can rewrite
    /// their addresses (which needs table lookups) before they go to the queue file.
    public var holdHeaders: Bool

    public init(
        myHostname: String, addMissingHeaders: Bool = true, headerSizeLimit: Int = 102_400, hopcountLimit: Int = 50,
        emptyAddress: String = "MAILER-DAEMON", zone: MailTimeZone = .local, qualifyDomain: String? = nil,
        holdHeaders: Bool = false
    ) {
        self.myHostname = myHostname
        self.addMissingHeaders = addMissingHeaders
        self.headerSizeLimit = headerSizeLimit
        self.hopcountLimit = hopcountLimit
        self.emptyAddress = emptyAddress
        self.zone = zone
        self.qualifyDomain = qualifyDomain
        self.holdHeaders = holdHeaders
    }
}

/// A reason cleanup refuses a message; the caller turns it into the SMTP reply Postfix sends.
public enum CleanupError: Error, Sendable, Equatable {
    /// More Received: headers than hopcount_limit: `554 5.4.0 Error: too many hops`.
    case tooManyHops(count: Int)
    /// A content check said REJECT; the reason starts with its enhanced status code (`5.7.1 text`):
    /// `550 5.7.1 text`, or `451 4.x.x text` for a 4.x.x code (CLEANUP_STAT_CONT / CLEANUP_STAT_DEFER).
    case contentRejected(reason: String)
    /// A content check table could not be searched: `451 4.3.0 Error: queue file write error`.
    case lookupFailed

    /// The reply smtpd sends for it (cleanup_stat_detail).
    public var reply: String {
        switch self {
        case .tooManyHops: return "554 5.4.0 Error: too many hops"
        case .contentRejected(let reason): return "\(reason.first == "4" ? 451 : 550) \(reason)"
        case .lookupFailed: return "451 4.3.0 Error: queue file write error"
        }
    }
}
