public import TernCore
import Synchronization

/// `regexp:` tables (regexp_table(5)): POSIX extended expressions tried in file order, first match wins.
/// `/pattern/flags result` with any delimiter; matching is case-insensitive unless the `i` flag toggles it,
/// `x` toggles extended syntax, `m` toggles REG_NEWLINE; `!/pattern/` negates; `/p1/!/p2/` adds a second
/// condition; `if /pattern/` ... `endif` nest; `$n`, `${n}` and `$$` are substituted in the result.
/// Bad rules are skipped with Postfix's warnings, naming file and line. The same structure serves `pcre:` tables
/// (pcre_table(5), `dialect: .pcre`), whose expressions are PCRE2's.
public struct RegexpTable: SynchronousLookupTable, PatternLookupTable {
    public let spec: String
    private let cache: FileSnapshotCache<RuleSet>

    final class RuleSet {
        let rules: [RegexpRule]
        init(rules: [RegexpRule]) { self.rules = rules }
    }

    public init(name: String, options: MapOpenOptions) throws(LookupError) {
        try self.init(name: name, options: options, dialect: .posix)
    }

    /// A `pcre:` table.
    public static func pcre(name: String, options: MapOpenOptions) throws(LookupError) -> RegexpTable {
        try RegexpTable(name: name, options: options, dialect: .pcre)
    }

    init(name: String, options: MapOpenOptions, dialect: RegexDialect) throws(LookupError) {
        let spec = "\(dialect.type):\(name)"
        self.spec = spec
        let warn = options.warn
        cache = try FileSnapshotCache(path: name, recheckInterval: options.recheckInterval) {
            (path: String) throws(LookupError) -> RuleSet in
            let bytes = try readTableFile(path, spec: spec)
            do throws(FileError) {
                return RuleSet(rules: try RegexpRuleParser.parse(bytes, mapName: name, dialect: dialect, warn: warn))
            } catch {
                throw LookupError(spec: spec, reason: error.description)
            }
        }
    }

    /// Builds a table from text (tests, `header_checks` given inline by callers).
    public init(
        name: String, text: String, pcre: Bool = false, warn: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(LookupError) {
        let dialect: RegexDialect = pcre ? .pcre : .posix
        let spec = "\(dialect.type):\(name)"
        self.spec = spec
        let bytes = Array(text.utf8)
        cache = try FileSnapshotCache(path: "/nonexistent/\(name)", recheckInterval: .seconds(1_000_000_000)) {
            (_: String) throws(LookupError) -> RuleSet in
            do throws(FileError) {
                return RuleSet(rules: try RegexpRuleParser.parse(bytes, mapName: name, dialect: dialect, warn: warn))
            } catch {
                throw LookupError(spec: spec, reason: error.description)
            }
        }
    }

    public func lookupNow(_ key: String) throws(LookupError) -> String? {
        let text = Array(key.utf8)
        return try cache.withSnapshot { (set: RuleSet) -> String? in RegexpRule.evaluate(set.rules, text) }
    }
}

enum RegexpRule {
    struct Match {
        let first: any TableRegex
        let firstPositive: Bool
        let second: (any TableRegex)?
        let secondPositive: Bool
        let replacement: ReplacementTemplate
    }
    case match(Match)
    case condition(any TableRegex, positive: Bool, endif: Int?)
    case endif

    /// The first rule's result for `text` (rules tried in order, IF/ENDIF skipping), nil when none matches.
    static func evaluate(_ rules: [RegexpRule], _ text: [UInt8]) -> String? {
        var index = 0
        while index < rules.count {
            switch rules[index] {
            case .match(let rule):
                let groups = rule.replacement.highestGroup
                let (matched, ranges) = rule.first.matches(text, groups: groups)
                index += 1
                guard matched == rule.firstPositive else { continue }
                if let second = rule.second, second.matches(text, groups: 0).0 != rule.secondPositive { continue }
                return rule.replacement.expand(matched: text, groups: ranges)
            case .condition(let expression, let positive, let endif):
                if expression.matches(text, groups: 0).0 == positive {
                    index += 1
                } else {
                    guard let endif else { return nil }  // an IF without ENDIF ends the table
                    index = endif + 1
                }
            case .endif:
                index += 1
            }
        }
        return nil
    }
}

/// A compiled expression of a regexp: or pcre: table.
protocol TableRegex: AnyObject {
    var subexpressionCount: Int { get }
    /// Whether `text` matches; with `groups > 0` also the byte ranges of groups 0...groups (nil: unmatched).
    func matches(_ text: [UInt8], groups: Int) -> (Bool, [Range<Int>?])
}

/// A pattern that does not compile, with the library's message.
struct RegexCompileFailure: Error {
    let message: String
}

/// What differs between regexp: (POSIX) and pcre: tables: the name in warnings, the flag letters, whether
/// `/p1/!/p2/` is allowed, and the compiler.
struct RegexDialect: Sendable {
    let type: String
    let flags: Set<UInt8>
    let secondPattern: Bool
    let compile: @Sendable (RegexpRuleParser.Pattern, _ groups: Bool) throws(RegexCompileFailure) -> any TableRegex

    /// regexp_table(5): case-insensitive extended syntax by default; `i`, `x` and `m` toggle.
    static let posix = RegexDialect(type: "regexp", flags: Set("imx".utf8), secondPattern: true) {
        (pattern, groups) throws(RegexCompileFailure) -> any TableRegex in
        var options: POSIXRegex.Options = [.extended, .ignoreCase]
        for flag in pattern.flags {
            switch flag {
            case UInt8(ascii: "i"): options.formSymmetricDifference(.ignoreCase)
            case UInt8(ascii: "m"): options.formSymmetricDifference(.newline)
            default: options.formSymmetricDifference(.extended)
            }
        }
        if !groups { options.insert(.noSubexpressions) }
        do throws(POSIXRegex.CompileFailure) {
            return try POSIXRegex(pattern.text, options: options)
        } catch {
            throw RegexCompileFailure(message: error.message)
        }
    }
}
