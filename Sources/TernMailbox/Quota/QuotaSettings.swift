/// Dovecot 2.3's quota plugin settings for one user (`plugin { quota = maildir:User quota  quota_rule = ... }`),
/// values already expanded (%u, %%). One quota root: `quota2` and later roots are not read.
public struct QuotaSettings: Sendable, Equatable {
    /// How usage is known: Maildir++'s `maildirsize` file, or counted from the mailboxes.
    public enum Backend: String, Sendable {
        case maildir
        case count
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
    /// `noenforcing`: usage is kept, nothing is refused.
    public var enforcing: Bool
    public var warnings: [Warning]
    /// quota_grace in bytes: a delivery (LMTP) that starts under the limit may end this far over it.
    public var graceBytes: UInt64
    /// quota_exceeded_message.
    public var exceededMessage: String

    public static let defaultExceededMessage = "Quota exceeded (mailbox for user is full)"

    /// The limits that apply to saving into `mailbox` (its own rule, else the `*` rule).
    public func limits(for mailbox: String) -> QuotaAmount { mailboxLimits[mailbox] ?? limits }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The settings from the `plugin { }` values; nil when `quota` is not set. Throws Dovecot's complaint about
    /// a setting it would refuse.
    public static func parse(_ plugin: [String: String]) throws(ParseError) -> QuotaSettings? {
        guard let root = plugin["quota"], !root.isEmpty else { return nil }
        let parts = root.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard let backend = Backend(rawValue: parts[0]) else {
            throw ParseError(description: "Unknown quota backend: \(parts[0])")
        }
        var settings = QuotaSettings(
            backend: backend, name: parts.count > 1 ? parts[1] : "", limits: QuotaAmount(), mailboxLimits: [:],
            enforcing: true, warnings: [], graceBytes: 0,
            exceededMessage: plugin["quota_exceeded_message"].flatMap { $0.isEmpty ? nil : $0 }
                ?? defaultExceededMessage)
        if parts.count > 2 {
            for option in parts[2].split(separator: ":") {
                switch option {
                case "noenforcing": settings.enforcing = false
                case "hidden", "ignoreunlimited": continue
                default: throw ParseError(description: "Invalid parameter: \(option)")
                }
            }
        }
        // quota_rule, quota_rule2, ... in order; a later rule for the same mailbox replaces the earlier one.
        var rules: [(String, String)] = []
        for key in numbered("quota_rule", plugin) {
            guard let colon = key.firstIndex(of: ":") else {
                throw ParseError(description: "Invalid rule \(key): Mailbox name not given")
            }
            rules.append((String(key[..<colon]), String(key[key.index(after: colon)...])))
        }
        // Rules for the same mailbox add up, each setting only the limits it names (Dovecot's
        // quota_root_add_rule); mailbox rules are worked out against the final `*` rule.
        var mailboxRules: [(String, [String])] = []
        for (mailbox, definition) in rules {
            if mailbox == "*" || mailbox == "?" {
                settings.limits = try limits(definition, start: settings.limits, base: nil)
            } else if let index = mailboxRules.firstIndex(where: { $0.0 == mailbox }) {
                mailboxRules[index].1.append(definition)
            } else {
                mailboxRules.append((mailbox, [definition]))
            }
        }
        for (mailbox, definitions) in mailboxRules {
            var limits = settings.limits
            for definition in definitions { limits = try Self.limits(definition, start: limits, base: settings.limits) }
            settings.mailboxLimits[mailbox] = limits
        }
        let grace = plugin["quota_grace"] ?? "10%"
        settings.graceBytes = try value(grace, unit: 1, base: settings.limits.bytes, adds: false)
        for text in numbered("quota_warning", plugin) {
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

    /// `NAME`, `NAME2`, `NAME3`, ... while they are set (Dovecot stops at the first missing one).
    private static func numbered(_ name: String, _ plugin: [String: String]) -> [String] {
        var values: [String] = []
        var key = name
        var index = 2
        while let value = plugin[key], !value.isEmpty {
            values.append(value)
            key = name + String(index)
            index += 1
        }
        return values
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
            case "ignore", "backend":
                throw ParseError(description: "Quota rule \(key) is not supported")
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
