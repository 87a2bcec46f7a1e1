import TernMaps

/// The database keys of a request, built as postgrey builds them: the triplet (client network, normalised
/// sender, recipient; lowercased) and the client address for the auto-whitelist.
public struct GreylistKeys: Sendable, Equatable {
    public let network: String
    public let sender: String
    public let recipient: String
    public let client: String

    /// postgrey's key text, `192.0.2.0/user@example.net/rcpt@example.com`.
    public var triplet: String { "\(network)/\(sender)/\(recipient)" }

    /// nil when client_address is not an IP address.
    public init?(clientAddress: String, sender: String, recipient: String, parameters: GreylistParameters) {
        guard let bytes = CIDRNetwork.parseAddress(clientAddress) else { return nil }
        client = Self.format(bytes)
        var network = bytes
        if !parameters.lookupByHost {
            Self.mask(&network, prefix: bytes.count == 4 ? parameters.ipv4Prefix : parameters.ipv6Prefix)
        }
        self.network = Self.format(network)
        self.sender = Self.normalizedSender(sender).lowercased()
        self.recipient = recipient.lowercased()
    }

    /// postgrey's do_sender_substitutions: a BATV `prvs=tag=user` local part becomes `user`, a `+extension`
    /// is dropped, and numbers standing alone in the local part (VERP) become `#`, so that mailing lists and
    /// bounce-address schemes do not make a new triplet per message.
    public static func normalizedSender(_ address: String) -> String {
        guard let at = address.firstIndex(of: "@") else { return address }
        var user = String(address[..<at])
        let domain = address[address.index(after: at)...]
        if user.hasPrefix("prvs=") {
            var parts = user.split(separator: "=", omittingEmptySubsequences: false)
            while parts.last?.isEmpty == true { parts.removeLast() }  // Perl's split drops trailing empty fields
            if parts.count == 3 {
                // prvs=tag=user is the standard; prvs=user=tag is seen too. When unsure, the standard.
                let tagLast = looksLikeTag(parts[2]) && !looksLikeTag(parts[1])
                user = String(tagLast ? parts[1] : parts[2])
            }
        }
        if let plus = user.firstIndex(of: "+") { user = String(user[..<plus]) }
        return replaceStandaloneNumbers(user) + "@" + domain
    }

    /// Perl's `/^[0-9a-z]{10}/`.
    static func looksLikeTag(_ text: Substring) -> Bool {
        text.utf8.count >= 10 && text.utf8.prefix(10).allSatisfy { (48...57).contains($0) || (97...122).contains($0) }
    }

    /// Perl's `s/\b\d+\b/#/g`: a run of digits with no word character (letter, digit, `_`) on either side.
    static func replaceStandaloneNumbers(_ text: String) -> String {
        let bytes = Array(text.utf8)
        func isWord(_ byte: UInt8) -> Bool {
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 95
        }
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard (48...57).contains(byte), index == 0 || !isWord(bytes[index - 1]) else {
                output.append(byte)
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, (48...57).contains(bytes[end]) { end += 1 }
            if end == bytes.count || !isWord(bytes[end]) {
                output.append(UInt8(ascii: "#"))
            } else {
                output += bytes[index..<end]
            }
            index = end
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func mask(_ bytes: inout [UInt8], prefix: Int) {
        var remaining = max(0, prefix)
        for index in bytes.indices {
            let bits = min(8, remaining)
            bytes[index] &= bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            remaining -= bits
        }
    }

    /// IPv4 dotted quad; IPv6 as eight uncompressed hex groups (NetAddr::IP's `addr`, lowercased).
    static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2)
            .map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
