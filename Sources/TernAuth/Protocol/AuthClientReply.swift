/// A server line as an auth client (Postfix's smtpd, Tern's logins, `doveadm auth test`) reads it.
public enum AuthClientReply: Sendable, Equatable {
    case ok(id: UInt32, fields: [String])
    /// The challenge in base64, as sent.
    case cont(id: UInt32, challenge: String)
    case fail(id: UInt32, fields: [String])

    public init?(line: String) {
        let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard parts.count >= 2, let id = AuthProtocolText.id(parts[1]) else { return nil }
        let fields = parts.dropFirst(2).map { AuthProtocolText.unescape($0) }
        switch parts[0] {
        case "OK": self = .ok(id: id, fields: fields)
        case "CONT": self = .cont(id: id, challenge: fields.first ?? "")
        case "FAIL": self = .fail(id: id, fields: fields)
        default: return nil
        }
    }

    /// The `user=` field of an OK or FAIL.
    public var user: String? {
        switch self {
        case .ok(_, let fields), .fail(_, let fields):
            fields.first { $0.hasPrefix("user=") }.map { String($0.dropFirst(5)) }
        case .cont: nil
        }
    }
}

/// Client-side request lines.
public enum AuthClientRequest {
    /// `AUTH <id> <mech> service=<service> [key=value ...] [resp=<base64>]` (resp last, as the protocol wants).
    public static func auth(
        id: UInt32, mechanism: String, service: String, parameters: [String] = [], initialResponse: [UInt8]? = nil
    ) -> String {
        var fields = ["AUTH", String(id), mechanism, "service=\(AuthProtocolText.escape(service))"] + parameters
        if let initialResponse { fields.append("resp=" + HashEncoding.base64(initialResponse)) }
        return fields.joined(separator: "\t")
    }

    public static func cont(id: UInt32, response: [UInt8]) -> String {
        "CONT\t\(id)\t\(HashEncoding.base64(response))"
    }
}
