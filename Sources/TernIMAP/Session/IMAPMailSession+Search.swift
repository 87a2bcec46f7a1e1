import Glibc
import TernMailbox

extension IMAPMailSession {
    /// Charsets SEARCH accepts (RFC 3501 §6.4.4: US-ASCII is required; UTF-8 as Dovecot does).
    static let searchCharsets: Set<String> = ["US-ASCII", "UTF-8"]

    /// SEARCH / UID SEARCH (RFC 3501 §6.4.4), or ESEARCH when RETURN was given (RFC 4731), PARTIAL included
    /// (RFC 5267). RETURN (SAVE) keeps the result for `$` (RFC 5182); SAVE alone sends no ESEARCH.
    func search(_ tag: String, _ search: SearchCommand, uid: Bool, command: IMAPCommand) {
        guard let selection = selected else { return }
        let mailbox = selection.mailbox
        let saves = search.returnOptions?.contains(.save) == true
        if utf8AcceptEnabled, search.charset != nil {
            // RFC 6855 §3: after ENABLE UTF8=ACCEPT a charset label conflicts with the UTF-8 the client uses.
            badArguments(tag, command, IMAPReplyText.charsetAfterUTF8Accept)
            return
        }
        if let charset = search.charset, !Self.searchCharsets.contains(charset.uppercased()) {
            if saves { selected?.savedSearch = [] }  // RFC 5182 §2.1: a failed SEARCH (SAVE) empties `$`
            complete(tag, .no, .badCharset([]), text: IMAPReplyText.unknownCharset)
            return
        }
        let updates = search.returnOptions?.contains(.update) == true
        if updates, selection.searchUpdates.contains(where: { $0.tag == tag }) {
            badArguments(tag, command, IMAPReplyText.duplicateSearchUpdateTag)
            return
        }
        let key = search.key.resolvingLastSearchResult(selection.savedSearch)
        let byModSeq = key.mentionsModSeq
        if byModSeq { enableCondstore() }
        var matches: [UInt32] = []
        var matchedUIDs: [UInt32] = []
        var highestMatch: UInt64 = 0
        let fullText = configuration.fullTextSearch ? fullTextMatches(key, mailbox) : FullTextAnswers()
        let now = configuration.now()
        for (index, message) in mailbox.messages.enumerated() {
            guard searchCandidate(index, in: mailbox, now: now, fullText: fullText).matches(key) else { continue }
            matches.append(uid ? message.uid : UInt32(index + 1))
            matchedUIDs.append(message.uid)
            highestMatch = max(highestMatch, message.modSeq)
        }
        if saves { selected?.savedSearch = Self.savedResult(search, matchedUIDs) }
        if updates {
            selected?.searchUpdates.append(SearchUpdate(tag: tag, uid: uid, key: key, matches: Set(matchedUIDs)))
        }
        // RFC 7162 §3.1.5: the highest MODSEQ of the matches, left out when nothing matched.
        let modSeq = byModSeq && !matches.isEmpty ? highestMatch : nil
        // IMAP4rev2 answers every SEARCH with ESEARCH, ALL when no RETURN was given (RFC 9051 §6.4.4).
        if let options = search.returnOptions ?? (imap4rev2Enabled ? [] : nil) {
            let shown = options.filter { $0 != .save }
            if !(saves && shown.isEmpty && search.partial == nil) {
                var response = ESearchResponse(
                    tag: tag, uid: uid, options: shown, partial: search.partial, matches: matches)
                response.modSeq = modSeq
                send(.esearch(response))
            }
        } else {
            send(.search(matches, modSeq: modSeq))
        }
        // RFC 3501 §7.4.1: no EXPUNGE during SEARCH; UID SEARCH may report them.
        if uid { finish(tag, text: IMAPReplyText.searchCompleted) } else { complete(tag, text: IMAPReplyText.searchCompleted) }
    }

    /// The selected mailbox's message at `index`, to test against SEARCH keys.
    func searchCandidate(
        _ index: Int, in mailbox: any Mailbox, now: Int, fullText: FullTextAnswers = FullTextAnswers()
    ) -> SearchCandidate {
        SearchCandidate(
            message: mailbox.messages[index], sequence: UInt32(index + 1), count: UInt32(mailbox.messages.count),
            largestUID: mailbox.messages.last?.uid ?? 0, mailbox: mailbox,
            load: { [unowned self] uid in try? self.messageBytes(uid) },
            loadHeader: { [unowned self] uid in try? self.messageHeaderBytes(uid) }, fullText: fullText, now: now)
    }

    /// What RETURN (SAVE) keeps (RFC 5182 §2.4, RFC 5267 §4.4): the PARTIAL window when there is one; only MIN
    /// and MAX when they come without ALL and COUNT; otherwise every match.
    static func savedResult(_ search: SearchCommand, _ uids: [UInt32]) -> [UInt32] {
        let options = search.returnOptions ?? []
        if let partial = search.partial { return ESearchResponse.positions(partial, of: uids) }
        guard options.contains(.min) || options.contains(.max), !options.contains(.all), !options.contains(.count)
        else { return uids }
        var saved: [UInt32] = []
        if options.contains(.min), let first = uids.first { saved.append(first) }
        if options.contains(.max), let last = uids.last, last != saved.last { saved.append(last) }
        return saved
    }
}

extension SearchKey {
    /// The key with `$` (RFC 5182) replaced by the saved UIDs, in either place it may stand (a sequence set or
    /// after UID).
    func resolvingLastSearchResult(_ saved: [UInt32]) -> SearchKey {
        switch self {
        case .sequenceSet(.lastSearchResult), .uid(.lastSearchResult): return .uid(SequenceSet.compact(saved))
        case .not(let inner): return .not(inner.resolvingLastSearchResult(saved))
        case .or(let a, let b): return .or(a.resolvingLastSearchResult(saved), b.resolvingLastSearchResult(saved))
        case .and(let keys): return .and(keys.map { $0.resolvingLastSearchResult(saved) })
        default: return self
        }
    }
}

extension IMAPMailSession {
    /// The BODY and TEXT keys of `key` the mailbox's full-text index answers, for the messages it holds: up to
    /// FullTextIndexer.waitLimit missing messages are indexed first, a longer backlog in the background (the
    /// messages it lacks are scanned meanwhile). Nothing (every message scanned) when the index cannot be used.
    func fullTextMatches(_ key: SearchKey, _ mailbox: any Mailbox) -> FullTextAnswers {
        let keys = Set(key.fullTextKeys.filter { FullTextIndex.answers($0.needle) })
        guard !keys.isEmpty else { return FullTextAnswers() }
        do {
            let index = try FullTextIndexer.update(mailbox, limit: FullTextIndexer.waitLimit) { uid in
                try? messageBytes(uid)
            }
            if FullTextIndexer.isBehind(index, mailbox) {
                let (store, name) = (store, mailbox.name)
                FullTextIndexer.continueInBackground(
                    mailbox.fullTextIndexPath, open: { try store.openMailbox(name, readOnly: true) },
                    done: configuration.fullTextIndexedInBackground)
            }
            var answers = FullTextAnswers(indexedThrough: index.lastUID)
            for key in keys { answers.matches[key] = try index.uids(key.field, containing: key.needle) }
            return answers
        } catch {
            return FullTextAnswers()
        }
    }
}

/// What the full-text index answered: per BODY/TEXT key the matching UIDs among the messages up to
/// `indexedThrough`; messages above it are scanned.
struct FullTextAnswers {
    var indexedThrough: UInt32 = 0
    var matches: [FullTextKey: Set<UInt32>] = [:]

    /// Whether the message `uid` matches `key`; nil when the index cannot tell.
    func match(_ key: FullTextKey, uid: UInt32) -> Bool? {
        guard uid <= indexedThrough, let uids = matches[key] else { return nil }
        return uids.contains(uid)
    }
}

/// A BODY or TEXT search key (the string as given).
struct FullTextKey: Hashable {
    let field: FullTextIndex.Field
    let needle: String
}

extension SearchKey {
    /// The BODY and TEXT keys anywhere in this key.
    var fullTextKeys: [FullTextKey] {
        switch self {
        case .body(let text): [FullTextKey(field: .body, needle: text)]
        case .text(let text): [FullTextKey(field: .text, needle: text)]
        case .not(let inner): inner.fullTextKeys
        case .or(let a, let b): a.fullTextKeys + b.fullTextKeys
        case .and(let keys): keys.flatMap(\.fullTextKeys)
        default: []
        }
    }
}

/// One message tested against SEARCH keys; its contents are read only when a key needs them.
final class SearchCandidate {
    let message: MessageInfo
    let sequence: UInt32
    let count: UInt32
    let largestUID: UInt32
    let mailbox: any Mailbox
    /// The message's bytes with CRLF line ends (an IMAP session serves them from its cache).
    private let load: (UInt32) -> [UInt8]?
    /// The header alone, when the caller can read less than the whole message.
    private let loadHeader: ((UInt32) -> [UInt8]?)?
    private var sectionsLoaded: MessageSections?
    private var headerLoaded: MessageSections?
    /// BODY/TEXT keys answered by the full-text index.
    private let fullText: FullTextAnswers

    /// Seconds since the epoch, for OLDER / YOUNGER.
    let now: Int

    init(
        message: MessageInfo, sequence: UInt32, count: UInt32, largestUID: UInt32, mailbox: any Mailbox,
        load: @escaping (UInt32) -> [UInt8]?, loadHeader: ((UInt32) -> [UInt8]?)? = nil,
        fullText: FullTextAnswers = FullTextAnswers(), now: Int = Int(time(nil))
    ) {
        self.fullText = fullText
        self.now = now
        self.message = message
        self.sequence = sequence
        self.count = count
        self.largestUID = largestUID
        self.mailbox = mailbox
        self.load = load
        self.loadHeader = loadHeader
    }

    /// The message, or nil when it can no longer be read (it then matches no content key).
    private var sections: MessageSections? {
        if let sectionsLoaded { return sectionsLoaded }
        guard let bytes = load(message.uid) else { return nil }
        sectionsLoaded = MessageSections(bytes)
        return sectionsLoaded
    }

    /// The header alone, for header keys (the whole message when it was read already).
    private var headerSections: MessageSections? {
        if let sectionsLoaded { return sectionsLoaded }
        if let headerLoaded { return headerLoaded }
        guard let loadHeader else { return sections }
        guard let bytes = loadHeader(message.uid) else { return nil }
        headerLoaded = MessageSections(bytes)
        return headerLoaded
    }

    func matches(_ key: SearchKey) -> Bool {
        switch key {
        case .all: return true
        case .not(let inner): return !matches(inner)
        case .or(let a, let b): return matches(a) || matches(b)
        case .and(let keys): return keys.allSatisfy(matches)
        case .sequenceSet(let set): return set.contains(sequence, largest: count)
        case .uid(let set): return set.contains(message.uid, largest: largestUID)
        case .modSeq(let modSeq): return message.modSeq >= modSeq
        case .emailID(let id): return mailbox.messageGUID(uid: message.uid).map(ObjectID.emailID(guid:)) == id
        case .threadID: return false  // THREADID is NIL for every message
        case .larger(let size): return virtualSize.map { $0 > Int(size) } ?? false
        case .smaller(let size): return virtualSize.map { $0 < Int(size) } ?? false
        case .savedBefore(let date): return savedDate.map { $0 < date } ?? false
        case .savedOn(let date): return savedDate.map { $0 == date } ?? false
        case .savedSince(let date): return savedDate.map { $0 >= date } ?? false
        case .saveDateSupported: return mailbox.saveDate(uid: message.uid) != nil
        case .before(let date): return internalDate < date
        case .on(let date): return internalDate == date
        case .since(let date): return internalDate >= date
        // RFC 5032: INTERNALDATE to the second, against the time of the search.
        case .older(let seconds): return message.internalDate <= now - Int(seconds)
        case .younger(let seconds): return message.internalDate >= now - Int(seconds)
        case .sentBefore(let date): return sentDate.map { $0 < date } ?? false
        case .sentOn(let date): return sentDate.map { $0 == date } ?? false
        case .sentSince(let date): return sentDate.map { $0 >= date } ?? false
        default: return matchesFlagOrText(key)
        }
    }

    private func matchesFlagOrText(_ key: SearchKey) -> Bool {
        let flags = message.flags
        switch key {
        case .answered: return flags.contains(.answered)
        case .deleted: return flags.contains(.deleted)
        case .draft: return flags.contains(.draft)
        case .flagged: return flags.contains(.flagged)
        case .seen: return flags.contains(.seen)
        case .recent: return message.isRecent
        case .new: return message.isRecent && !flags.contains(.seen)
        case .old: return !message.isRecent
        case .unanswered: return !flags.contains(.answered)
        case .undeleted: return !flags.contains(.deleted)
        case .undraft: return !flags.contains(.draft)
        case .unflagged: return !flags.contains(.flagged)
        case .unseen: return !flags.contains(.seen)
        case .keyword(let name): return hasKeyword(name)
        case .unkeyword(let name): return !hasKeyword(name)
        case .bcc(let text): return header("Bcc", contains: text)
        case .cc(let text): return header("Cc", contains: text)
        case .from(let text): return header("From", contains: text)
        case .to(let text): return header("To", contains: text)
        case .subject(let text): return header("Subject", contains: text)
        case .header(let name, let text): return header(name, contains: text)
        case .body(let text):
            if let known = fullText.match(FullTextKey(field: .body, needle: text), uid: message.uid) { return known }
            return body(contains: text)
        case .text(let text):
            if let known = fullText.match(FullTextKey(field: .text, needle: text), uid: message.uid) { return known }
            return Self.contains(sections?.bytes ?? [], text)
        default: return false
        }
    }

    private func hasKeyword(_ name: String) -> Bool {
        message.keywords.contains { $0.lowercased() == name.lowercased() }
    }

    private var virtualSize: Int? { try? mailbox.virtualSize(uid: message.uid) }

    private var internalDate: IMAPDate { IMAPDateTime(epochSeconds: message.internalDate).date }
    private var savedDate: IMAPDate? { mailbox.saveDate(uid: message.uid).map { IMAPDateTime(epochSeconds: $0).date } }

    /// The Date: header's day, month and year; the time and zone are disregarded (RFC 3501 §6.4.4).
    private var sentDate: IMAPDate? {
        guard let sections = headerSections,
            let value = MessageSections.fieldValues(sections.bytes, sections.root.header, named: "Date").first
        else { return nil }
        return RFC5322Date.day(String(decoding: value, as: UTF8.self))
    }

    /// HEADER with an empty string matches every message that has the field (RFC 3501 §6.4.4).
    private func header(_ name: String, contains text: String) -> Bool {
        guard let sections = headerSections else { return false }
        let values = MessageSections.fieldValues(sections.bytes, sections.root.header, named: name)
        // Encoded words are matched decoded (RFC 3501 §6.4.4 leaves it open; Dovecot decodes them).
        return values.contains { Self.contains(EncodedWords.mayHold($0) ? EncodedWords.decode($0) : $0, text) }
    }

    private func body(contains text: String) -> Bool {
        guard let sections else { return false }
        return Self.contains(sections.bytes[sections.root.body], text)
    }

    /// Case-insensitive substring search with the i;unicode-casemap comparator (RFC 5255 I18NLEVEL=1).
    static func contains(_ haystack: some Collection<UInt8>, _ needle: String) -> Bool {
        guard !needle.isEmpty else { return true }
        let pattern = Array(needle.utf8)
        if pattern.allSatisfy({ $0 < 0x80 }) && haystack.allSatisfy({ $0 < 0x80 }) {
            return asciiContains(Array(haystack), pattern)
        }
        return UnicodeCasemap.contains(haystack, needle)
    }

    /// ASCII case-insensitive substring search on bytes (the common case, without building Strings).
    static func asciiContains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        let lowered = needle.map(lowerASCII)
        let first = lowered[0]
        var start = 0
        while start + lowered.count <= haystack.count {
            if lowerASCII(haystack[start]) == first {
                var offset = 1
                while offset < lowered.count && lowerASCII(haystack[start + offset]) == lowered[offset] { offset += 1 }
                if offset == lowered.count { return true }
            }
            start += 1
        }
        return false
    }

    static func lowerASCII(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}

/// The date of an RFC 5322 `Date:` value (`Tue, 1 Jul 2003 10:52:37 +0200`), also in obsolete spellings.
enum RFC5322Date {
    static func day(_ value: String) -> IMAPDate? {
        let tokens = value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
        for (index, token) in tokens.enumerated() where index > 0 && index + 1 < tokens.count {
            guard let month = IMAPDate.months.firstIndex(of: token.prefix(3).uppercased()), token.count <= 9,
                let day = Int(tokens[index - 1]), (1...31).contains(day), var year = Int(tokens[index + 1])
            else { continue }
            // RFC 5322 §4.3: two-digit years 00-49 are 2000-2049, 50-99 are 1950-1999.
            if year < 50 { year += 2000 } else if year < 1000 { year += 1900 }
            return IMAPDate(year: year, month: month + 1, day: day)
        }
        return nil
    }
}
