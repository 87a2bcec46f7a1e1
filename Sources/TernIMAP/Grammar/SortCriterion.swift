/// A SORT key (RFC 5256 §3; DISPLAYFROM/DISPLAYTO from RFC 5957 SORT=DISPLAY). X-SCORE is Dovecot's full-text
/// score, which without a full-text index is the same for every message.
public enum SortKey: String, Sendable, Hashable, CaseIterable {
    case arrival = "ARRIVAL"
    case cc = "CC"
    case date = "DATE"
    case from = "FROM"
    case size = "SIZE"
    case subject = "SUBJECT"
    case to = "TO"
    case score = "X-SCORE"
    case displayFrom = "DISPLAYFROM"
    case displayTo = "DISPLAYTO"
}

/// One entry of a sort program: a key, reversed or not.
public struct SortCriterion: Sendable, Hashable {
    public var key: SortKey
    public var reverse: Bool

    public init(_ key: SortKey, reverse: Bool = false) {
        self.key = key
        self.reverse = reverse
    }
}

/// SORT / UID SORT (RFC 5256 §3), with ESORT's RETURN options (RFC 5267 §3).
public struct SortCommand: Sendable, Hashable {
    /// nil: answered with `* SORT`; otherwise with `* ESEARCH` (an empty list means ALL).
    public var returnOptions: [SearchReturnOption]?
    /// Each key once, in the order given (Dovecot ignores repeats).
    public var criteria: [SortCriterion]
    /// Upper-cased.
    public var charset: String
    public var key: SearchKey

    public init(
        returnOptions: [SearchReturnOption]? = nil, criteria: [SortCriterion], charset: String, key: SearchKey
    ) {
        self.returnOptions = returnOptions
        self.criteria = criteria
        self.charset = charset
        self.key = key
    }
}

/// THREAD's algorithms (RFC 5256 §2.2; REFS is Dovecot's: REFERENCES without subject grouping, threads
/// ordered by their latest message).
public enum ThreadAlgorithm: String, Sendable, Hashable, CaseIterable {
    case orderedSubject = "ORDEREDSUBJECT"
    case references = "REFERENCES"
    case refs = "REFS"
}

/// THREAD / UID THREAD (RFC 5256 §4).
public struct ThreadCommand: Sendable, Hashable {
    public var algorithm: ThreadAlgorithm
    public var charset: String
    public var key: SearchKey

    public init(algorithm: ThreadAlgorithm, charset: String, key: SearchKey) {
        self.algorithm = algorithm
        self.charset = charset
        self.key = key
    }
}
