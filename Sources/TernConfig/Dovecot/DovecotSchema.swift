/// The type of a Dovecot setting, which decides how a value is checked and printed (Dovecot's
/// `enum setting_type` in src/lib-settings/settings-parser.h).
enum DovecotValueType: String, Sendable {
    case string, bool, uint, octal, size, time, msecs

    /// Checks `value` and returns it as doveconf prints it (`120s` → `2 mins`, `1024` → `1 k`), or the
    /// error Dovecot reports.
    func normalize(_ value: String) -> Result<String, DovecotValueError> {
        switch self {
        case .string: return .success(value)
        case .bool:
            switch value.lowercased() {
            case "yes", "y", "1": return .success("yes")
            case "no", "n", "0": return .success("no")
            default: return .failure(.init("Invalid boolean value: \(value) (use yes or no)"))
            }
        case .uint:
            guard let n = UInt32(value) else { return .failure(.init("Invalid number \(value): Not a valid number")) }
            return .success(String(n))
        case .octal:
            guard !value.isEmpty, let n = UInt32(value, radix: 8) else {
                return .failure(.init("Invalid number \(value): Not a valid number"))
            }
            return .success("0" + String(n, radix: 8))
        case .size:
            guard let bytes = DovecotUnits.parseSize(value) else { return .failure(.init("Invalid size: \(value)")) }
            return .success(DovecotUnits.formatSize(bytes))
        case .time, .msecs:
            switch DovecotUnits.parseMilliseconds(value) {
            case .failure(let error): return .failure(error)
            case .success(let ms):
                if self == .msecs { return .success(ms == 0 ? "0" : "\(ms) ms") }
                return .success(DovecotUnits.formatTime(seconds: ms / 1000))
            }
        }
    }
}

struct DovecotValueError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Dovecot's size and time syntax (`settings_get_size()`, `str_parse_get_interval()`).
enum DovecotUnits {
    static func parseSize(_ text: String) -> UInt64? {
        let s = Substring(text).drop(while: { $0 == " " })
        let digits = s.prefix(while: { $0.isASCII && $0.isNumber })
        guard let number = UInt64(digits) else { return nil }
        let unit = s[digits.endIndex...].drop(while: { $0 == " " }).lowercased()
        let shift: UInt64
        switch unit {
        case "", "b": shift = 0
        case "k", "kb": shift = 10
        case "m", "mb": shift = 20
        case "g", "gb": shift = 30
        case "t", "tb": shift = 40
        default: return nil
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : value
    }

    static func formatSize(_ bytes: UInt64) -> String {
        if bytes == 0 { return "0" }
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "k")] where bytes % (1 << UInt64(shift)) == 0 {
            return "\(bytes >> UInt64(shift)) \(unit)"
        }
        return "\(bytes) B"
    }

    /// A time interval in milliseconds; a bare number other than 0 needs a unit, as in Dovecot.
    static func parseMilliseconds(_ text: String) -> Result<UInt64, DovecotValueError> {
        var total: UInt64 = 0
        var rest = Substring(text).drop(while: { $0 == " " })
        guard !rest.isEmpty else { return .failure(.init("Invalid time interval: \(text)")) }
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard let number = UInt64(digits) else { return .failure(.init("Invalid time interval: \(text)")) }
            rest = rest[digits.endIndex...].drop(while: { $0 == " " })
            let unit = rest.prefix(while: { $0.isLetter })
            rest = rest[unit.endIndex...].drop(while: { $0 == " " })
            let factor: UInt64
            switch unit.lowercased() {
            case "":
                guard number == 0 else {
                    return .failure(.init("Time interval '\(text)' is missing units (add e.g. 's' for seconds)"))
                }
                factor = 0
            case "ms", "msec", "msecs", "millisecond", "milliseconds": factor = 1
            case "s", "sec", "secs", "second", "seconds": factor = 1000
            case "m", "min", "mins", "minute", "minutes": factor = 60_000
            case "h", "hour", "hours": factor = 3_600_000
            case "d", "day", "days": factor = 86_400_000
            case "w", "week", "weeks": factor = 604_800_000
            default: return .failure(.init("Invalid time interval: \(text)"))
            }
            let (value, overflow) = number.multipliedReportingOverflow(by: factor)
            guard !overflow, value <= UInt64(UInt32.max) * 1000 else {
                return .failure(.init("Invalid time interval: \(text)"))
            }
            total += value
        }
        return .success(total)
    }

    static func formatTime(seconds: UInt64) -> String {
        if seconds == 0 { return "0" }
        for (size, unit) in [(604_800, "weeks"), (86_400, "days"), (3600, "hours"), (60, "mins")]
        where seconds % UInt64(size) == 0 {
            return "\(seconds / UInt64(size)) \(unit)"
        }
        return "\(seconds) secs"
    }

    /// A normalized time value (`2 mins`) in seconds.
    static func seconds(_ text: String) -> UInt64? {
        if case .success(let ms) = parseMilliseconds(text) { return ms / 1000 }
        return nil
    }
}

/// What may appear at one level of dovecot.conf: settings with their defaults and types, and the kinds
/// of sections, built from the generated `DovecotDefaults`.
final class DovecotSchema: Sendable {
    struct Setting: Sendable {
        let defaultValue: String
        let type: DovecotValueType
    }

    enum ListKind: Sendable {
        /// Elements named by their section name and merged when it repeats (namespace, service, ...).
        case unique
        /// Every section is a new element (passdb, userdb); the section name sets `name`.
        case ordered
        /// Any key is accepted (plugin, dict); all sections of the kind are one.
        case freeForm
    }

    let path: String
    let settings: [String: Setting]
    let sections: [String: DovecotSchema]
    let listKind: ListKind

    init(path: String, settings: [String: Setting], sections: [String: DovecotSchema], listKind: ListKind) {
        self.path = path
        self.settings = settings
        self.sections = sections
        self.listKind = listKind
    }

    /// Top level of dovecot.conf.
    static let root: DovecotSchema = build()

    /// Dovecot's enumerations (first value is the default): a value outside them is an error.
    static let enumerations: [String: [String]] = [
        "ssl": ["yes", "no", "required"],
        "mail_fsync": ["optimized", "always", "never"],
        "lock_method": ["fcntl", "flock", "dotlock"],
        "auth_verbose_passwords": ["no", "plain", "sha1"],
        "service/type": ["", "startup", "login", "log", "config", "anvil", "worker"],
        "namespace/type": ["private", "shared", "public"],
        "namespace/mailbox/auto": ["no", "create", "subscribe"],
        "namespace/list": ["yes", "no", "children"],
        "doveadm_ssl": ["no", "ssl", "starttls"],
        "imapc_ssl": ["no", "imaps", "starttls"],
        "pop3c_ssl": ["no", "pop3s", "starttls"],
        "submission_relay_ssl": ["no", "smtps", "starttls"],
        "passdb/skip": ["never", "authenticated", "unauthenticated"],
        "userdb/skip": ["never", "found", "notfound"],
    ]

    private static func build() -> DovecotSchema {
        var types: [String: DovecotValueType] = [:]
        for line in DovecotDefaults.types.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let type = DovecotValueType(rawValue: String(parts[1])) { types[String(parts[0])] = type }
        }
        let all = DovecotDefaultsText.parse(DovecotDefaults.all)
        let templates = DovecotDefaultsText.parse(DovecotDefaults.sections)
        func schema(_ block: DovecotDefaultsText.Block, path: String, kind: ListKind) -> DovecotSchema {
            var settings: [String: Setting] = [:]
            for (key, value) in block.settings {
                settings[key] = Setting(defaultValue: value, type: types[path.isEmpty ? key : path + "/" + key] ?? .string)
            }
            var sections: [String: DovecotSchema] = [:]
            for child in block.children where sections[child.kind] == nil {
                let childPath = path.isEmpty ? child.kind : path + "/" + child.kind
                let childKind: ListKind = child.kind == "passdb" || child.kind == "userdb" ? .ordered : .unique
                sections[child.kind] = schema(child.block, path: childPath, kind: childKind)
            }
            return DovecotSchema(path: path, settings: settings, sections: sections, listKind: kind)
        }
        var top = all
        top.children = templates.children
        let base = schema(top, path: "", kind: .unique)
        var sections = base.sections
        for name in ["plugin", "dict"] {
            sections[name] = DovecotSchema(path: name, settings: [:], sections: [:], listKind: .freeForm)
        }
        return DovecotSchema(path: "", settings: base.settings, sections: sections, listKind: .unique)
    }

    /// Checks and normalizes a value for `key` at this level.
    func normalize(_ key: String, _ value: String) -> Result<String, DovecotValueError> {
        guard let setting = settings[key] else { return .success(value) }
        let qualified = path.isEmpty ? key : path + "/" + key
        if let allowed = Self.enumerations[qualified] {
            return allowed.contains(value) ? .success(value) : .failure(.init("Invalid value: \(value)"))
        }
        return setting.type.normalize(value)
    }
}

/// The indented `doveconf -a` text of `DovecotDefaults`, read back into blocks.
enum DovecotDefaultsText {
    struct Block: Sendable {
        var settings: [(String, String)] = []
        var children: [(kind: String, name: String?, block: Block)] = []
    }

    static func parse(_ text: String) -> Block {
        var stack: [(kind: String, name: String?, block: Block)] = [("", nil, Block())]
        for raw in text.split(separator: "\n") {
            let line = raw.drop(while: { $0 == " " })
            if line == "}" {
                let done = stack.removeLast()
                stack[stack.count - 1].block.children.append(done)
            } else if line.hasSuffix("{") {
                let head = line.dropLast().split(separator: " ", maxSplits: 1)
                var name = head.count > 1 ? String(head[1].trimmingSuffix(" ")) : nil
                if let n = name, let unquoted = DovecotLineParser.unquote(Substring(n)) { name = unquoted }
                stack.append((String(head[0]), name, Block()))
            } else if let eq = line.firstRange(of: " =") {
                let value = line[eq.upperBound...].drop(while: { $0 == " " })
                let key = String(line[..<eq.lowerBound])
                stack[stack.count - 1].block.settings.append((key, DovecotLineParser.unquote(value) ?? String(value)))
            }
        }
        return stack[0].block
    }
}

extension Substring {
    fileprivate func trimmingSuffix(_ c: Character) -> Substring {
        var s = self
        while s.last == c { s = s.dropLast() }
        return s
    }
}
