/// A SEARCH criterion (RFC 3501 §6.4.4). A list of keys ANDs them; `.and` is what a parenthesised list becomes.
public indirect enum SearchKey: Sendable, Hashable {
    case all
    case answered, deleted, draft, flagged, new, old, recent, seen
    case unanswered, undeleted, undraft, unflagged, unseen
    case keyword(String)
    case unkeyword(String)
    case bcc(String)
    case body(String)
    case cc(String)
    case from(String)
    case subject(String)
    case text(String)
    case to(String)
    case header(String, String)
    /// INTERNALDATE comparisons (date only, time and zone ignored).
    case before(IMAPDate)
    case on(IMAPDate)
    case since(IMAPDate)
    /// Date: header comparisons.
    case sentBefore(IMAPDate)
    case sentOn(IMAPDate)
    case sentSince(IMAPDate)
    case larger(UInt32)
    case smaller(UInt32)
    case uid(SequenceSet)
    /// RFC 7162 §3.1.6 `MODSEQ [entry-name entry-type] n`: messages with a MODSEQ of at least n. Tern keeps one
    /// MODSEQ per message, so the entry name is ignored as the RFC requires of such servers.
    case modSeq(UInt64)
    case sequenceSet(SequenceSet)
    case not(SearchKey)
    case or(SearchKey, SearchKey)
    case and([SearchKey])
}

/// ESEARCH's RETURN options (RFC 4731 §3.1; SAVE from RFC 5182).
public enum SearchReturnOption: String, Sendable, Hashable, CaseIterable {
    case min = "MIN"
    case max = "MAX"
    case all = "ALL"
    case count = "COUNT"
    case save = "SAVE"
}

/// SEARCH / UID SEARCH with their options.
public struct SearchCommand: Sendable, Hashable {
    /// nil: a plain SEARCH answered with `* SEARCH`; otherwise `RETURN (...)` was given, answered with
    /// `* ESEARCH` (an empty list means ALL, RFC 4731 §3.1).
    public var returnOptions: [SearchReturnOption]?
    /// The CHARSET argument, upper-cased; nil when absent (US-ASCII).
    public var charset: String?
    public var key: SearchKey

    public init(returnOptions: [SearchReturnOption]? = nil, charset: String? = nil, key: SearchKey) {
        self.returnOptions = returnOptions
        self.charset = charset
        self.key = key
    }
}
