import Glibc

/// A user's quota as Dovecot 2.3's quota plugin keeps it: usage from `maildirsize` (`quota = maildir`, Maildir
/// only, as Dovecot skips other formats) or counted from the mailboxes (`quota = count`), limits from the rules,
/// the checks before a save, and the warnings after one.
public struct MailQuota: Sendable {
    public let settings: QuotaSettings
    public let store: MailStore
    /// The warning commands' programs by service name (`service quota-warning { executable = script PATH }`).
    public var warningPrograms: [String: [String]]
    /// Seconds since the epoch, for the age of an over-quota `maildirsize`.
    public var now: @Sendable () -> Int = { Int(time(nil)) }

    public init(settings: QuotaSettings, store: MailStore, warningPrograms: [String: [String]] = [:]) {
        self.settings = settings
        self.store = store
        self.warningPrograms = warningPrograms
    }

    /// Whether the backend applies to this store (the maildir backend does not count mbox mailboxes).
    public var isActive: Bool { settings.backend == .count || store.settings.format == .maildir }

    /// The current usage; the maildir backend rewrites `maildirsize` when it has to be recounted.
    public func usage() throws(MailboxError) -> QuotaAmount {
        guard isActive else { return QuotaAmount() }
        let root = store.root
        switch settings.backend {
        case .maildir:
            // Without limits Dovecot keeps no maildirsize.
            if settings.limits == QuotaAmount() { return MaildirSizeFile.count(root: root) }
            if let usage = MaildirSizeFile.read(root: root, limits: settings.limits, now: now()) { return usage }
            return try MaildirSizeFile.recalculate(root: root, limits: settings.limits)
        case .count:
            if store.settings.format == .maildir { return MaildirSizeFile.count(root: root) }
            var usage = QuotaAmount()
            let names = try store.listMailboxes().filter { $0.attributes.isDisjoint(with: [.noSelect, .nonExistent]) }
            for name in names.map(\.name) {
                guard let mailbox = try? store.openMailbox(name, readOnly: true) else { continue }
                usage.messages += UInt64(mailbox.messages.count)
                usage.bytes += mailbox.messages.reduce(0) { $0 + UInt64($1.size) }
            }
            return usage
        }
    }

    /// `doveadm quota recalc`: recounts; the maildir backend rewrites `maildirsize`.
    @discardableResult
    public func recalculate() throws(MailboxError) -> QuotaAmount {
        guard isActive, settings.backend == .maildir else { return try usage() }
        return try MaildirSizeFile.recalculate(root: store.root, limits: settings.limits)
    }

    /// Throws `overQuota` when saving `adding` into `mailbox` would go over its limits. `grace` (deliveries)
    /// lets a save that starts under the storage limit end up to quota_grace over it. Returns the usage
    /// before, for `warn`.
    @discardableResult
    public func check(_ mailbox: String, adding: QuotaAmount, grace: Bool = false) throws(MailboxError) -> QuotaAmount {
        let current = try usage()
        guard isActive, settings.enforcing else { return current }
        let limits = settings.limits(for: mailbox)
        if limits.messages > 0 && current.messages + adding.messages > limits.messages {
            throw MailboxError.overQuota(settings.exceededMessage)
        }
        if limits.bytes > 0 {
            let room = current.bytes < limits.bytes ? limits.bytes - current.bytes + (grace ? settings.graceBytes : 0) : 0
            if adding.bytes > room { throw MailboxError.overQuota(settings.exceededMessage) }
        }
        return current
    }

    /// Runs the first quota_warning whose limit the usage crossed from `before` to `after` (upwards, or
    /// downwards for `-storage=`), as Dovecot runs one warning per save.
    public func warn(before: QuotaAmount, after: QuotaAmount) {
        for warning in settings.warnings where Self.crossed(warning, before, after) {
            run(warning.command)
            return
        }
    }

    static func crossed(_ warning: QuotaSettings.Warning, _ before: QuotaAmount, _ after: QuotaAmount) -> Bool {
        func crossed(_ before: UInt64, _ after: UInt64, _ limit: UInt64) -> Bool {
            guard limit > 0 else { return false }
            return warning.reverse ? before >= limit && after < limit : before < limit && after >= limit
        }
        return crossed(before.bytes, after.bytes, warning.limits.bytes)
            || crossed(before.messages, after.messages, warning.limits.messages)
    }

    /// Dovecot hands the command to the service named by its first word, whose `script` program runs it with
    /// the rest as arguments; Tern runs that program directly, as the user, and waits for it.
    private func run(_ command: [String]) {
        guard let service = command.first, let program = warningPrograms[service], !program.isEmpty else { return }
        let argv = program + command.dropFirst()
        var pid: pid_t = 0
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        guard posix_spawn(&pid, argv[0], nil, nil, &cArguments, environ) == 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
