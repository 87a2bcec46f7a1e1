import TernMailbox

extension IMAPMailSession {
    /// FETCH / UID FETCH (RFC 3501 §6.4.5) in Dovecot's item order: items without literals first, in the
    /// order asked, then body data. UID FETCH puts UID first. A body fetch that sets \Seen adds FLAGS for the
    /// messages whose \Seen it changed. CHANGEDSINCE (RFC 7162 §3.1.4.1) keeps the messages with a higher MODSEQ
    /// and adds MODSEQ to their responses; VANISHED (RFC 7162 §3.2.6) first reports the set's UIDs expunged since.
    func fetch(
        _ tag: String, _ set: SequenceSet, _ attributes: [FetchAttribute], uid: Bool, changedSince: UInt64?,
        vanished: Bool = false, command: IMAPCommand
    ) {
        guard let selection = selected else { return }
        if vanished, !qresyncEnabled || changedSince == nil {
            if changedSince != nil { enableCondstore() }  // Dovecot reads CHANGEDSINCE first
            badArguments(
                tag, command,
                qresyncEnabled ? IMAPReplyText.vanishedWithoutChangedSince : IMAPReplyText.qresyncNotEnabled)
            return
        }
        guard var chosen = indexes(set, uid: uid) else {
            badArguments(tag, command, IMAPReplyText.invalidMessageset)
            return
        }
        if vanished, let changedSince {
            let uids = set == .lastSearchResult ? SequenceSet.compact(selection.savedSearch) : set
            writeVanishedEarlier(uids, since: changedSince)
        }
        var attributes = attributes
        if let changedSince {
            chosen = chosen.filter { selection.mailbox.messages[$0].modSeq > changedSince }
            if !attributes.contains(.modSeq) { attributes.append(.modSeq) }
        }
        if attributes.contains(.modSeq) { enableCondstore() }
        let plan = FetchPlan(attributes, uid: uid && !uidOnly, readOnly: selection.readOnly)
        let messages = selection.mailbox.messages
        let seenNow =
            plan.setsSeen ? chosen.filter { !messages[$0].flags.contains(.seen) }.map { messages[$0].uid } : []
        var failed = false
        for index in chosen {
            let message = selection.mailbox.messages[index]
            do {
                try writeFetch(index: index, message, plan)
            } catch is UnknownTransferEncoding {
                // Dovecot stops the FETCH there (RFC 3516 §4.3).
                complete(tag, .no, .unknownCTE, text: IMAPReplyText.unknownCTE)
                return
            } catch {
                failed = true
            }
        }
        storePreviews()
        writeSeenModSeqs(seenNow)
        writeSearchChanges(seenNow)  // a body fetch that set \Seen changed search results
        // Dovecot's `NO [EXPUNGEISSUED]` (the code is RFC 5530's, in RFC 9051's base) when a message is gone.
        let text = failed ? "Some of the requested messages no longer exist." : IMAPReplyText.fetchCompleted
        let status: IMAPStatus = failed ? .no : .ok
        let code: ResponseCode? = failed ? .expungeIssued : nil
        // RFC 3501 §7.4.1: no EXPUNGE during FETCH, but UID FETCH may report them.
        if uid { finish(tag, status, code, text: text) } else { complete(tag, status, code, text: text) }
    }

    /// A body fetch that set \Seen gave those messages new MODSEQs: with CONDSTORE they follow the FETCH
    /// responses as `* n FETCH ([UID u] MODSEQ (m))`, UID once QRESYNC or IMAP4rev2 is on (Dovecot's sync after
    /// FETCH).
    private func writeSeenModSeqs(_ uids: [UInt32]) {
        guard condstoreEnabled, let mailbox = selected?.mailbox else { return }
        for uid in uids {
            guard let index = mailbox.index(of: uid) else { continue }
            let message = mailbox.messages[index]
            guard message.flags.contains(.seen) else { continue }
            let uidItem: [FetchResponseItem] = unsolicitedFetchUID ? implicitUID(uid) : []
            send(.fetch(UInt32(index + 1), uidItem + [.modSeq(message.modSeq)]))
        }
    }

    /// Throws MailboxError, or UnknownTransferEncoding after writing the items before the failing one (or
    /// just the UID, as Dovecot does, when there were none).
    func writeFetch(index: Int, _ original: MessageInfo, _ plan: FetchPlan) throws {
        guard let mailbox = selected?.mailbox else { return }
        var message = original
        var seenChanged = false
        if plan.setsSeen, !message.flags.contains(.seen) {
            message = try mailbox.updateFlags(uids: [message.uid], .add, flags: .seen).first ?? message
            seenChanged = true
        }
        var items: [FetchResponseItem] = []
        do {
            for attribute in plan.plain { items.append(try plainItem(attribute, message)) }
            if plan.implicitFlags, seenChanged { items.append(.flags(flagList(message))) }
            for attribute in plan.data { items.append(try dataItem(attribute, message)) }
        } catch let error as UnknownTransferEncoding {
            send(.fetch(UInt32(index + 1), items.isEmpty ? [.uid(message.uid)] : items))
            throw error
        }
        send(.fetch(UInt32(index + 1), items))
    }

    private func plainItem(_ attribute: FetchAttribute, _ message: MessageInfo) throws -> FetchResponseItem {
        guard let mailbox = selected?.mailbox else { throw MailboxError.noSuchMessage(message.uid) }
        switch attribute {
        case .flags: return .flags(flagList(message))
        case .uid: return .uid(message.uid)
        case .modSeq: return .modSeq(message.modSeq)
        case .internalDate: return .internalDate(IMAPDateTime(epochSeconds: message.internalDate))
        case .saveDate: return .saveDate(mailbox.saveDate(uid: message.uid).map { IMAPDateTime(epochSeconds: $0) })
        case .emailID:
            guard let guid = mailbox.messageGUID(uid: message.uid) else {
                throw MailboxError.noSuchMessage(message.uid)
            }
            return .emailID(ObjectID.emailID(guid: guid))
        case .threadID: return .threadID(nil)
        case .preview(let snippet, let fuzzy, let lazy):
            return .preview(snippet: snippet, fuzzy: fuzzy, text: try preview(message.uid, lazy: lazy))
        case .rfc822Size: return .rfc822Size(try mailbox.virtualSize(uid: message.uid))
        case .envelope: return .envelope(try structure(message.uid).envelope)
        case .body: return .body(try structure(message.uid).body)
        case .bodyStructure: return .bodyStructure(try structure(message.uid).body)
        case .binarySize(let section):
            return .binarySize(section, size: try MessageSections(try messageBytes(message.uid)).binarySize(section))
        default: return try dataItem(attribute, message)
        }
    }

    private func dataItem(_ attribute: FetchAttribute, _ message: MessageInfo) throws -> FetchResponseItem {
        let sections = MessageSections(try messageBytes(message.uid))
        switch attribute {
        case .rfc822:
            return .rfc822(counted(sections.bytes, header: false))
        case .rfc822Header:
            return .rfc822Header(counted(sections.data(BodySection(kind: .header)), header: true))
        case .rfc822Text:
            return .rfc822Text(counted(sections.data(BodySection(kind: .text)), header: false))
        case .bodySection(let section, let partial, _):
            let data = Self.slice(sections.data(section), partial)
            return .bodySection(section, origin: partial?.offset, data: counted(data, header: section.isHeader))
        case .binary(let section, let partial, _):
            let (converted, wasDecoded) = try sections.binary(section)
            let data = Self.slice(converted, partial)
            // Headers and MIME headers go out as BODY[] sends them, in a plain literal.
            let raw = section.kind != nil && section.kind != .text
            return .binary(
                section, origin: partial?.offset, data: counted(data, header: section.isHeader, binary: !raw),
                literal8: wasDecoded || (!raw && data.contains(0)))
        default:
            return try plainItem(attribute, message)
        }
    }

    /// Counts fetched data for the logout line's hdr_*/body_* fields. NUL may only travel in a literal8
    /// (RFC 3516 §4.1): elsewhere Dovecot sends it as 0x80, and so does this.
    private func counted(_ data: [UInt8], header: Bool, binary: Bool = false) -> [UInt8] {
        if header {
            statistics.headerCount += 1
            statistics.headerBytes += data.count
        } else {
            statistics.bodyCount += 1
            statistics.bodyBytes += data.count
        }
        if !binary, data.contains(0) { return data.map { $0 == 0 ? 0x80 : $0 } }
        return data
    }

    /// `<offset.length>`: the bytes from offset on, at most length of them; empty past the end.
    static func slice(_ data: [UInt8], _ partial: Partial?) -> [UInt8] {
        guard let partial else { return data }
        let start = Int(min(partial.offset, UInt64(data.count)))
        let end = partial.length.map { start + Int(min($0, UInt64(data.count - start))) } ?? data.count
        return Array(data[start..<end])
    }

    /// The message with CRLF line ends; the last one read is kept, since one FETCH usually asks several
    /// items of the same message.
    func messageBytes(_ uid: UInt32) throws(MailboxError) -> [UInt8] {
        if let loaded = loadedMessage, loaded.uid == uid { return loaded.bytes }
        loadedStructure = nil
        guard let mailbox = selected?.mailbox else { throw MailboxError.noSuchMessage(uid) }
        let bytes = try Self.readMessage(mailbox, uid: uid)
        loadedMessage = (uid, bytes)
        return bytes
    }

    /// A whole message of any open mailbox, with CRLF line ends.
    static func readMessage(_ mailbox: any Mailbox, uid: UInt32) throws(MailboxError) -> [UInt8] {
        var reader = try mailbox.openMessage(uid: uid)
        var raw: [UInt8] = []
        raw.reserveCapacity(reader.size)
        while true {
            let chunk = try reader.read(upTo: 1 << 16)
            if chunk.isEmpty { break }
            raw += chunk
        }
        return CRLF.normalized(raw)
    }

    /// The header only (through the blank line), with CRLF line ends: what SEARCH's header keys need,
    /// without reading the body.
    func messageHeaderBytes(_ uid: UInt32) throws(MailboxError) -> [UInt8] {
        if let loaded = loadedMessage, loaded.uid == uid { return loaded.bytes }
        guard let mailbox = selected?.mailbox, let message = mailbox.message(uid: uid) else {
            throw MailboxError.noSuchMessage(uid)
        }
        // No GUID (an old uidlist): nothing identifies the mailbox, so nothing is cached.
        let key = mailbox.guid.isEmpty ? nil : mailbox.guid + "/" + message.baseName
        if let key, let cached = HeaderCache.shared.header(key) { return cached }
        var reader = try mailbox.openMessage(uid: uid)
        var raw: [UInt8] = []
        while true {
            let chunk = try reader.read(upTo: 1 << 13)
            if chunk.isEmpty { break }
            let searchFrom = max(0, raw.count - 3)
            raw += chunk
            if let end = Self.headerEnd(raw, from: searchFrom) {
                raw.removeSubrange(end...)
                break
            }
        }
        let header = CRLF.normalized(raw)
        if let key { HeaderCache.shared.store(header, for: key) }
        return header
    }

    /// The index just past the header's terminating blank line (LF or CRLF line ends), if it is in `bytes`.
    static func headerEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") {
                    return index + 3
                }
            }
            index += 1
        }
        return nil
    }

    func structure(_ uid: UInt32) throws(MailboxError) -> MessageStructure {
        let bytes = try messageBytes(uid)
        if let cached = loadedStructure { return cached }
        var parser = MessageStructureParser()
        parser.append(bytes)
        let structure = parser.finish()
        loadedStructure = structure
        return structure
    }
}

/// The FETCH items split the way Dovecot writes them.
struct FetchPlan {
    var plain: [FetchAttribute] = []
    var data: [FetchAttribute] = []
    var setsSeen = false
    /// FLAGS was not asked for but \Seen may change: FLAGS is added where it did.
    var implicitFlags = false

    init(_ attributes: [FetchAttribute], uid: Bool, readOnly: Bool) {
        if uid, !attributes.contains(.uid) { plain.append(.uid) }
        // Dovecot answers a section or preview asked for twice twice, other items once.
        for attribute in attributes where attribute.repeats || (!plain.contains(attribute) && !data.contains(attribute)) {
            if attribute.isData { data.append(attribute) } else { plain.append(attribute) }
        }
        setsSeen = !readOnly && attributes.contains(where: \.setsSeen)
        implicitFlags = setsSeen && !attributes.contains(.flags)
    }
}

extension FetchAttribute {
    /// Items Dovecot writes after the others, in the order asked: those answered with a literal, and
    /// BINARY.SIZE (worked out with BINARY's data).
    var isData: Bool {
        switch self {
        case .rfc822, .rfc822Header, .rfc822Text, .bodySection, .binary, .binarySize: return true
        default: return false
        }
    }

    /// Items whose Dovecot fetch handler has a context of its own, so it is not merged with an equal one.
    var repeats: Bool {
        switch self {
        case .bodySection, .binary, .binarySize, .preview: return true
        default: return false
        }
    }
}

extension BodySection {
    /// Header-only sections count as hdr_* in the logout statistics.
    var isHeader: Bool {
        switch kind {
        case .header, .headerFields, .headerFieldsNot, .mime: return true
        case .text, nil: return false
        }
    }
}

extension IMAPMailSession {
    /// The message's preview, made and remembered on first use; LAZY gets nil for one not made yet (as
    /// Dovecot answers NIL for one not in its cache).
    func preview(_ uid: UInt32, lazy: Bool) throws(MailboxError) -> [UInt8]? {
        guard let mailbox = selected?.mailbox else { throw MailboxError.noSuchMessage(uid) }
        if selected?.previews == nil {
            let bytes = mailbox.cacheFile(PreviewFile.name) ?? []
            let previews = PreviewFile.decode(bytes, uidValidity: mailbox.uidValidity)
            selected?.previews = previews
            selected?.previewFileSize = previews.isEmpty ? 0 : bytes.count
        }
        if let known = selected?.previews?[uid] { return known }
        if lazy { return nil }
        let text = MessagePreview.text(try messageBytes(uid))
        selected?.previews?[uid] = text
        selected?.newPreviews[uid] = text
        return text
    }

    /// Appends the previews this FETCH made to `tern.preview`; rewrites it with the live ones instead when it
    /// is not there or has grown to twice their size (expunged messages, other sessions' duplicates).
    func storePreviews() {
        guard let selection = selected, !selection.newPreviews.isEmpty, let previews = selection.previews else {
            return
        }
        let mailbox = selection.mailbox
        let records = PreviewFile.records(selection.newPreviews)
        let liveSize = previews.values.reduce(0) { $0 + 8 + $1.count }
        selected?.newPreviews = [:]
        if selection.previewFileSize > 0, selection.previewFileSize + records.count <= 2 * liveSize + 4096,
            mailbox.appendCacheFile(PreviewFile.name, records)
        {
            selected?.previewFileSize += records.count
            return
        }
        let live = previews.filter { mailbox.index(of: $0.key) != nil }
        let file = PreviewFile.encode(live, uidValidity: mailbox.uidValidity)
        mailbox.storeCacheFile(PreviewFile.name, file)
        selected?.previews = live
        selected?.previewFileSize = file.count
    }
}
