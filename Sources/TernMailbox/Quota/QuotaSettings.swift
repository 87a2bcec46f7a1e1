/// One quota root of Dovecot 2.3's quota plugin (`plugin { quota = maildir:User quota  quota_rule = ... }`, and
/// `quota2 = count:Archive` with `quota2_rule`, `quota2_warning`, `quota2_grace` for a second root), values
/// already expanded (%u, %%).
public struct QuotaSettings: Sendable, Equatable {
    /// How usage is known: Maildir++'s `maildirsize` file, counted from the mailboxes, the sizes of every file
    /// under the mail root (Dovecot's deprecated dirsize), or counters in a dict-file.
    public enum Backend: String, Sendable {
        case maildir
        case count
        case dirsize
        case dict
    }

    /// `quota_warning = storage=95%% quota-warning 95 %u`: when usage crosses `limits` upwards (downwards when
    /// `reverse`, written `-storage=...`), `command` runs.
    public struct Warning: Sendable, Equatable {
        public var limits: QuotaAmount
        public var reverse: Bool
        /// The service name and its arguments, as written.
        public var command: [String]
    }

    public var backend: Backend
    /// The quota root's name (GETQUOTAROOT, GETQUOTA).
    public var name: String
    /// The `*` rule (the root's limits, also the `maildirsize` header).
    public var limits: QuotaAmount
    /// Mailbox rules (`Trash:storage=+100M`) as limits already resolved against the `*` rule.
    public var mailboxLimits: [String: QuotaAmount]
    /// Mailboxes of `Trash:ignore` rules: not counted, not checked.
    public var ignoredMailboxes: Set<String>
    /// `noenforcing`: usage is kept, nothing is refused.
    public var enforcing: Bool
    /// `hidden`: left out of GETQUOTAROOT (GETQUOTA and doveadm still show it).
    public var hidden: Bool
    /// `ns=PREFIX`: the root covers only the mailboxes of that namespace.
    public var namespacePrefix: String?
    /// The `file:` dict of the dict backend.
    public var dictPath: String?
    public var warnings: [Warning]
    /// quota_grace in bytes: a delivery (LMTP) that starts under the limit may end this far over it.
    public var graceBytes: UInt64
    /// quota_exceeded_message.
    public var exceededMessage: String

    public static let defaultExceededMessage = "Quota exceeded (mailbox for user is full)"

    /// The limits that apply to saving into `mailbox` (its own rule, else the `*` rule).
    public func limits(for mailbox: String) -> QuotaAmount { mailboxLimits[mailbox] ?? limits }

    /// Whether the root counts and checks `mailbox` (its namespace, no `ignore` rule).
    public func covers(_ mailbox: String) -> Bool { !ignoredMailboxes.contains(mailbox) && inNamespace(mailbox) }

    /// Whether `mailbox` is in the root's namespace (GETQUOTAROOT lists the root for it).
    public func inNamespace(_ mailbox: String) -> Bool {
        guard let prefix = namespacePrefix, !prefix.isEmpty else { return true }
        return mailbox.hasPrefix(prefix)
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Every quota root: `quota`, `quota2`, `quota3`, ... while they are set, as Dovecot reads them.
    public static func roots(_ plugin: [String: String]) throws(ParseError) -> [QuotaSettings] {
        var roots: [QuotaSettings] = []
        for setting in numberedKeys("quota", plugin) {
            do {
                if let root = try parse(plugin, root: setting) { roots.append(root) }
            } catch {
                throw ParseError(description: "Quota root \(rootName(plugin[setting] ?? "")): \(error.description)")
            }
        }
        return roots
    }

    /// The name part of `backend:name:...`, for error messages.
    private static func rootName(_ value: String) -> String {
        let parts = value.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count > 1 ? String(parts[1]) : String(parts[0])
    }

    /// The settings of the root set by `root` (`quota`, `quota2`, ...); nil when it is not set. Throws Dovecot's
    /// complaint about a setting it would refuse.
    public static func parse(_ plugin: [String: String], root: String = "quota") throws(ParseError) -> QuotaSettings? {
        guard let value = plugin[root], !value.isEmpty else { return nil }
        let parts = value.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let backend: Backend
        switch parts[0] {
        case "maildir", "count", "dirsize", "dict": backend = Backend(rawValue: parts[0])!
        case "fs":
            // quotactl(2) needs the user's filesystem quota set up by the admin; Tern does not read it.
            throw ParseError(description: "quota backend fs (filesystem quota) is not supported by Tern: use maildir, count, dirsize or dict")
        default: throw ParseError(description: "Unknown quota backend: \(parts[0])")
        }
        var settings = QuotaSettings(
            backend: backend, name: parts.count > 1 ? parts[1] : "", limits: QuotaAmount(), mailboxLimits: [:],
            ignoredMailboxes: [], enforcing: true, hidden: false, warnings: [], graceBytes: 0,
            exceededMessage: plugin["quota_exceeded_message"].flatMap { $0.isEmpty ? nil : $0 }
                ?? defaultExceededMessage)
        if parts.count > 2 { try settings.parseParameters(parts[2]) }
        if backend == .dict, settings.dictPath == nil { throw ParseError(description: "URI missing from parameters") }
        try settings.parseRules(numberedKeys(root + "_rule", plugin).compactMap { plugin[$0] })
        let grace = plugin[root + "_grace"] ?? "10%"
        settings.graceBytes = try Self.value(grace, unit: 1, base: settings.limits.bytes, adds: false)
        for text in numberedKeys(root + "_warning", plugin).compactMap({ plugin[$0] }) {
            var words = text.split(separator: " ").map(String.init)
            guard !words.isEmpty else { continue }
            var rule = words.removeFirst()
            let reverse = rule.hasPrefix("-")
            if reverse { rule.removeFirst() }
            settings.warnings.append(
                Warning(
                    limits: try limits(rule, start: QuotaAmount(), base: settings.limits, adds: false), reverse: reverse,
                    command: words))
        }
        return settings
    }

    /// `noenforcing:hidden:ns=PREFIX:...` after the name; the dict backend takes a user name first (empty: the
    /// session's) and ends with the dict's URI.
    private mutating func parseParameters(_ text: String) throws(ParseError) {
        var rest = Substring(text)
        if backend == .dict {
            guard let colon = rest.firstIndex(of: ":") else { throw ParseError(description: "URI missing from parameters") }
            rest = rest[rest.index(after: colon)...]
        }
        while !rest.isEmpty {
            let end = rest.firstIndex(of: ":") ?? rest.endIndex
            let option = rest[..<end]
            switch option {
            case "noenforcing": enforcing = false
            case "hidden": hidden = true
            case "ignoreunlimited", "no-unset": break
            case _ where option.hasPrefix("ns="): namespacePrefix = String(option.dropFirst(3))
            default:
                guard backend == .dict else { throw ParseError(description: "Invalid parameter: \(option)") }
                // The rest is the dict's URI.
                guard rest.hasPrefix("file:") else {
                    throw ParseError(description: "dict quota: only file: dicts are supported by Tern: \(rest)")
                }
                dictPath = String(rest.dropFirst(5))
                return
            }
            rest = end == rest.endIndex ? "" : rest[rest.index(after: end)...]
        }
    }

    /// quota_rule, quota_rule2, ... in order. Rules for the same mailbox add up, each setting only the limits it
    /// names (Dovecot's quota_root_add_rule); mailbox rules are worked out against the final `*` rule.
    private mutating func parseRules(_ rules: [String]) throws(ParseError) {
        var mailboxRules: [(String, [String])] = []
        for rule in rules {
            guard let colon = rule.firstIndex(of: ":") else {
                throw ParseError(description: "Invalid rule \(rule): Mailbox name not given")
            }
            let mailbox = String(rule[..<colon])
            let definition = String(rule[rule.index(after: colon)...])
            if definition == "ignore" {
                ignoredMailboxes.insert(mailbox)
            } else if mailbox == "*" || mailbox == "?" {
                limits = try Self.limits(definition, start: limits, base: nil)
            } else if let index = mailboxRules.firstIndex(where: { $0.0 == mailbox }) {
                mailboxRules[index].1.append(definition)
            } else {
                mailboxRules.append((mailbox, [definition]))
            }
        }
        for (mailbox, definitions) in mailboxRules {
            var mailboxLimits = limits
            for definition in definitions { mailboxLimits = try Self.limits(definition, start: mailboxLimits, base: limits) }
            self.mailboxLimits[mailbox] = mailboxLimits
        }
    }

    /// `NAME`, `NAME2`, `NAME3`, ... while they are set (Dovecot stops at the first missing one).
    private static func numberedKeys(_ name: String, _ plugin: [String: String]) -> [String] {
        var keys: [String] = []
        var key = name
        var index = 2
        while let value = plugin[key], !value.isEmpty {
            keys.append(key)
            key = name + String(index)
            index += 1
        }
        return keys
    }

    /// `storage=1G messages=1000` (space or comma separated) over `start`. With a `base` (mailbox rules) each
    /// value adds to it, as in Dovecot 2.3 (`Trash:storage=+100M` and `Trash:storage=100M` both mean 100M more
    /// than `*`, `-` less), and percentages are of it; warnings (`adds` false) take absolute values or
    /// percentages of it.
    private static func limits(_ text: String, start: QuotaAmount, base: QuotaAmount?, adds: Bool = true) throws(ParseError)
        -> QuotaAmount
    {
        var limits = start
        let adds = adds && base != nil
        for item in text.split(whereSeparator: { $0 == " " || $0 == "," }) {
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            let key = pair[0].lowercased()
            let value = pair.count > 1 ? pair[1] : ""
            switch key {
            case "storage":
                limits.bytes = try Self.value(value, unit: 1024, base: base?.bytes ?? 0, adds: adds)
            case "bytes":
                limits.bytes = try Self.value(value, unit: 1, base: base?.bytes ?? 0, adds: adds)
            case "messages":
                limits.messages = try Self.value(value, unit: 1, base: base?.messages ?? 0, adds: adds)
            case "backend":
                // Backend-specific (fs, dict): nothing for the backends Tern has.
                continue
            default:
                throw ParseError(description: "Unknown rule limit name: \(key)")
            }
        }
        return limits
    }

    /// A limit: digits with an optional unit suffix (b k M G T, `unit` when none) or `NN%` of `base`; when it
    /// `adds`, the result is `base` plus (or with `-`, minus) that.
    static func value(_ text: String, unit: UInt64, base: UInt64, adds: Bool) throws(ParseError) -> UInt64 {
        var text = Substring(text)
        var subtract = false
        if adds, let first = text.first, first == "+" || first == "-" {
            subtract = first == "-"
            text = text.dropFirst()
        }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard let number = UInt64(digits) else { throw ParseError(description: "Invalid limit: \(text)") }
        let suffix = text.dropFirst(digits.count).lowercased()
        var amount: UInt64
        switch suffix {
        case "": amount = number * unit
        case "%": amount = base * number / 100
        case "b": amount = number
        case "k", "kb": amount = number << 10
        case "m", "mb": amount = number << 20
        case "g", "gb": amount = number << 30
        case "t", "tb": amount = number << 40
        default: throw ParseError(description: "Unknown unit: \(suffix)")
        }
        guard adds else { return amount }
        return subtract ? (base > amount ? base - amount : 0) : base + amount
    }
}

/// Storage in bytes and a number of messages: a usage, or a limit (0 is unlimited).
public struct QuotaAmount: Sendable, Equatable {
    public var bytes: UInt64
    public var messages: UInt64

    public init(bytes: UInt64 = 0, messages: UInt64 = 0) {
        self.bytes = bytes
        self.messages = messages
    }
}
