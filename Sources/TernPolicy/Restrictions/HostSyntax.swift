import TernCore

/// Host name and address syntax as Postfix's valid_hostname() / valid_mailhost_addr() check it.
enum HostSyntax {
    /// Drops one trailing dot (but not from `..`), as smtpd's dup_if_truncate.
    static func truncatingDot(_ name: String) -> String {
        guard name.count > 1, name.hasSuffix("."), !name.hasSuffix("..") else { return name }
        return String(name.dropLast())
    }

    /// Labels of letters, digits, `-` and `_`, none empty, starting or ending with `-`, at most 63 octets
    /// each and 255 in all; an all-numeric name is an address, not a host name.
    static func isValidHostname(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-" else { return false }
            guard label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                return false
            }
        }
        return !name.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// `1.2.3.4` or `IPv6:...` (the inside of an address literal).
    static func isValidMailhostAddress(_ text: String) -> Bool {
        if text.lowercased().hasPrefix("ipv6:") { return IPAddress(String(text.dropFirst(5))).map { !$0.isIPv4 } ?? false }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && IPAddress(text)?.isIPv4 == true
    }
}

/// An address as trivial-rewrite resolves it for relay control: a `%` or `!` route through one of our
/// own domains is taken apart (allow_percent_hack, swap_bangpath), and what is left says whether the
/// sender still specified routing (a quoted `@`, `%` or `!` in the local part).
struct RoutedAddress: Sendable {
    var localPart: String
    var domain: String?
    var addressClass: AddressClass

    var isRouted: Bool { localPart.contains { $0 == "@" || $0 == "%" || $0 == "!" } }

    /// A bounded number of rewriting rounds (each removes one hop).
    static func resolve(_ address: MailAddress, classifier: AddressClassifier) async throws -> RoutedAddress {
        var local = address.localPart
        var domain = address.domain
        // A source route (@a,@b:user@c) is ignored, as RFC 5321 section 3.3 asks.
        if local.hasPrefix("@"), let colon = local.firstIndex(of: ":") { local = String(local[local.index(after: colon)...]) }
        var addressClass = try await classifier.classify(domain: domain)
        for _ in 0..<32 where addressClass == .local {
            if let percent = local.lastIndex(of: "%") {
                domain = String(local[local.index(after: percent)...]).lowercased()
                local = String(local[..<percent])
            } else if let bang = local.firstIndex(of: "!"), bang != local.startIndex {
                domain = String(local[..<bang]).lowercased()
                local = String(local[local.index(after: bang)...])
            } else {
                break
            }
            addressClass = try await classifier.classify(domain: domain)
        }
        return RoutedAddress(localPart: local, domain: domain, addressClass: addressClass)
    }
}
