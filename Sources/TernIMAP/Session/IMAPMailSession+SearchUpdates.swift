import TernMailbox

/// A SEARCH RETURN (UPDATE) whose result the client is kept told about (RFC 5267 §4.3).
struct SearchUpdate {
    let tag: String
    let uid: Bool
    /// The key with `$` resolved when the search ran: a later SAVE does not change this search.
    let key: SearchKey
    /// The UIDs in the result as the client knows it.
    var matches: Set<UInt32>
}

/// CONTEXT=SEARCH (RFC 5267 §4): `* ESEARCH (TAG "t") [UID] REMOVEFROM (0 set)` / `ADDTO (0 set)` when messages
/// leave or join a kept result, as Dovecot 2.3 words them (no positions; UIDs for UID SEARCH, message numbers
/// otherwise).
extension IMAPMailSession {
    /// CANCELUPDATE: stops the updates of the searches with these tags; `NO Unknown tag` when one has none.
    func cancelUpdates(_ tag: String, _ tags: [String]) {
        let known = Set(selected?.searchUpdates.map(\.tag) ?? [])
        selected?.searchUpdates.removeAll { tags.contains($0.tag) }
        if tags.allSatisfy(known.contains) {
            complete(tag, text: IMAPReplyText.updatesCancelled)
        } else {
            complete(tag, .no, text: IMAPReplyText.unknownTag)
        }
    }

    /// Before expunges are announced: the kept results lose those messages, named by the numbers the
    /// client still has (`before`: the UIDs in order before the expunge).
    func writeSearchRemovals(_ expunged: [UInt32], before: [UInt32]) {
        guard let updates = selected?.searchUpdates, !updates.isEmpty, !expunged.isEmpty else { return }
        var sequence: [UInt32: UInt32] = [:]
        for (index, uid) in before.enumerated() { sequence[uid] = UInt32(index + 1) }
        for (position, update) in updates.enumerated() {
            let gone = expunged.filter { update.matches.contains($0) }
            guard !gone.isEmpty else { continue }
            selected?.searchUpdates[position].matches.subtract(gone)
            writeSearchUpdate(update, removed: update.uid ? gone : gone.compactMap { sequence[$0] }, added: [])
        }
    }

    /// After the FETCH responses for changed or new messages: each kept search is run again on them.
    func writeSearchChanges(_ uids: [UInt32]) {
        guard let selection = selected, !selection.searchUpdates.isEmpty, !uids.isEmpty else { return }
        let indexes = Set(uids).compactMap { selection.mailbox.index(of: $0) }.sorted()
        let now = configuration.now()
        for (position, update) in selection.searchUpdates.enumerated() {
            var added: [UInt32] = []
            var removed: [UInt32] = []
            for index in indexes {
                let uid = selection.mailbox.messages[index].uid
                let matches = searchCandidate(index, in: selection.mailbox, now: now).matches(update.key)
                guard matches != update.matches.contains(uid) else { continue }
                if matches {
                    added.append(update.uid ? uid : UInt32(index + 1))
                    selected?.searchUpdates[position].matches.insert(uid)
                } else {
                    removed.append(update.uid ? uid : UInt32(index + 1))
                    selected?.searchUpdates[position].matches.remove(uid)
                }
            }
            writeSearchUpdate(update, removed: removed, added: added)
        }
    }

    private func writeSearchUpdate(_ update: SearchUpdate, removed: [UInt32], added: [UInt32]) {
        for (numbers, adding) in [(removed, false), (added, true)] where !numbers.isEmpty {
            var response = ESearchResponse(tag: update.tag, uid: update.uid)
            if adding {
                response.addTo = SequenceSet.compact(numbers.sorted())
            } else {
                response.removeFrom = SequenceSet.compact(numbers.sorted())
            }
            send(.esearch(response))
        }
    }
}
