public import Glibc
public import TernPolicy

/// How `tern postgrey` runs: where it listens, its database and whitelist files, and the greylisting
/// parameters (postgrey(8) options; the command line turns into this).
public struct PostgreySettings: Sendable {
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        /// --inet=[HOST:]PORT (a bare port listens on localhost, as postgrey does).
        case inet(host: String, port: Int)
        /// --unix=PATH with --socketmode (0666).
        case unix(path: String, mode: mode_t)

        public var description: String {
            switch self {
            case .inet(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unix(let path, _): "unix:\(path)"
            }
        }
    }

    public var endpoint: Endpoint
    /// --dbdir (/var/lib/postgrey).
    public var databaseDirectory = "/var/lib/postgrey"
    /// --whitelist-clients / --whitelist-recipients (repeatable); postgrey's defaults in /etc/postgrey.
    public var clientWhitelistFiles = ["/etc/postgrey/whitelist_clients", "/etc/postgrey/whitelist_clients.local"]
    public var recipientWhitelistFiles = [
        "/etc/postgrey/whitelist_recipients", "/etc/postgrey/whitelist_recipients.local",
    ]
    public var parameters = GreylistParameters()
    /// --exim: close the connection after each answer.
    public var closeAfterAnswer = false
    /// --listen-queue-size.
    public var backlog = 256
    /// -v / -q: 3 also logs each request's attributes, 1 leaves out the per-request action lines.
    public var logLevel = 2

    /// Longest request line: Postfix's attributes are short; a certificate subject is the longest one.
    public static let lineLimit = 4096
    /// How often the database is cleaned (postgrey checks hourly).
    public static let maintenanceInterval: Int64 = 3600

    public init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    /// Parses --inet's value: `PORT`, `HOST:PORT`, `[IPV6]:PORT`.
    public static func inetEndpoint(_ text: String) -> Endpoint? {
        if let port = Int(text), (1...65535).contains(port) { return .inet(host: "127.0.0.1", port: port) }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        return host.isEmpty ? nil : .inet(host: host, port: port)
    }
}
