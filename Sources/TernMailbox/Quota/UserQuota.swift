/// A user's quota roots (`quota`, `quota2`, ...): a save is checked against every root that covers the
/// mailbox, and each root runs its own warnings after a save or an expunge, as Dovecot 2.3's quota plugin.
public struct UserQuota: Sendable {
    public let roots: [MailQuota]

    public init(roots: [MailQuota]) { self.roots = roots }

    public init?(settings: [QuotaSettings], store: MailStore, warningPrograms: [String: [String]] = [:]) {
        guard !settings.isEmpty else { return nil }
        roots = settings.map { MailQuota(settings: $0, store: store, warningPrograms: warningPrograms) }
    }

    /// The root named `name` (GETQUOTA), hidden ones included.
    public func root(named name: String) -> MailQuota? { roots.first { $0.settings.name == name } }

    /// Throws `overQuota` when saving `adding` into `mailbox` would go over any root's limits; returns each
    /// root's usage before (for `saved`).
    /// `movingFrom`: the source mailbox of a MOVE. A root that counts it already keeps its usage, so only the
    /// other roots check the move (Dovecot's quota_move_requires_check).
    public func check(
        _ mailbox: String, adding: QuotaAmount, grace: Bool = false, movingFrom source: String? = nil
    ) throws(MailboxError) -> [QuotaAmount] {
        var before: [QuotaAmount] = []
        for root in roots {
            if let source, root.settings.covers(source) {
                before.append(try root.usage())
            } else {
                before.append(try root.check(mailbox, adding: adding, grace: grace))
            }
        }
        return before
    }

    /// After a save: updates the counters the store does not keep and runs each root's warning. The expunge
    /// that ends a MOVE takes the messages off the source again, so a root that counts the source gives no
    /// warning for a move.
    public func saved(_ mailbox: String, before: [QuotaAmount], adding: QuotaAmount, movingFrom source: String? = nil) {
        for (root, usage) in zip(roots, before) where root.settings.covers(mailbox) {
            root.record(mailbox, bytes: Int64(adding.bytes), count: Int64(adding.messages))
            if let source, root.settings.covers(source) { continue }
            root.warn(before: usage, after: usage.adding(adding))
        }
    }

    /// Each root's usage before an expunge, read only when an expunge changes something beyond the store's own
    /// files (a downward warning, dict counters); nil otherwise.
    public func usageBeforeExpunge() -> [QuotaAmount]? {
        guard roots.contains(where: { $0.settings.backend == .dict || $0.settings.warnings.contains(where: \.reverse) })
        else { return nil }
        return roots.map { (try? $0.usage()) ?? QuotaAmount() }
    }

    /// After an expunge from `mailbox`: the dict counters drop, and `-storage=` warnings run when the usage
    /// went below their limit.
    public func expunged(_ mailbox: String, before: [QuotaAmount]?, removing: QuotaAmount) {
        guard let before, removing != QuotaAmount() else { return }
        for (root, usage) in zip(roots, before) where root.settings.covers(mailbox) {
            root.record(mailbox, bytes: -Int64(removing.bytes), count: -Int64(removing.messages))
            root.warn(before: usage, after: usage.removing(removing))
        }
    }
}

extension QuotaAmount {
    func adding(_ other: QuotaAmount) -> QuotaAmount {
        QuotaAmount(bytes: bytes + other.bytes, messages: messages + other.messages)
    }

    func removing(_ other: QuotaAmount) -> QuotaAmount {
        QuotaAmount(
            bytes: bytes > other.bytes ? bytes - other.bytes : 0,
            messages: messages > other.messages ? messages - other.messages : 0)
    }
}

extension MailStoreSettings {
    /// These settings with the `ignore` rules of the maildir backend's roots, whose mailboxes write no
    /// `maildirsize` lines.
    public func ignoringInMaildirSize(_ roots: [QuotaSettings]) -> MailStoreSettings {
        var settings = self
        for root in roots where root.backend == .maildir { settings.maildirSizeIgnored.formUnion(root.ignoredMailboxes) }
        return settings
    }
}
