import Foundation
import TernCore
import TernPolicy
import TernMaps
import TernMIME
import TernQueue

/// smtp_generic_maps (generic(5)): rewrites addresses in mail that leaves the machine, in the envelope and
/// in address headers. `user@domain` and `@domain` keys; a result `@other` keeps the localpart.
struct GenericRewriter {
    let tables: [any LookupTable]
    let settings: MTASettings

    /// Headers whose addresses generic(5) rewrites: the sender and recipient headers.
    static let addressHeaders = AddressHeader.senderHeaders.union(AddressHeader.recipientHeaders)

    func rewrite(_ address: String) async -> String {
        guard !tables.isEmpty, let at = address.lastIndex(of: "@") else { return address }
        let domain = String(address[address.index(after: at)...]).lowercased()
        let local = (try? await settings.addressRewriter.isLocal(domain: domain)) ?? false
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

    /// The domain-qualified addresses of one physical header line.
    static func addresses(in line: String) -> [String] {
        var value = Substring(line)
        if line.first != " " && line.first != "\t", let colon = line.firstIndex(of: ":") {
            value = line[line.index(after: colon)...]
        }
        let characters = Array(value)
        return AddressHeader.spans(in: characters).map { String(characters[$0]) }.filter {
            $0.contains("@") && !$0.hasPrefix("@") && !$0.hasSuffix("@")
        }
    }
}

extension QueueFile {
    /// The header section's physical lines (without line ends).
    func headerLines() -> [String] {
        headerSection().bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The header section's bytes, each line with its LF, without the empty line that ends it; `complete` is
    /// false when it did not end within the first 256 KiB looked at (header_size_limit is 100 KiB a header).
    func headerSection() -> (bytes: [UInt8], complete: Bool) {
        var bytes: [UInt8] = []
        var searched = 0
        let limit = min(contentLength, 256 * 1024)
        while bytes.count < limit {
            guard let chunk = try? readContent(offset: bytes.count, count: min(8192, limit - bytes.count)),
                !chunk.isEmpty
            else { break }
            bytes += chunk
            if bytes.first == 0x0A { return ([], true) }
            // An LF followed by LF ends the section; look from one byte back, where the last chunk ended.
            for index in max(1, searched)..<bytes.count where bytes[index] == 0x0A && bytes[index - 1] == 0x0A {
                return (Array(bytes[..<index]), true)
            }
            searched = bytes.count
        }
        // No body: the headers run to the end of the content.
        let all = bytes.count == contentLength && bytes.last == 0x0A
        guard all else { return (bytes.lastIndex(of: 0x0A).map { Array(bytes[...$0]) } ?? [], false) }
        return (bytes, true)
    }
}
