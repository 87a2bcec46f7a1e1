import Glibc

/// One quota root as Dovecot 2.3's quota plugin keeps it: usage from `maildirsize` (`quota = maildir`, Maildir
/// only, as Dovecot skips other formats), counted from the mailboxes (`quota = count`), the sizes of the files
/// under the mail root (`quota = dirsize`) or a dict-file's counters (`quota = dict`); limits from the rules, the
/// checks before a save, and the warnings after a save or an expunge.
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
    public var isActive: Bool { settings.backend != .maildir || store.settings.format == .maildir }

    /// The dict backend's keys (Dovecot's DICT_QUOTA_CURRENT_BYTES_PATH and _COUNT_PATH).
    static let dictStorageKey = "priv/quota/storage"
    static let dictMessagesKey = "priv/quota/messages"

    /// Maildir directories of the mailboxes `ignore` rules leave out.
    private var ignoredFolders: Set<String> {
        Set(settings.ignoredMailboxes.compactMap { try? store.folderPath(store.normalize($0)) })
    }

    /// The current usage; the maildir backend rewrites `maildirsize` when it has to be recounted.
    public func usage() throws(MailboxError) -> QuotaAmount {
        guard isActive else { return QuotaAmount() }
        let root = store.root
        switch settings.backend {
        case .maildir:
            // Without limits Dovecot keeps no maildirsize.
            if settings.limits == QuotaAmount() { return MaildirSizeFile.count(root: root, skipping: ignoredFolders) }
            if let usage = MaildirSizeFile.read(root: root, limits: settings.limits, now: now()) { return usage }
            return try MaildirSizeFile.recalculate(root: root, limits: settings.limits, skipping: ignoredFolders)
        case .count:
            return try countMessages()
        case .dirsize:
            return Self.directorySize(root)
        case .dict:
            let dict = try DictFile(path: settings.dictPath ?? "").read()
            func value(_ key: String) -> UInt64? {
                dict.last { $0.key == key }.flatMap { UInt64(String(decoding: $0.value, as: UTF8.self)) }
            }
            if let bytes = value(Self.dictStorageKey) {
                return QuotaAmount(bytes: bytes, messages: value(Self.dictMessagesKey) ?? 0)
            }
            return try recalculate()
        }
    }

    /// The messages of every mailbox the root covers.
    private func countMessages() throws(MailboxError) -> QuotaAmount {
        if store.settings.format == .maildir, settings.namespacePrefix?.isEmpty ?? true {
            return MaildirSizeFile.count(root: store.root, skipping: ignoredFolders)
        }
        var usage = QuotaAmount()
        let names = try store.listMailboxes().filter { $0.attributes.isDisjoint(with: [.noSelect, .nonExistent]) }
        for name in names.map(\.name) where settings.covers(name) {
            guard let mailbox = try? store.openMailbox(name, readOnly: true) else { continue }
            usage.messages += UInt64(mailbox.messages.count)
            usage.bytes += mailbox.messages.reduce(0) { $0 + UInt64($1.size) }
        }
        return usage
    }

    /// Dovecot's dirsize: the sizes of every file under the mail root (index files too), read on every call.
    static func directorySize(_ directory: String) -> QuotaAmount {
        var usage = QuotaAmount()
        for entry in Posix.directoryEntries(directory) ?? [] where entry != "." && entry != ".." {
            let path = directory + "/" + entry
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            if (status.st_mode & S_IFMT) == S_IFDIR {
                let inner = directorySize(path)
                usage.bytes += inner.bytes
                usage.messages += inner.messages
            } else {
                usage.bytes += UInt64(status.st_size)
                usage.messages += 1
            }
        }
        return usage
    }

    /// `doveadm quota recalc`: recounts; the maildir backend rewrites `maildirsize`, the dict backend its
    /// counters.
    @discardableResult
    public func recalculate() throws(MailboxError) -> QuotaAmount {
        guard isActive else { return QuotaAmount() }
        switch settings.backend {
        case .maildir:
            return try MaildirSizeFile.recalculate(root: store.root, limits: settings.limits, skipping: ignoredFolders)
        case .count, .dirsize:
            return try usage()
        case .dict:
            let usage = try countMessages()
            try DictFile(path: settings.dictPath ?? "").update { pairs in
                pairs.removeAll { $0.key == Self.dictStorageKey || $0.key == Self.dictMessagesKey }
                pairs.append((Self.dictMessagesKey, Array(String(usage.messages).utf8)))
                pairs.append((Self.dictStorageKey, Array(String(usage.bytes).utf8)))
            }
            return usage
        }
    }

    /// Records a change the store does not record itself: the dict backend adds `bytes` and `count` to its
    /// counters (the maildir backend's `maildirsize` lines are written by the store).
    public func record(_ mailbox: String, bytes: Int64, count: Int64) {
        guard settings.backend == .dict, settings.covers(mailbox), bytes != 0 || count != 0 else { return }
        try? DictFile(path: settings.dictPath ?? "").update { pairs in
            // Missing counters stay missing: the next read counts the mailboxes.
            guard pairs.contains(where: { $0.key == Self.dictStorageKey }) else { return }
            for (key, delta) in [(Self.dictStorageKey, bytes), (Self.dictMessagesKey, count)] {
                let index = pairs.lastIndex { $0.key == key }
                let old = index.flatMap { Int64(String(decoding: pairs[$0].value, as: UTF8.self)) } ?? 0
                let value = Array(String(max(0, old + delta)).utf8)
                if let index { pairs[index].value = value } else { pairs.append((key, value)) }
            }
        }
    }

    /// Throws `overQuota` when saving `adding` into `mailbox` would go over its limits. `grace` (deliveries)
    /// lets a save that starts under the storage limit end up to quota_grace over it. Returns the usage
    /// before, for `warn`.
    @discardableResult
    public func check(_ mailbox: String, adding: QuotaAmount, grace: Bool = false) throws(MailboxError) -> QuotaAmount {
        let current = try usage()
        guard isActive, settings.enforcing, settings.covers(mailbox) else { return current }
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
