public import TernCore
import Glibc

/// An IPv4 or IPv6 network (`address/length`), as cidr_table(5) writes it.
public struct CIDRNetwork: Sendable, Equatable {
    /// 4 or 16 bytes.
    public let bytes: [UInt8]
    public let prefixLength: Int

    public init(bytes: [UInt8], prefixLength: Int) {
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

    /// Whether `address` (4 or 16 bytes) is inside this network. IPv4 never matches IPv6 and vice versa.
    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// Parses an IP address literal (no brackets) into 4 or 16 bytes with inet_pton(3).
    public static func parseAddress(_ text: String) -> [UInt8]? {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// The address in inet_ntop(3)'s form (`192.0.2.1`, `2001:db8::1`).
    public static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `cidr:` tables (cidr_table(5)): `network/length result` or `address result`, `!` negation,
/// `if network` ... `endif`, IPv4 and IPv6; the first matching rule wins.
public struct CIDRTable: SynchronousLookupTable, PatternLookupTable {
    public let spec: String
    private let cache: FileSnapshotCache<[CIDRRule]>

    public init(name: String, options: MapOpenOptions) throws(LookupError) {
        let spec = "cidr:\(name)"
        self.spec = spec
        let warn = options.warn
        cache = try FileSnapshotCache(path: name, recheckInterval: options.recheckInterval) {
            (path: String) throws(LookupError) -> [CIDRRule] in
            let bytes = try readTableFile(path, spec: spec)
            do throws(FileError) {
                return try CIDRRuleParser.parse(bytes, mapName: name, warn: warn)
            } catch {
                throw LookupError(spec: spec, reason: error.description)
            }
        }
    }

    public func lookupNow(_ key: String) throws(LookupError) -> String? {
        guard let address = CIDRNetwork.parseAddress(key) else { return nil }
        return try cache.withSnapshot { (rules: [CIDRRule]) -> String? in
            var index = 0
            while index < rules.count {
                switch rules[index] {
                case .match(let network, let positive, let result):
                    // A rule of the other address family never matches, negated or not (cidr_match(3)).
                    if network.bytes.count == address.count && network.contains(address) == positive { return result }
                    index += 1
                case .condition(let network, let positive, let endif):
                    if network.bytes.count == address.count && network.contains(address) == positive {
                        index += 1
                    } else {
                        guard let endif else { return nil }
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

enum CIDRRule: Sendable {
    case match(CIDRNetwork, positive: Bool, result: String)
    case condition(CIDRNetwork, positive: Bool, endif: Int?)
    case endif
}

/// Parses cidr_table(5) source with Postfix's warnings for skipped rules.
enum CIDRRuleParser {
    static func parse(_ bytes: [UInt8], mapName: String, warn: (String) -> Void) throws(FileError) -> [CIDRRule] {
        var rules: [CIDRRule] = []
        var open: [(index: Int, line: Int)] = []
        for line in try LogicalLineReader.lines(of: bytes, file: mapName, warn: warn) {
            let location = "cidr map \(mapName), line \(line.lineNumber)"
            let utf8 = Array(line.text.trimmingASCIIWhitespace.utf8)
            if RegexpRuleParser.keyword("endif", utf8) {
                guard let condition = open.popLast() else {
                    warn("\(location): ignoring ENDIF without matching IF")
                    continue
                }
                if case .condition(let network, let positive, _) = rules[condition.index] {
                    rules[condition.index] = .condition(network, positive: positive, endif: rules.count)
                }
                rules.append(.endif)
                continue
            }
            let isCondition = RegexpRuleParser.keyword("if", utf8)
            var rest = isCondition ? utf8[2...].drop(while: LogicalLineReader.isSpace) : utf8[...]
            var positive = true
            while rest.first == UInt8(ascii: "!") {
                positive.toggle()
                rest = rest.dropFirst().drop(while: LogicalLineReader.isSpace)
            }
            let patternEnd = rest.firstIndex(where: LogicalLineReader.isSpace) ?? rest.endIndex
            let pattern = String(decoding: rest[..<patternEnd], as: UTF8.self)
            let result = String(decoding: rest[patternEnd...], as: UTF8.self).trimmingASCIIWhitespace
            if isCondition {
                if !result.isEmpty { warn("\(location): ignoring extra text after IF statement: \"\(result)\"") }
            } else if result.isEmpty {
                warn("\(location): no lookup result: skipping this rule")
                continue
            }
            let network: CIDRNetwork
            switch parseNetwork(pattern) {
            case .success(let parsed): network = parsed
            case .failure(let problem):
                warn("\(location): \(problem.message): skipping this rule")
                continue
            }
            if isCondition {
                open.append((rules.count, line.lineNumber))
                rules.append(.condition(network, positive: positive, endif: nil))
            } else {
                rules.append(.match(network, positive: positive, result: result))
            }
        }
        for condition in open.reversed() {
            warn("cidr map \(mapName), line \(condition.line): IF has no matching ENDIF")
        }
        return rules
    }

    struct Problem: Error {
        let message: String
    }

    static func parseNetwork(_ pattern: String) -> Result<CIDRNetwork, Problem> {
        var text = pattern
        var lengthText: String?
        if let slash = text.lastIndex(of: "/") {
            lengthText = String(text[text.index(after: slash)...])
            text = String(text[..<slash])
        }
        if text.hasPrefix("[") && text.hasSuffix("]") && text.contains(":") {
            text = String(text.dropFirst().dropLast())
        }
        guard let bytes = CIDRNetwork.parseAddress(text) else {
            return .failure(Problem(message: "bad address pattern: \"\(pattern)\""))
        }
        let maximum = bytes.count * 8
        var length = maximum
        if let lengthText {
            guard !lengthText.isEmpty, lengthText.allSatisfy(\.isASCIIDigit), let parsed = Int(lengthText),
                parsed <= maximum
            else { return .failure(Problem(message: "bad mask length in \"\(pattern)\"")) }
            length = parsed
        }
        let network = CIDRNetwork(bytes: bytes, prefixLength: length)
        var masked = bytes
        for index in 0..<masked.count {
            let bits = max(0, min(8, length - index * 8))
            masked[index] &= bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
        guard masked == bytes else {
            let suggestion = "\(CIDRNetwork.format(masked))/\(length)"
            return .failure(Problem(
                message: "non-null host address bits in \"\(pattern)\", perhaps you should use \"\(suggestion)\" instead"))
        }
        return .success(network)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
