import Crypto
import Foundation

/// The client half of SMTP AUTH (RFC 4954) as smtp(8) uses it towards a relayhost: the account from
/// smtp_sasl_password_maps and the mechanisms smtp_sasl_security_options and smtp_sasl_mechanism_filter allow.
public struct SASLClientCredentials: Sendable, Equatable {
    public var username: String
    public var password: String
    /// Allowed mechanisms, most preferred first (upper case): without TLS (smtp_sasl_security_options)
    /// and over TLS (smtp_sasl_tls_security_options).
    public var mechanisms: [String]
    public var tlsMechanisms: [String]

    public init(username: String, password: String, mechanisms: [String], tlsMechanisms: [String]) {
        self.username = username
        self.password = password
        self.mechanisms = mechanisms
        self.tlsMechanisms = tlsMechanisms
    }

    /// `user:password` as smtp_sasl_password_maps holds it (the password may contain colons).
    public init?(passwordMapValue value: String, mechanisms: [String], tlsMechanisms: [String]) {
        guard let colon = value.firstIndex(of: ":") else { return nil }
        self.init(
            username: String(value[..<colon]), password: String(value[value.index(after: colon)...]),
            mechanisms: mechanisms, tlsMechanisms: tlsMechanisms)
    }

    /// The mechanisms Tern's client implements, strongest first (the order Cyrus SASL prefers them in).
    public static let implemented = ["CRAM-MD5", "PLAIN", "LOGIN"]

    /// The implemented mechanisms that smtp_sasl_security_options (`noplaintext`, `noanonymous`,
    /// `noactive`, `nodictionary`, `mutual_auth`) and a non-empty smtp_sasl_mechanism_filter leave.
    public static func allowedMechanisms(securityOptions: [String], filter: [String]) -> [String] {
        let options = Set(securityOptions.map { $0.lowercased() })
        let filter = Set(filter.map { $0.uppercased() })
        return implemented.filter { mechanism in
            if options.contains("noplaintext") && (mechanism == "PLAIN" || mechanism == "LOGIN") { return false }
            // CRAM-MD5 falls to dictionary attacks and does not authenticate the server.
            if (options.contains("nodictionary") || options.contains("mutual_auth")) && mechanism == "CRAM-MD5" {
                return false
            }
            if options.contains("mutual_auth") { return false }
            return filter.isEmpty || filter.contains(mechanism)
        }
    }

    /// The first allowed mechanism the server offers in its `AUTH` EHLO keyword.
    func choose(offered: String, tls: Bool) -> String? {
        let offered = Set(offered.split(separator: " ").map { $0.uppercased() })
        return (tls ? tlsMechanisms : mechanisms).first { offered.contains($0) }
    }

    /// The AUTH command for `mechanism` (with an initial response where the mechanism has one).
    func command(for mechanism: String) -> String {
        switch mechanism {
        case "PLAIN": return "AUTH PLAIN \(Self.base64("\0\(username)\0\(password)"))\r\n"
        default: return "AUTH \(mechanism)\r\n"
        }
    }

    /// The answer to a `334` challenge (`challenge` is the text after the code), or nil when the
    /// mechanism has nothing more to say.
    func response(mechanism: String, challenge: String, step: Int) -> String? {
        switch mechanism {
        case "LOGIN":
            // Step 0 answers "Username:", step 1 "Password:" (draft-murchison-sasl-login).
            return step == 0 ? Self.base64(username) : step == 1 ? Self.base64(password) : nil
        case "CRAM-MD5":
            guard step == 0, let decoded = Data(base64Encoded: challenge.trimmingCharacters(in: .whitespaces))
            else { return nil }
            return Self.base64("\(username) \(Self.cramMD5Digest(password: password, challenge: Array(decoded)))")
        default:
            return nil
        }
    }

    /// RFC 2195: the lower-case hex HMAC-MD5 of the challenge keyed with the password.
    static func cramMD5Digest(password: String, challenge: [UInt8]) -> String {
        let key = SymmetricKey(data: Array(password.utf8))
        let mac = HMAC<Insecure.MD5>.authenticationCode(for: challenge, using: key)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
}
