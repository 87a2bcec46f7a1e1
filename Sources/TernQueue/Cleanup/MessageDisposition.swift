/// What becomes of an accepted message besides normal delivery, decided while it is received: Postfix's
/// cleanup flags and records for HOLD, DISCARD, REDIRECT and FILTER (header_checks(5), access(5)). Content
/// checks set it here; the smtpd restrictions (access map actions) can set the same fields. Whoever commits
/// the queue file carries it out:
///
/// - `discard`: the file is removed instead of committed, the client still gets `250 ... queued as ID`;
/// - `hold`: the committed file goes to hold/ (as `postsuper -h` does) instead of to the queue manager;
/// - `redirect`: stored as the `redirect` extracted record; the queue manager delivers every recipient to
///   that address instead (Postfix's REC_TYPE_RDR);
/// - `filter`: stored as the `filter` extracted record (`transport:destination`, Postfix's REC_TYPE_FILT);
///   the queue manager uses it as the transport of every recipient, like content_filter;
/// - `bcc`: header_checks BCC addresses; since the recipient list is written before the content, they get
///   a copy of the committed message under its own queue ID (NOTIFY=NEVER), queued before the reply.
///
/// DISCARD wins over everything (a discarded message is not held either, as in Postfix); the last REDIRECT
/// and FILTER win.
public struct MessageDisposition: Sendable, Equatable {
    public var hold = false
    public var discard = false
    public var redirect: String?
    public var filter: String?
    public var bcc: [String]

    public init(
        hold: Bool = false, discard: Bool = false, redirect: String? = nil, filter: String? = nil, bcc: [String] = []
    ) {
        self.hold = hold
        self.discard = discard
        self.redirect = redirect
        self.filter = filter
        self.bcc = bcc
    }

    /// Nothing special: deliver as usual.
    public var isNormal: Bool { self == MessageDisposition() }

    /// Combines a later decision into this one (smtpd's restrictions first, then cleanup's checks).
    public mutating func merge(_ other: MessageDisposition) {
        if other.discard { discard = true }
        if other.hold && !discard { hold = true }
        if let redirect = other.redirect { self.redirect = redirect }
        if let filter = other.filter { self.filter = filter }
        bcc += other.bcc
    }
}
