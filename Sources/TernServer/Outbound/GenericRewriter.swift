import Foundation
import TernCore
import TernPolicy
import TernMaps
import TernQueue

/// smtp_generic_maps (generic(5)): rewrites addresses in mail that leaves the machine, in the envelope and
/// in address headers. `user@domain` and `@domain` keys; a result `@other` keeps the localpart.
struct GenericRewriter {
    let tables: [any LookupTable]
    let settings: MTASettings

    /// Headers whose addresses generic(5) rewrites.
    static let addressHeaders: Set<String> = [
        "from", "to", "cc", "bcc", "sender", "reply-to", "errors-to", "return-receipt-to", "resent-from", "resent-to",
        "resent-cc", "resent-bcc", "resent-sender", "resent-reply-to", "disposition-notification-to",
    ]

    func rewrite(_ address: String) async -> String {
        guard !tables.isEmpty, let at = address.lastIndex(of: "@") else { return address }
        let domain = String(address[address.index(after: at)...]).lowercased()
        var local = domain == settings.myorigin.lowercased()
        if !local { local = (try? await settings.classifier.classify(domain: domain)) == .local }
        for table in tables {
            guard
                let match = try? await AddressSearch.virtual(
                    address: address, table: table, delimiter: settings.recipientDelimiter, localDomain: local)
            else { continue }
            let value = match.value.trimmingCharacters(in: .whitespaces)
            return value.hasPrefix("@") ? String(address[..<at]) + value : value
        }
        return address
    }

    /// The rewritten form of every address in the message's address headers (only those that change).
    func headerAddresses(in file: QueueFile) async -> [String: String] {
        var map: [String: String] = [:]
        var inAddressHeader = false
        for line in file.headerLines() {
            if line.first == " " || line.first == "\t" {
                guard inAddressHeader else { continue }
            } else {
                let name = line.prefix { $0 != ":" }.lowercased()
                inAddressHeader = Self.addressHeaders.contains(name)
                guard inAddressHeader else { continue }
            }
            for address in Self.addresses(in: line) where map[address] == nil {
                let rewritten = await rewrite(address)
                if rewritten != address { map[address] = rewritten }
            }
        }
        return map
    }

    /// Applies `map` to one header line of an address header (other lines pass unchanged).
    static func rewriteHeader(_ line: String, _ map: [String: String]) -> String {
        if line.first != " " && line.first != "\t" {
            guard addressHeaders.contains(line.prefix { $0 != ":" }.lowercased()) else { return line }
        }
        var result = line
        for address in addresses(in: line) {
            if let replacement = map[address] { result = result.replacingOccurrences(of: address, with: replacement) }
        }
        return result
    }

    /// Tokens that look like addresses: `local@domain` between delimiters.
    static func addresses(in line: String) -> [String] {
        let delimiters: Set<Character> = [" ", "\t", "<", ">", ",", ";", "\"", "(", ")", "[", "]"]
        var value = Substring(line)
        if line.first != " " && line.first != "\t", let colon = line.firstIndex(of: ":") {
            value = line[line.index(after: colon)...]
        }
        return value.split(whereSeparator: { delimiters.contains($0) }).map(String.init).filter {
            $0.contains("@") && !$0.hasPrefix("@") && !$0.hasSuffix("@")
        }
    }
}

extension QueueFile {
    /// The header section's physical lines (without line ends), read in pieces; at most 256 KiB is looked at
    /// (header_size_limit is 100 KiB).
    func headerLines() -> [String] {
        var lines: [String] = []
        var pending: [UInt8] = []
        var offset = 0
        while offset < min(contentLength, 256 * 1024) {
            guard let chunk = try? readContent(offset: offset, count: 8192), !chunk.isEmpty else { break }
            offset += chunk.count
            pending += chunk
            while let newline = pending.firstIndex(of: 0x0A) {
                if newline == 0 { return lines }
                lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        return lines
    }
}
