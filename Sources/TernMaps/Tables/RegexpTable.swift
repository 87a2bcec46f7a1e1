public import TernCore
import Synchronization

/// `regexp:` tables (regexp_table(5)): POSIX extended expressions tried in file order, first match wins.
/// `/pattern/flags result` with any delimiter; matching is case-insensitive unless the `i` flag toggles it,
/// `x` toggles extended syntax, `m` toggles REG_NEWLINE; `!/pattern/` negates; `/p1/!/p2/` adds a second
/// condition; `if /pattern/` ... `endif` nest; `$n`, `${n}` and `$$` are substituted in the result.
/// Bad rules are skipped with Postfix's warnings, naming file and line.
public struct RegexpTable: SynchronousLookupTable, PatternLookupTable {
    public let spec: String
    private let cache: FileSnapshotCache<RuleSet>

    final class RuleSet {
        let rules: [RegexpRule]
        init(rules: [RegexpRule]) { self.rules = rules }
    }

    public init(name: String, options: MapOpenOptions) throws(LookupError) {
        let spec = "regexp:\(name)"
        self.spec = spec
        let warn = options.warn
        cache = try FileSnapshotCache(path: name, recheckInterval: options.recheckInterval) {
            (path: String) throws(LookupError) -> RuleSet in
            let bytes = try readTableFile(path, spec: spec)
            do throws(FileError) {
                return RuleSet(rules: try RegexpRuleParser.parse(bytes, mapName: name, warn: warn))
            } catch {
                throw LookupError(spec: spec, reason: error.description)
            }
        }
    }

    /// Builds a table from text (tests, `header_checks` given inline by callers).
    public init(name: String, text: String, warn: @escaping @Sendable (String) -> Void = { _ in }) throws(LookupError) {
        let spec = "regexp:\(name)"
        self.spec = spec
        let bytes = Array(text.utf8)
        cache = try FileSnapshotCache(path: "/nonexistent/\(name)", recheckInterval: .seconds(1_000_000_000)) {
            (_: String) throws(LookupError) -> RuleSet in
            do throws(FileError) {
                return RuleSet(rules: try RegexpRuleParser.parse(bytes, mapName: name, warn: warn))
            } catch {
                throw LookupError(spec: spec, reason: error.description)
            }
        }
    }

    public func lookupNow(_ key: String) throws(LookupError) -> String? {
        let text = Array(key.utf8)
        return try cache.withSnapshot { (set: RuleSet) -> String? in
            var index = 0
            let rules = set.rules
            while index < rules.count {
                switch rules[index] {
                case .match(let rule):
                    let groups = rule.replacement.highestGroup
                    let (matched, ranges) = rule.first.matches(text, groups: groups)
                    index += 1
                    guard matched == rule.firstPositive else { continue }
                    if let second = rule.second, second.matches(text).0 != rule.secondPositive { continue }
                    return rule.replacement.expand(matched: text, groups: ranges)
                case .condition(let expression, let positive, let endif):
                    if expression.matches(text).0 == positive {
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
}

enum RegexpRule {
    struct Match {
        let first: POSIXRegex
        let firstPositive: Bool
        let second: POSIXRegex?
        let secondPositive: Bool
        let replacement: ReplacementTemplate
    }
    case match(Match)
    case condition(POSIXRegex, positive: Bool, endif: Int?)
    case endif
}
