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
        let matches = matchingMessages(command.key)
        let needsSize = command.criteria.contains { $0.key == .size }
        let fields = sortFields(matches.map { $0.message }, in: mailbox)
        let items = zip(matches, fields).map { match, fields in
            SortItem(
                sequence: match.sequence, arrival: match.message.internalDate,
                size: needsSize ? (try? mailbox.virtualSize(uid: match.message.uid)) ?? 0 : 0, fields: fields)
        }
        let numbers = SortItem.sorted(items, by: command.criteria).map { item in
            uid ? mailbox.messages[Int(item.sequence) - 1].uid : item.sequence
        }
        let highest = matches.map { $0.message.modSeq }.max()
        let modSeq = byModSeq && !matches.isEmpty ? highest : nil
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
        let matches = matchingMessages(command.key)
        let fields = sortFields(matches.map { $0.message }, in: mailbox)
        let messages = zip(matches, fields).map { match, fields in
            ThreadMessage(
                number: uid ? match.message.uid : match.sequence, uid: match.message.uid,
                date: fields.sentDate != 0 ? fields.sentDate : match.message.internalDate,
                messageID: fields.messageID, references: fields.references, subject: fields.subject,
                hasSubject: fields.hasSubject)
        }
        let forest =
            command.algorithm == .orderedSubject
            ? MessageThreading.orderedSubject(messages)
            : MessageThreading.references(messages, algorithm: command.algorithm)
        send(.thread(forest))
        if uid {
            finish(tag, text: IMAPReplyText.threadCompleted)
        } else {
            complete(tag, text: IMAPReplyText.threadCompleted)
        }
    }

    /// The selected messages that match `key`, with their sequence numbers.
    private func matchingMessages(_ key: SearchKey) -> [(sequence: UInt32, message: MessageInfo)] {
        guard let selection = selected else { return [] }
        let mailbox = selection.mailbox
        let key = key.resolvingLastSearchResult(selection.savedSearch)
        let now = configuration.now()
        var matches: [(sequence: UInt32, message: MessageInfo)] = []
        for (index, message) in mailbox.messages.enumerated() {
            let sequence = UInt32(index + 1)
            // ALL needs no candidate: the common THREAD/SORT of a whole mailbox reads only sort headers.
            if key != .all {
                guard searchCandidate(index, in: mailbox, now: now).matches(key) else { continue }
            }
            matches.append((sequence, message))
        }
        return matches
    }

    /// The sort fields of `messages`: from the worker's cache, else from the mailbox's `tern.sort` (read once
    /// per worker), else from each message's header; `tern.sort` is rewritten when headers had to be read.
    func sortFields(_ messages: [MessageInfo], in mailbox: any Mailbox) -> [SortFields] {
        let cache = SortFieldCache.shared
        // No GUID (an old uidlist): nothing identifies the mailbox, so nothing is cached.
        let prefix = mailbox.guid.isEmpty ? nil : mailbox.guid + "/"
        func cached(_ message: MessageInfo) -> SortFields? { prefix.flatMap { cache.fields($0 + message.baseName) } }
        var fields = messages.map(cached)
        guard fields.contains(where: { $0 == nil }) else { return fields.compactMap { $0 } }
        if let prefix, cache.shouldRead(prefix + String(mailbox.uidValidity)) {
            let stored = SortFieldFile.decode(
                mailbox.cacheFile(SortFieldFile.name) ?? [], uidValidity: mailbox.uidValidity)
            for (uid, entry) in stored {
                if let message = mailbox.message(uid: uid) { cache.store(entry, for: prefix + message.baseName) }
            }
            fields = messages.map(cached)
        }
        var computed = false
        for (index, message) in messages.enumerated() where fields[index] == nil {
            let entry = SortFields(header: (try? messageHeaderBytes(message.uid)) ?? [])
            fields[index] = entry
            computed = true
            if let prefix { cache.store(entry, for: prefix + message.baseName) }
        }
        if computed, prefix != nil {
            let entries = mailbox.messages.compactMap { message in cached(message).map { (message.uid, $0) } }
            mailbox.storeCacheFile(
                SortFieldFile.name, SortFieldFile.encode(entries, uidValidity: mailbox.uidValidity))
        }
        return fields.compactMap { $0 }
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
