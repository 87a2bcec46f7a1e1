public import TernMaps

/// postgrey's whitelist files (postgrey(8) WHITELISTS; Debian ships /etc/postgrey/whitelist_clients and
/// whitelist_recipients). Everything after `#` is a comment; blank lines are skipped.
///
/// Clients: `/regex/` (matched case-insensitively against client_name), IPv4 addresses with or without
/// `/bits`, partial IPv4 addresses `a.b.c` (a /24) and `a.b` (also a /24: postgrey 1.37 passes 24 for both),
/// IPv6 addresses or networks, and host names, which also match their subdomains.
///
/// Recipients: `/regex/`, `user@domain` and `user@` (both also match `user+extension@`), and `domain`, which
/// also matches its subdomains. Not Sendable: it holds compiled PCRE2 patterns; keep it inside one actor.
public struct PostgreyWhitelist {
    public private(set) var clientPatterns: [PerlPattern] = []
    public private(set) var clientNetworks: [CIDRNetwork] = []
    public private(set) var recipientPatterns: [PerlPattern] = []

    public init() {}

    /// Adds the lines of a clients file; returns postgrey's warnings (`FILE line N: doesn't look like a
    /// hostname`).
    public mutating func addClients(_ text: String, file: String) -> [String] {
        var warnings: [String] = []
        for (number, entry) in Self.entries(text) {
            if let regex = Self.slashed(entry) {
                if let pattern = Self.compile(regex, file: file, line: number, warnings: &warnings) {
                    clientPatterns.append(pattern)
                }
            } else if let network = Self.clientNetwork(entry) {
                if let network { clientNetworks.append(network) }
            } else if !entry.contains(where: { $0 == " " || $0 == "\t" }) {
                let hostname = "(?:^|\\.)" + PerlPattern.quote(entry) + "$"
                if let pattern = Self.compile(hostname, file: file, line: number, warnings: &warnings) {
                    clientPatterns.append(pattern)
                }
            } else {
                warnings.append("\(file) line \(number): doesn't look like a hostname")
            }
        }
        return warnings
    }

    /// Adds the lines of a recipients file; returns postgrey's warnings.
    public mutating func addRecipients(_ text: String, file: String) -> [String] {
        var warnings: [String] = []
        for (number, entry) in Self.entries(text) {
            if let regex = Self.slashed(entry) {
                if let pattern = Self.compile(regex, file: file, line: number, warnings: &warnings) {
                    recipientPatterns.append(pattern)
                }
                continue
            }
            guard !entry.contains(where: { $0 == " " || $0 == "\t" }) else {
                warnings.append("\(file) line \(number): doesn't look like an address")
                continue
            }
            let pattern: String
            if let at = entry.firstIndex(of: "@") {
                let user = PerlPattern.quote(String(entry[..<at]))
                let domain = String(entry[entry.index(after: at)...])
                // `user@domain` and `user@` also match user+extension (Postfix access(5) style).
                pattern = "^" + user + "(?:\\+[^@]+)?\\@" + (domain.isEmpty ? "" : PerlPattern.quote(domain) + "$")
            } else {
                pattern = "(?:\\@|\\.)" + PerlPattern.quote(entry) + "$"
            }
            if let compiled = Self.compile(pattern, file: file, line: number, warnings: &warnings) {
                recipientPatterns.append(compiled)
            }
        }
        return warnings
    }

    /// Whether the client (its name as Postfix reports it, `unknown` when it has none, and its address
    /// bytes) is whitelisted.
    public func whitelists(clientName: String, address: [UInt8]) -> Bool {
        clientPatterns.contains { $0.matches(clientName) } || clientNetworks.contains { $0.contains(address) }
    }

    public func whitelists(recipient: String) -> Bool {
        recipientPatterns.contains { $0.matches(recipient) }
    }

    /// Perl's `qr{...}i`; a pattern that does not compile is a warning.
    private static func compile(_ pattern: String, file: String, line: Int, warnings: inout [String]) -> PerlPattern? {
        do {
            return try PerlPattern(pattern, caseless: true)
        } catch {
            warnings.append("\(file) line \(line): \(error.message)")
            return nil
        }
    }

    /// The non-empty lines with comments and surrounding blanks removed, numbered from 1.
    static func entries(_ text: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: " \t\r\u{0B}\u{0C}")
            if !trimmed.isEmpty { result.append((index + 1, trimmed)) }
        }
        return result
    }

    /// `/regex/` without blanks inside: the regex.
    static func slashed(_ entry: String) -> String? {
        guard entry.count > 2, entry.hasPrefix("/"), entry.hasSuffix("/") else { return nil }
        let inner = entry.dropFirst().dropLast()
        return inner.contains(where: { $0 == " " || $0 == "\t" }) ? nil : String(inner)
    }

    /// An address entry: `.some(network)`, `.some(nil)` for one postgrey recognises as an address but cannot
    /// parse (it skips those silently), nil when the entry is not an address.
    static func clientNetwork(_ entry: String) -> CIDRNetwork?? {
        let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = String(parts[0])
        let bits = parts.count == 2 ? Int(parts[1]) : nil
        let octets = address.split(separator: ".", omittingEmptySubsequences: false)
        let dotted = octets.allSatisfy { (1...3).contains($0.count) && $0.allSatisfy(\.isASCIIDigitCharacter) }
        if dotted && octets.count == 4 && (parts.count == 1 || (parts[1].count <= 2 && bits != nil)) {
            guard let bytes = CIDRNetwork.parseAddress(address) else { return .some(nil) }
            return .some(network(bytes, bits ?? 32, maximum: 32))
        }
        if dotted && parts.count == 1 && (octets.count == 3 || octets.count == 2) {
            let padded = (octets + Array(repeating: "0", count: 4 - octets.count)).joined(separator: ".")
            guard let bytes = CIDRNetwork.parseAddress(padded) else { return .some(nil) }
            return .some(network(bytes, 24, maximum: 32))
        }
        if entry.filter({ $0 == ":" }).count >= 2 {
            guard let bytes = CIDRNetwork.parseAddress(address), bytes.count == 16, parts.count == 1 || bits != nil
            else { return .some(nil) }
            return .some(network(bytes, bits ?? 128, maximum: 128))
        }
        return nil
    }

    private static func network(_ bytes: [UInt8], _ bits: Int, maximum: Int) -> CIDRNetwork? {
        bits <= maximum ? CIDRNetwork(bytes: bytes, prefixLength: bits) : nil
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var slice = self
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
