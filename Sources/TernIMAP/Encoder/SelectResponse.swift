/// What SELECT / EXAMINE report about the mailbox (RFC 3501 §6.3.1, §6.3.2), written in Dovecot 2.3's order
/// and wording:
///
///     * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
///     * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
///     * 2 EXISTS
///     * 0 RECENT
///     * OK [UNSEEN 2] First unseen.
///     * OK [UIDVALIDITY 1796056504] UIDs valid
///     * OK [UIDNEXT 3] Predicted next UID
///     * OK [HIGHESTMODSEQ 13] Highest
///     a OK [READ-WRITE] Select completed (0.001 + 0.000 secs).
public struct SelectResponse: Sendable, Hashable {
    /// System flags followed by the mailbox's keywords.
    public var flags: [Flag]
    /// Flags the client may store (`\*` included when new keywords are allowed); ignored when read-only,
    /// which is answered `[PERMANENTFLAGS ()] Read-only mailbox.`.
    public var permanentFlags: [Flag]
    public var exists: UInt32
    public var recent: UInt32
    /// Sequence number of the first unseen message, if any.
    public var firstUnseen: UInt32?
    public var uidValidity: UInt32
    public var uidNext: UInt32
    /// Sent once CONDSTORE is enabled (or SELECT asked for it).
    public var highestModSeq: UInt64?
    /// EXAMINE, or a mailbox the user may not change.
    public var readOnly: Bool
    /// IMAP4rev2 (RFC 9051 §6.3.2): the mailbox's `* LIST` line, and neither RECENT nor `OK [UNSEEN]`.
    public var list: MailboxListItem?
    /// OBJECTID's `* OK [MAILBOXID (id)] Ok` (RFC 8474 §4), last before the tagged reply.
    public var mailboxID: String?

    public init(
        flags: [Flag] = Flag.system, permanentFlags: [Flag] = Flag.system + [.wildcard], exists: UInt32, recent: UInt32,
        firstUnseen: UInt32? = nil, uidValidity: UInt32, uidNext: UInt32, highestModSeq: UInt64? = nil,
        readOnly: Bool = false, list: MailboxListItem? = nil
    ) {
        self.list = list
        self.flags = flags
        self.permanentFlags = permanentFlags
        self.exists = exists
        self.recent = recent
        self.firstUnseen = firstUnseen
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.highestModSeq = highestModSeq
        self.readOnly = readOnly
    }

    /// The untagged responses, then the tagged completion (`Select completed` or, for EXAMINE, `Examine completed`).
    /// `replacedMailbox`: another mailbox was selected before, so `* OK [CLOSED] Previous mailbox closed.` comes first.
    public func responses(tag: String, examine: Bool, replacedMailbox: Bool, timing: IMAPTiming? = .fast)
        -> [IMAPResponse]
    {
        var out: [IMAPResponse] = []
        if replacedMailbox { out.append(.untagged(.ok, .closed, IMAPReplyText.previousMailboxClosed)) }
        out.append(.flags(flags))
        if readOnly {
            out.append(.untagged(.ok, .permanentFlags([]), IMAPReplyText.readOnlyMailbox))
        } else {
            out.append(.untagged(.ok, .permanentFlags(permanentFlags), IMAPReplyText.flagsPermitted))
        }
        out.append(.exists(exists))
        if let list {
            out.append(.list(list))
        } else {
            out.append(.recent(recent))
        }
        if list == nil, let firstUnseen { out.append(.untagged(.ok, .unseen(firstUnseen), IMAPReplyText.firstUnseen)) }
        out.append(.untagged(.ok, .uidValidity(uidValidity), IMAPReplyText.uidsValid))
        out.append(.untagged(.ok, .uidNext(uidNext), IMAPReplyText.predictedNextUID))
        if let highestModSeq { out.append(.untagged(.ok, .highestModSeq(highestModSeq), IMAPReplyText.highest)) }
        if let mailboxID { out.append(.untagged(.ok, .mailboxID(mailboxID), "Ok")) }
        let text = examine ? IMAPReplyText.examineCompleted : IMAPReplyText.selectCompleted
        out.append(.completed(tag, .ok, readOnly ? .readOnly : .readWrite, text, timing: timing))
        return out
    }
}
