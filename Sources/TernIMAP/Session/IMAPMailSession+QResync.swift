import TernMailbox

/// QRESYNC (RFC 7162 §3.2): resynchronisation on SELECT, VANISHED responses and HIGHESTMODSEQ reports.
extension IMAPMailSession {
    /// ENABLE QRESYNC, which implies CONDSTORE (§3.2.3).
    func enableQResync() {
        enableCondstore()
        qresyncEnabled = true
    }

    /// After a sync: the mailbox's HIGHESTMODSEQ when the client was not told it yet, neither by an earlier
    /// report nor by the MODSEQ of a FETCH response since (Dovecot's imap_sync_send_highestmodseq).
    func unreportedHighestModSeq() -> UInt64? {
        guard qresyncEnabled, let highest = selected?.mailbox.highestModSeq else { return nil }
        defer {
            lastReportedModSeq = highest
            highestFetchedModSeq = 0
        }
        return highest > lastReportedModSeq && highest > highestFetchedModSeq ? highest : nil
    }

    /// The untagged form, for IDLE, whose tagged reply Dovecot leaves alone.
    func writeUnreportedHighestModSeq() {
        if let modSeq = unreportedHighestModSeq() {
            send(.untagged(.ok, .highestModSeq(modSeq), IMAPReplyText.highest))
        }
    }

    /// §3.2.5: after SELECT's untagged responses, what changed since the client's state: `* VANISHED (EARLIER)`
    /// and `* n FETCH (UID u FLAGS (...) MODSEQ (m))`, both only for the known UIDs when the client named them.
    /// Nothing when the UIDVALIDITY differs: the client then starts over.
    func writeResync(_ parameters: QResyncParameters) {
        guard let mailbox = selected?.mailbox, parameters.uidValidity == mailbox.uidValidity else { return }
        let known = parameters.knownUIDs
        var floor: UInt32 = 0
        if let match = parameters.sequenceMatch {
            // §3.2.5.2: where a client's message number still holds its UID, no message below it was expunged.
            for (sequence, uid) in zip(match.sequences, match.uids) where sequence >= 1 {
                if Int(sequence) <= mailbox.messages.count, mailbox.messages[Int(sequence) - 1].uid == uid {
                    floor = max(floor, uid)
                }
            }
        }
        // A MODSEQ above HIGHESTMODSEQ comes from an index that was lost: everything counts as changed.
        let modSeq = parameters.modSeq <= mailbox.highestModSeq ? parameters.modSeq : 0
        let vanished = vanishedUIDs(since: modSeq, in: known ?? .ranges([SequenceRange(.number(1), .last)]))
            .filter { $0.upperBound > floor }
            .map { max($0.lowerBound, floor + 1)...$0.upperBound }
        if !vanished.isEmpty { send(.vanished(Self.uidSet(vanished), earlier: true)) }
        for (index, message) in mailbox.messages.enumerated() where message.modSeq > modSeq {
            if let known, !known.contains(message.uid, largest: UInt32.max) { continue }
            send(
                .fetch(
                    UInt32(index + 1),
                    implicitUID(message.uid) + [.flags(flagList(message)), .modSeq(message.modSeq)]))
        }
    }

    /// UIDs in `set` expunged after `modSeq`, as ranges. `*` in the set stands for every UID ever given. When
    /// tern.index no longer remembers that far back, every UID below UIDNEXT that is not in the mailbox counts
    /// (§3.2.5.2 lets a server report UIDs the client may not have had).
    func vanishedUIDs(since modSeq: UInt64, in set: SequenceSet) -> [ClosedRange<UInt32>] {
        guard let mailbox = selected?.mailbox, mailbox.nextUID > 1 else { return [] }
        if let exact = mailbox.expungedUIDs(since: modSeq) {
            let kept = SequenceSet.compact(exact.filter { set.contains($0, largest: UInt32.max) })
            guard case .ranges(let ranges) = kept else { return [] }
            return ranges.map { $0.resolved(largest: UInt32.max) }
        }
        guard case .ranges(let wanted) = set else { return [] }
        var missing: [ClosedRange<UInt32>] = []
        var next: UInt64 = 1  // 64 bits: the UID after 2^32-1
        for message in mailbox.messages {
            if message.uid > next { missing.append(UInt32(next)...(message.uid - 1)) }
            next = UInt64(message.uid) + 1
        }
        if next < mailbox.nextUID { missing.append(UInt32(next)...(mailbox.nextUID - 1)) }
        var out: [ClosedRange<UInt32>] = []
        for gap in missing {
            for range in wanted {
                let bounds = range.resolved(largest: UInt32.max)
                guard bounds.overlaps(gap) else { continue }
                out.append(max(bounds.lowerBound, gap.lowerBound)...min(bounds.upperBound, gap.upperBound))
            }
        }
        return Self.merged(out)
    }

    /// UID FETCH ... (CHANGEDSINCE n VANISHED) (§3.2.6): the expunged UIDs of the set, before the FETCHes.
    func writeVanishedEarlier(_ set: SequenceSet, since modSeq: UInt64) {
        let vanished = vanishedUIDs(since: modSeq, in: set)
        if !vanished.isEmpty { send(.vanished(Self.uidSet(vanished), earlier: true)) }
    }

    /// Sorted, overlapping or adjacent ranges joined.
    static func merged(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, last.upperBound == UInt32.max || range.lowerBound <= last.upperBound + 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                out.append(range)
            }
        }
        return out
    }

    static func uidSet(_ ranges: [ClosedRange<UInt32>]) -> SequenceSet {
        .ranges(ranges.map { SequenceRange(.number($0.lowerBound), .number($0.upperBound)) })
    }
}
