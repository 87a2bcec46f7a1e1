/// smtpd_sasl_security_options applied to the mechanisms a Dovecot auth server announces (`MECH name
/// flags...`), as Postfix's xsasl_dovecot_server_mech_filter() does: a mechanism flagged `plaintext`,
/// `anonymous`, `dictionary` or `active` is left out under noplaintext, noanonymous, nodictionary or
/// noactive; mutual_auth keeps only `mutual-auth` ones; `private` mechanisms are never offered.
public struct SASLMechanismFilter: Sendable, Hashable {
    public let options: Set<String>

    /// `options`: the words of smtpd_sasl_security_options (or the TLS variant), e.g. `noanonymous`.
    public init(options: [String]) {
        self.options = Set(options.map { $0.lowercased() })
    }

    /// The announced names the options allow, in the server's order.
    public func allowed(_ mechanisms: [(name: String, flags: [String])]) -> [String] {
        mechanisms.filter { isAllowed(flags: Set($0.flags.map { $0.lowercased() })) }.map(\.name)
    }

    private func isAllowed(flags: Set<String>) -> Bool {
        if flags.contains("private") { return false }
        let excluded: [(option: String, flag: String)] = [
            ("noanonymous", "anonymous"), ("noplaintext", "plaintext"), ("nodictionary", "dictionary"),
            ("noactive", "active"),
        ]
        if excluded.contains(where: { options.contains($0.option) && flags.contains($0.flag) }) { return false }
        return !options.contains("mutual_auth") || flags.contains("mutual-auth")
    }
}

/// Postfix's is_valid_base64() for SASL responses: groups of four from the base64 alphabet, `=` only as
/// padding at the end. The empty string is valid (an empty response).
enum SASLBase64 {
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return false }
        let padding = bytes.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return false }
        return bytes.dropLast(padding).allSatisfy(isAlphabet)
    }

    private static func isAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
