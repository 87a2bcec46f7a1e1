import TernMailbox

/// CONDSTORE (RFC 7162 §3.1) state shared by the commands that use it.
extension IMAPMailSession {
    /// Whether this session advertises CONDSTORE (or a command already enabled it): SELECT then reports
    /// HIGHESTMODSEQ.
    var reportsModSeqs: Bool {
        condstoreEnabled || configuration.capabilities.contains { $0.uppercased() == "CONDSTORE" }
    }

    /// A CONDSTORE-enabling command (§3.1: ENABLE, SELECT (CONDSTORE), FETCH MODSEQ or CHANGEDSINCE, SEARCH
    /// MODSEQ, STORE UNCHANGEDSINCE). The first one while a mailbox is selected reports its HIGHESTMODSEQ,
    /// as Dovecot does before the command's own responses.
    func enableCondstore() {
        guard !condstoreEnabled else { return }
        condstoreEnabled = true
        if let mailbox = selected?.mailbox {
            send(.untagged(.ok, .highestModSeq(mailbox.highestModSeq), IMAPReplyText.highest))
        }
    }
}

extension SearchKey {
    /// Whether a MODSEQ key appears anywhere: the SEARCH response then ends in `(MODSEQ n)` (§3.1.5).
    var mentionsModSeq: Bool {
        switch self {
        case .modSeq: return true
        case .not(let inner): return inner.mentionsModSeq
        case .or(let a, let b): return a.mentionsModSeq || b.mentionsModSeq
        case .and(let keys): return keys.contains { $0.mentionsModSeq }
        default: return false
        }
    }
}
