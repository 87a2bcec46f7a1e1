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
    /// RFC 8514 SAVEDATE comparisons (date only, as for INTERNALDATE), and whether the mailbox has save dates.
    case savedBefore(IMAPDate)
    case savedOn(IMAPDate)
    case savedSince(IMAPDate)
    case saveDateSupported
    /// RFC 5032 WITHIN: INTERNALDATE at least (OLDER) / at most (YOUNGER) this many seconds before now.
    case older(UInt32)
    case younger(UInt32)
    case larger(UInt32)
    case smaller(UInt32)
    case uid(SequenceSet)
    /// RFC 7162 §3.1.6 `MODSEQ [entry-name entry-type] n`: messages with a MODSEQ of at least n. Tern keeps one
    /// MODSEQ per message, so the entry name is ignored as the RFC requires of such servers.
    case modSeq(UInt64)
    /// RFC 8474 §6.
    case emailID(String)
    case threadID(String)
    case sequenceSet(SequenceSet)
    case not(SearchKey)
    case or(SearchKey, SearchKey)
    case and([SearchKey])
}

/// ESEARCH's RETURN options (RFC 4731 §3.1; SAVE from RFC 5182; UPDATE and CONTEXT from RFC 5267). PARTIAL
/// (RFC 5267 §4.4) carries a range and is kept in `SearchCommand.partial`.
public enum SearchReturnOption: String, Sendable, Hashable, CaseIterable {
    case min = "MIN"
    case max = "MAX"
    case all = "ALL"
    case count = "COUNT"
    case save = "SAVE"
    /// RFC 5267 §4.2: keep the search and report later changes to its result (ADDTO / REMOVEFROM).
    case update = "UPDATE"
    /// RFC 5267 §4.1: a hint that changes are wanted soon; changes nothing in the answer.
    case context = "CONTEXT"
}

/// SEARCH / UID SEARCH with their options.
public struct SearchCommand: Sendable, Hashable {
    /// nil: a plain SEARCH answered with `* SEARCH`; otherwise `RETURN (...)` was given, answered with
    /// `* ESEARCH` (an empty list means ALL, RFC 4731 §3.1).
    public var returnOptions: [SearchReturnOption]?
    /// RFC 5267 `PARTIAL low:high`: the positions (1-based, in the list of matches) to return.
    public var partial: ClosedRange<UInt32>?
    /// The CHARSET argument, upper-cased; nil when absent (US-ASCII).
    public var charset: String?
    public var key: SearchKey

    public init(
        returnOptions: [SearchReturnOption]? = nil, partial: ClosedRange<UInt32>? = nil, charset: String? = nil,
        key: SearchKey
    ) {
        self.returnOptions = returnOptions
        self.partial = partial
        self.charset = charset
        self.key = key
    }
}

extension SearchKey {
    /// Whether a sequence set (not `$`, which holds UIDs) appears anywhere in the key.
    var namesSequenceNumbers: Bool {
        switch self {
        case .sequenceSet(let set): return set != .lastSearchResult
        case .not(let inner): return inner.namesSequenceNumbers
        case .or(let a, let b): return a.namesSequenceNumbers || b.namesSequenceNumbers
        case .and(let keys): return keys.contains(where: \.namesSequenceNumbers)
        default: return false
        }
    }
}
