import TernMailbox

extension IMAPMailSession {
    /// SORT / UID SORT (RFC 5256 §3, SORT=DISPLAY from RFC 5957), or ESORT's ESEARCH answer when RETURN was
    /// given (RFC 5267 §3: MIN and MAX are the first and last message in sort order, ALL is in sort order).
    func sort(_ tag: String, _ command: SortCommand, uid: Bool) {
        guard let mailbox = selected?.mailbox else { return }
        guard Self.searchCharsets.contains(command.charset) else {
            complete(tag, .no, .badCharset([]), text: IMAPReplyText.unknownCharset)
            return
        }
        let byModSeq = command.key.mentionsModSeq
        if byModSeq { enableCondstore() }
        let positions = matchingPositions(command.key)
        let messages = mailbox.messages
        let needsSize = command.criteria.contains { $0.key == .size }
        let fields = sortFields(positions, of: messages, in: mailbox)
        let items = zip(positions, fields).map { position, fields in
            SortItem(
                sequence: UInt32(position + 1), arrival: messages[position].internalDate,
                size: needsSize ? (try? mailbox.virtualSize(uid: messages[position].uid)) ?? 0 : 0, fields: fields)
        }
        let numbers = SortItem.sorted(items, by: command.criteria).map { item in
            uid ? messages[Int(item.sequence) - 1].uid : item.sequence
        }
        let highest = positions.map { messages[$0].modSeq }.max()
        let modSeq = byModSeq && !positions.isEmpty ? highest : nil
        if let options = command.returnOptions {
            // SAVE (RFC 5182) is left to SEARCH; SORT answers the other options.
            let wanted = options.filter { $0 != .save }
            if wanted.isEmpty && !options.isEmpty {
                // RETURN (SAVE) alone: no ESEARCH response at all, as Dovecot does.
            } else {
                var response = ESearchResponse(tag: tag, uid: uid, options: wanted, matches: numbers)
                response.modSeq = modSeq
                send(.esearch(response))
            }
        } else {
            send(.sort(numbers, modSeq: modSeq))
        }
        if uid {
            finish(tag, text: IMAPReplyText.sortCompleted)
        } else {
            complete(tag, text: IMAPReplyText.sortCompleted)
        }
    }

    /// THREAD / UID THREAD (RFC 5256 §4) over the messages the search keys select.
    func thread(_ tag: String, _ command: ThreadCommand, uid: Bool) {
        guard let mailbox = selected?.mailbox else { return }
        guard Self.searchCharsets.contains(command.charset) else {
            complete(tag, .no, .badCharset([]), text: IMAPReplyText.unknownCharset)
            return
        }
        let positions = matchingPositions(command.key)
        let messages = mailbox.messages
        let fields = sortFields(positions, of: messages, in: mailbox)
        let threadMessages = zip(positions, fields).map { position, fields in
            let message = messages[position]
            return ThreadMessage(
                number: uid ? message.uid : UInt32(position + 1), uid: message.uid,
                date: fields.sentDate != 0 ? fields.sentDate : message.internalDate, fields: fields)
        }
        let forest: ThreadForest
        if command.algorithm == .orderedSubject {
            forest = MessageThreading.orderedSubject(threadMessages)
        } else {
            let result = MessageThreading.references(
                threadMessages, algorithm: command.algorithm, links: selected?.threadLinks)
            forest = result.forest
            // Kept for the whole mailbox only: a THREAD over a search result would replace them each time.
            if command.key == .all { selected?.threadLinks = result.links }
        }
        send(.thread(forest))
        if uid {
            finish(tag, text: IMAPReplyText.threadCompleted)
        } else {
            complete(tag, text: IMAPReplyText.threadCompleted)
        }
    }

    /// The positions in the selected mailbox's message list of the messages that match `key`.
    private func matchingPositions(_ key: SearchKey) -> [Int] {
        guard let selection = selected else { return [] }
        let mailbox = selection.mailbox
        // ALL needs no candidate: the common THREAD/SORT of a whole mailbox reads only sort headers.
        guard key != .all else { return Array(mailbox.messages.indices) }
        let key = key.resolvingLastSearchResult(selection.savedSearch)
        let now = configuration.now()
        return mailbox.messages.indices.filter { searchCandidate($0, in: mailbox, now: now).matches(key) }
    }

    /// The sort fields of the messages at `positions`: from the worker's cache, else from the mailbox's
    /// `tern.sort` (read once per worker), else from each message's header; `tern.sort` is rewritten when
    /// headers had to be read.
    func sortFields(_ positions: [Int], of messages: [MessageInfo], in mailbox: any Mailbox) -> [SortFields] {
        let cache = SortFieldCache.shared
        // No GUID (an old uidlist): nothing identifies the mailbox, so nothing is cached.
        let box = mailbox.guid.isEmpty ? "" : mailbox.guid + "/" + String(mailbox.uidValidity)
        var fields =
            box.isEmpty ? Array(repeating: nil, count: positions.count) : cache.fields(positions, of: messages, in: box)
        guard fields.contains(where: { $0 == nil }) else { return fields.map { $0! } }
        if !box.isEmpty, cache.shouldRead(box) {
            let stored = SortFieldFile.decode(
                mailbox.cacheFile(SortFieldFile.name) ?? [], uidValidity: mailbox.uidValidity)
            cache.store(stored, in: box)
            fields = cache.fields(positions, of: messages, in: box)
        }
        var computed: [(uid: UInt32, fields: SortFields)] = []
        for (index, position) in positions.enumerated() where fields[index] == nil {
            let message = messages[position]
            let entry = SortFields(header: (try? messageHeaderBytes(message.uid)) ?? [])
            fields[index] = entry
            computed.append((message.uid, entry))
        }
        if !computed.isEmpty, !box.isEmpty {
            cache.store(computed, in: box)
            let all = cache.fields(Array(messages.indices), of: messages, in: box)
            let entries = zip(messages, all).compactMap { message, fields in fields.map { (message.uid, $0) } }
            mailbox.storeCacheFile(
                SortFieldFile.name, SortFieldFile.encode(entries, uidValidity: mailbox.uidValidity))
        }
        return fields.map { $0! }
    }
}

/// One message being sorted.
struct SortItem {
    var sequence: UInt32
    var arrival: Int
    var size: Int
    var fields: SortFields

    /// In the order of `criteria`; ties go to the next criterion and finally to the sequence number, which
    /// REVERSE does not turn around (RFC 5256 §3).
    /// Positions are sorted, not the items: moving an item retains and releases its strings.
    static func sorted(_ items: [SortItem], by criteria: [SortCriterion]) -> [SortItem] {
        items.withUnsafeBufferPointer { items in
            items.indices.sorted { a, b in
                for criterion in criteria {
                    let order = compare(items[a], items[b], criterion.key)
                    if order != 0 { return criterion.reverse ? order > 0 : order < 0 }
                }
                return items[a].sequence < items[b].sequence
            }.map { items[$0] }
        }
    }

    /// -1, 0 or 1.
    static func compare(_ a: SortItem, _ b: SortItem, _ key: SortKey) -> Int {
        switch key {
        case .arrival: return order(a.arrival, b.arrival)
        case .date: return order(a.date, b.date)
        case .size: return order(a.size, b.size)
        case .score: return 0
        case .subject: return order(a.fields.subject.key, b.fields.subject.key)
        case .from: return order(a.fields.from, b.fields.from)
        case .to: return order(a.fields.to, b.fields.to)
        case .cc: return order(a.fields.cc, b.fields.cc)
        case .displayFrom: return order(a.fields.displayFrom, b.fields.displayFrom)
        case .displayTo: return order(a.fields.displayTo, b.fields.displayTo)
        }
    }

    /// DATE: the sent date, or the arrival time when the message has none (RFC 5256 §3).
    var date: Int { fields.sentDate != 0 ? fields.sentDate : arrival }

    private static func order(_ a: Int, _ b: Int) -> Int { a < b ? -1 : (a > b ? 1 : 0) }

    private static func order(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a == b { return 0 }
        return a.lexicographicallyPrecedes(b) ? -1 : 1
    }
}
