/// `OK` / `NO` / `BAD` / `PREAUTH` / `BYE` (RFC 3501 §7.1).
public enum IMAPStatus: String, Sendable, Hashable {
    case ok = "OK"
    case no = "NO"
    case bad = "BAD"
    case preauth = "PREAUTH"
    case bye = "BYE"
}

/// A server response line (RFC 3501 §7). FETCH responses with streamed body data are written with
/// `FetchResponseWriter` instead of `.fetch`.
public enum IMAPResponse: Sendable, Hashable {
    /// `TAG OK [code] text`.
    case tagged(tag: String, IMAPStatus, ResponseCode?, String)
    /// `* OK [code] text` and the other untagged conditions (greeting, BYE, untagged BAD).
    case untagged(IMAPStatus, ResponseCode?, String)
    /// `+ text` (`+ OK` for a literal, `+ idling`, `+ <base64>` for SASL).
    case continuation(String)
    case capability([String])
    case flags([Flag])
    case exists(UInt32)
    case recent(UInt32)
    case expunge(UInt32)
    /// RFC 7162 §3.2.10 `* VANISHED [(EARLIER)] uids`: expunges once QRESYNC is enabled.
    case vanished(SequenceSet, earlier: Bool)
    case list(MailboxListItem)
    case lsub(MailboxListItem)
    case status(MailboxName, [StatusValue])
    /// `modSeq`: RFC 7162 §3.1.5 `(MODSEQ n)` after the numbers when the search had a MODSEQ key.
    case search([UInt32], modSeq: UInt64? = nil)
    case esearch(ESearchResponse)
    /// RFC 5256 `* SORT n...` in sort order; `modSeq` as for SEARCH (RFC 7162 §3.1.5).
    case sort([UInt32], modSeq: UInt64? = nil)
    /// RFC 5256 `* THREAD (...)...`.
    case thread(ThreadForest)
    case enabled([String])
    case id([IDParameter]?)
    case namespace(
        personal: [NamespaceDescription]?, other: [NamespaceDescription]?,
        shared: [NamespaceDescription]?)
    case fetch(UInt32, [FetchResponseItem])
    /// RFC 9586 §3.3 `* uid UIDFETCH (...)`: FETCH once UIDONLY is enabled, numbered by UID.
    case uidFetch(UInt32, [FetchResponseItem])

    /// The response as bytes, CRLF included.
    public var bytes: [UInt8] {
        var writer = IMAPWriter()
        encode(into: &writer)
        return writer.bytes
    }

    public func encode(into w: inout IMAPWriter) {
        switch self {
        case .tagged(let tag, let status, let code, let text):
            w.raw(tag)
            w.space()
            Self.condition(status, code, text, into: &w)
        case .untagged(let status, let code, let text):
            w.raw("* ")
            Self.condition(status, code, text, into: &w)
        case .continuation(let text):
            w.raw(text.isEmpty ? "+ " : "+ \(text)")
        case .capability(let names):
            w.raw((["* CAPABILITY"] + names).joined(separator: " "))
        case .flags(let flags):
            w.raw("* FLAGS ")
            w.flags(flags)
        case .exists(let n): w.raw("* \(n) EXISTS")
        case .recent(let n): w.raw("* \(n) RECENT")
        case .expunge(let n): w.raw("* \(n) EXPUNGE")
        case .vanished(let uids, let earlier): w.raw(earlier ? "* VANISHED (EARLIER) \(uids)" : "* VANISHED \(uids)")
        case .list(let item):
            w.raw("* LIST ")
            item.encode(into: &w)
        case .lsub(let item):
            w.raw("* LSUB ")
            item.encode(into: &w)
        case .status(let mailbox, let values):
            w.raw("* STATUS ")
            w.mailbox(mailbox)
            w.space()
            w.list(values) { w, value in
                if let id = value.objectID {
                    w.raw("\(value.attribute.rawValue) (\(id))")
                } else {
                    w.raw("\(value.attribute.rawValue) \(value.value)")
                }
            }
        case .search(let numbers, let modSeq):
            w.raw("* SEARCH")
            for n in numbers { w.raw(" \(n)") }
            if let modSeq { w.raw(" (MODSEQ \(modSeq))") }
        case .esearch(let response):
            response.encode(into: &w)
        case .sort(let numbers, let modSeq):
            w.raw("* SORT")
            for n in numbers { w.raw(" \(n)") }
            if let modSeq { w.raw(" (MODSEQ \(modSeq))") }
        case .thread(let forest):
            w.raw("* THREAD ")
            w.raw(forest.text)
        case .enabled(let names):
            w.raw((["* ENABLED"] + names).joined(separator: " "))
        case .id(let parameters):
            w.raw("* ID ")
            guard let parameters else {
                w.nilValue()
                break
            }
            w.pairs(parameters.map { ($0.key, $0.value.map { Array($0.utf8) }) })
        case .namespace(let personal, let other, let shared):
            w.raw("* NAMESPACE")
            for group in [personal, other, shared] {
                w.space()
                guard let group else {
                    w.nilValue()
                    continue
                }
                w.list(group, separator: "") { w, ns in
                    w.raw("(")
                    w.string(ns.prefix)
                    w.space()
                    if let d = ns.delimiter { w.string(String(d)) } else { w.nilValue() }
                    w.raw(")")
                }
            }
        case .fetch(let sequence, let items):
            Self.fetch(FetchResponseWriter(sequence: sequence, quotesUTF8: w.quotesUTF8), items, into: &w)
        case .uidFetch(let uid, let items):
            Self.fetch(FetchResponseWriter(sequence: uid, quotesUTF8: w.quotesUTF8, uid: true), items, into: &w)
        }
        w.crlf()
    }

    static func condition(
        _ status: IMAPStatus, _ code: ResponseCode?, _ text: String, into w: inout IMAPWriter
    ) {
        w.raw(status.rawValue)
        if let code { w.raw(" [\(code.text)]") }
        if !text.isEmpty { w.raw(" \(text)") }
    }
}

extension IMAPResponse {
    fileprivate static func fetch(
        _ writer: FetchResponseWriter, _ items: [FetchResponseItem], into w: inout IMAPWriter
    ) {
        var writer = writer
        for item in items { writer.item(item) }
        writer.end()
        w.raw(writer.take().dropLast(2))  // the CRLF is added by the caller
    }
}

/// `* STATUS` values.
public struct StatusValue: Sendable, Hashable {
    public var attribute: StatusAttribute
    public var value: UInt64
    /// MAILBOXID's value (RFC 8474 §4), written `(id)` instead of the number.
    public var objectID: String?

    public init(_ attribute: StatusAttribute, _ value: UInt64, objectID: String? = nil) {
        self.attribute = attribute
        self.value = value
        self.objectID = objectID
    }
}

/// Mailbox name attributes in LIST/LSUB (RFC 3501 §7.2.2, RFC 5258 §3, RFC 3348 CHILDREN, RFC 6154 SPECIAL-USE).
public enum MailboxAttribute: Sendable, Hashable {
    case noinferiors, noselect, marked, unmarked
    case hasChildren, hasNoChildren, nonExistent, subscribed, remote
    case all, archive, drafts, flagged, junk, sent, trash
    case other(String)

    public var text: String {
        switch self {
        case .noinferiors: return "\\NoInferiors"
        case .noselect: return "\\Noselect"
        case .marked: return "\\Marked"
        case .unmarked: return "\\UnMarked"
        case .hasChildren: return "\\HasChildren"
        case .hasNoChildren: return "\\HasNoChildren"
        case .nonExistent: return "\\NonExistent"
        case .subscribed: return "\\Subscribed"
        case .remote: return "\\Remote"
        case .all: return "\\All"
        case .archive: return "\\Archive"
        case .drafts: return "\\Drafts"
        case .flagged: return "\\Flagged"
        case .junk: return "\\Junk"
        case .sent: return "\\Sent"
        case .trash: return "\\Trash"
        case .other(let text): return text
        }
    }

    /// The attribute for a special_use setting value (`\Sent`), nil when it is not one of RFC 6154's.
    public init?(specialUse: String) {
        switch specialUse.lowercased() {
        case "\\all": self = .all
        case "\\archive": self = .archive
        case "\\drafts": self = .drafts
        case "\\flagged": self = .flagged
        case "\\junk": self = .junk
        case "\\sent": self = .sent
        case "\\trash": self = .trash
        default: return nil
        }
    }
}

/// One LIST/LSUB line: `(attributes) "delimiter" name [extended data]`.
public struct MailboxListItem: Sendable, Hashable {
    public var attributes: [MailboxAttribute]
    public var delimiter: Character?
    public var name: MailboxName
    /// RFC 5258 §3.5 CHILDINFO for RECURSIVEMATCH: `("CHILDINFO" ("SUBSCRIBED"))`.
    public var childInfoSubscribed: Bool
    /// RFC 5465 §5.4: a renamed mailbox's former name, `("OLDNAME" (old))`.
    public var oldName: MailboxName?

    public init(
        attributes: [MailboxAttribute], delimiter: Character?, name: MailboxName,
        childInfoSubscribed: Bool = false, oldName: MailboxName? = nil
    ) {
        self.attributes = attributes
        self.delimiter = delimiter
        self.name = name
        self.childInfoSubscribed = childInfoSubscribed
        self.oldName = oldName
    }

    func encode(into w: inout IMAPWriter) {
        w.list(attributes) { $0.raw($1.text) }
        w.space()
        if let delimiter { w.string(String(delimiter)) } else { w.nilValue() }
        w.space()
        w.mailbox(name)
        if childInfoSubscribed { w.raw(" (\"CHILDINFO\" (\"SUBSCRIBED\"))") }
        if let oldName {
            w.raw(" (\"OLDNAME\" (")
            w.mailbox(oldName)
            w.raw("))")
        }
    }
}

/// RFC 2342 namespace: `("" "/")`.
public struct NamespaceDescription: Sendable, Hashable {
    public var prefix: String
    public var delimiter: Character?

    public init(prefix: String, delimiter: Character?) {
        self.prefix = prefix
        self.delimiter = delimiter
    }
}

/// `* ESEARCH (TAG "t") [UID] MIN a MAX b ALL set COUNT n` (RFC 4731 §3.1), in Dovecot's order; MIN, MAX and
/// ALL are left out when nothing matched.
public struct ESearchResponse: Sendable, Hashable {
    public var tag: String?
    public var uid: Bool
    public var min: UInt32?
    public var max: UInt32?
    public var all: SequenceSet?
    /// RFC 5267 §4.4 `PARTIAL (low:high set)`: the range asked for and the matches at those positions (NIL
    /// when there are none).
    public var partial: (range: ClosedRange<UInt32>, matches: SequenceSet?)? {
        get { partialRange.map { ($0, partialMatches) } }
        set {
            partialRange = newValue?.range
            partialMatches = newValue?.matches
        }
    }
    private var partialRange: ClosedRange<UInt32>?
    private var partialMatches: SequenceSet?
    public var count: UInt32?
    /// RFC 7162 §3.1.5: the highest MODSEQ of the matches when the search had a MODSEQ key.
    public var modSeq: UInt64?
    /// RFC 5267 §4.3 updates of a SEARCH RETURN (UPDATE): `REMOVEFROM (0 set)`, `ADDTO (0 set)`. Dovecot gives
    /// no positions (0).
    public var removeFrom: SequenceSet?
    public var addTo: SequenceSet?

    public init(
        tag: String?, uid: Bool, min: UInt32? = nil, max: UInt32? = nil, all: SequenceSet? = nil,
        count: UInt32? = nil
    ) {
        self.tag = tag
        self.uid = uid
        self.min = min
        self.max = max
        self.all = all
        self.count = count
    }

    /// The answer to `options` (and PARTIAL) for the matching numbers (sorted ascending), as Dovecot computes it.
    public init(
        tag: String?, uid: Bool, options: [SearchReturnOption], partial: ClosedRange<UInt32>? = nil,
        matches: [UInt32]
    ) {
        // CONTEXT is a hint; UPDATE alone asks for no result now (RFC 5267 §4.2, as Dovecot answers it).
        let asked = options.filter { $0 != .context }
        let wanted = asked.isEmpty && partial == nil ? [.all] : asked
        self.init(tag: tag, uid: uid)
        if wanted.contains(.min) { min = matches.first }
        if wanted.contains(.max) { max = matches.last }
        if wanted.contains(.all), !matches.isEmpty { all = SequenceSet.compact(matches) }
        if let partial {
            let chosen = Self.positions(partial, of: matches)
            self.partial = (partial, chosen.isEmpty ? nil : SequenceSet.compact(chosen))
        }
        if wanted.contains(.count) { count = UInt32(matches.count) }
    }

    /// The matches at 1-based positions `range` (RFC 5267 §4.4).
    public static func positions(_ range: ClosedRange<UInt32>, of matches: [UInt32]) -> [UInt32] {
        let low = Int(range.lowerBound) - 1
        guard low < matches.count else { return [] }
        return Array(matches[low..<Swift.min(matches.count, Int(range.upperBound))])
    }

    func encode(into w: inout IMAPWriter) {
        w.raw("* ESEARCH")
        if let tag {
            w.raw(" (TAG ")
            w.string(tag)
            w.raw(")")
        }
        if uid { w.raw(" UID") }
        if let min { w.raw(" MIN \(min)") }
        if let max { w.raw(" MAX \(max)") }
        if let all { w.raw(" ALL \(all)") }
        if let range = partialRange {
            w.raw(" PARTIAL (\(range.lowerBound):\(range.upperBound) \(partialMatches.map(\.description) ?? "NIL"))")
        }
        if let count { w.raw(" COUNT \(count)") }
        if let modSeq { w.raw(" MODSEQ \(modSeq)") }
        if let removeFrom { w.raw(" REMOVEFROM (0 \(removeFrom))") }
        if let addTo { w.raw(" ADDTO (0 \(addTo))") }
    }
}

extension IMAPResponse {
    /// `+ OK`, the continuation for a synchronizing literal.
    public static let literalContinuation = IMAPResponse.continuation(
        IMAPReplyText.literalContinuation)
    /// `+ idling`.
    public static let idling = IMAPResponse.continuation(IMAPReplyText.idling)

    /// A tagged reply with Dovecot's timing suffix: `TAG OK Fetch completed (0.001 + 0.000 secs).`
    public static func completed(
        _ tag: String, _ status: IMAPStatus, _ code: ResponseCode?, _ text: String,
        timing: IMAPTiming? = .fast
    ) -> IMAPResponse {
        .tagged(tag: tag, status, code, text + (timing?.suffix ?? ""))
    }

    /// `TAG OK text (timing)`.
    public static func completed(_ tag: String, _ text: String, timing: IMAPTiming? = .fast)
        -> IMAPResponse
    {
        completed(tag, .ok, nil, text, timing: timing)
    }

    /// Dovecot's answer to a parser error: post-login `TAG BAD Error in IMAP command NAME: detail (timing)`,
    /// pre-login (imap-login) the terser `BAD Error in IMAP command received by server.`.
    public static func badCommand(
        _ error: IMAPCommandError, preLogin: Bool, timing: IMAPTiming? = .fast
    ) -> IMAPResponse {
        let suffix = preLogin ? "" : timing?.suffix ?? ""
        let text: String
        switch error.reason {
        case .invalidTag:
            text = preLogin ? IMAPReplyText.preLoginCommandError : IMAPReplyText.invalidTag + suffix
            return .untagged(.bad, nil, text)
        case .invalidCommandName:
            text =
                preLogin ? IMAPReplyText.preLoginCommandError : IMAPReplyText.invalidCommandName + suffix
        case .crWithoutLF:
            text = IMAPReplyText.crWithoutLF + (preLogin ? "" : suffix)
        case .syntax(let detail) where preLogin && detail == IMAPReplyText.missingQuote:
            text = IMAPReplyText.missingQuote
        case _ where preLogin:
            text = IMAPReplyText.preLoginCommandError
        case .unknownCommand:
            text = IMAPReplyText.commandError(error.command ?? "", IMAPReplyText.unknownCommand) + suffix
        case .tooLong:
            text = IMAPReplyText.commandError(error.command ?? "", IMAPReplyText.tooLongArgument) + suffix
        case .syntax(let detail):
            text = IMAPReplyText.commandError(error.command ?? "", detail) + suffix
        }
        guard let tag = error.tag else { return .untagged(.bad, nil, text) }
        return .tagged(tag: tag, .bad, nil, text)
    }
}
