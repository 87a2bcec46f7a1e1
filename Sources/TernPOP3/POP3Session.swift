import Foundation

/// One POP3 session (RFC 1939, with CAPA (RFC 2449), STLS (RFC 2595) and AUTH (RFC 5034)) as Dovecot 2.3
/// runs it, with Dovecot's reply texts. No I/O: command lines go in, replies and requests for the driver
/// (check a password, open the maildrop, send a message, start TLS, commit deletions) come out.
public struct POP3Session: Sendable {
    public struct Configuration: Sendable {
        /// login_greeting (`Dovecot (Debian) ready.`).
        public var greeting: String
        /// auth_mechanisms, upper case.
        public var mechanisms: [String]
        /// ssl != no: STLS is offered until TLS is active.
        public var tlsAvailable: Bool
        /// disable_plaintext_auth = no, or the connection is already secure (TLS or from the local host).
        public var plaintextAllowed: Bool
        /// The APOP challenge of the greeting (`<...@host>`); nil: APOP is not enabled.
        public var apopChallenge: String?
        /// The client is in login_trusted_networks: the greeting offers `[XCLIENT]` and XCLIENT is obeyed.
        public var trusted = false

        public init(greeting: String, mechanisms: [String], tlsAvailable: Bool, plaintextAllowed: Bool) {
            self.greeting = greeting
            self.mechanisms = mechanisms
            self.tlsAvailable = tlsAvailable
            self.plaintextAllowed = plaintextAllowed
        }
    }

    /// The maildrop as it was when the session opened it: per message, its size with CRLF line ends (what
    /// LIST, STAT and RETR report) and its UIDL.
    public struct Maildrop: Sendable, Equatable {
        public var sizes: [Int]
        public var uidls: [String]

        public init(sizes: [Int], uidls: [String]) {
            self.sizes = sizes
            self.uidls = uidls
        }
    }

    /// What a trusted proxy's XCLIENT says about the client it proxies (nil: not given).
    public struct Forwarded: Sendable, Equatable {
        public var address: String?
        public var port: Int?
        public var sessionID: String?

        public init(address: String? = nil, port: Int? = nil, sessionID: String? = nil) {
            self.address = address
            self.port = port
            self.sessionID = sessionID
        }
    }

    public enum Action: Sendable, Equatable {
        /// Write these bytes (one or more CRLF-terminated lines).
        case send(String)
        /// XCLIENT from a trusted client: the login is for this client from now on.
        case forward(Forwarded)
        /// Check `user`/`password` (USER/PASS); answer with `loginSucceeded` or `loginFailed`.
        case checkPassword(user: String, password: String)
        /// Start SASL `mechanism` with an optional initial response (nil: none given; "" an empty one);
        /// answer with `saslChallenge`, `loginSucceeded` or `loginFailed`.
        case startSASL(mechanism: String, initialResponse: String?)
        /// A client response line in a SASL exchange.
        case continueSASL(String)
        /// The client gave up the SASL exchange with `*`.
        case abortSASL
        /// The reply has been queued: do the TLS handshake now (before reading anything else).
        case startTLS
        /// Open `user`'s maildrop; answer with `maildropOpened` or `maildropFailed`.
        case openMaildrop(user: String)
        /// Send message `index` (0-based), dot-stuffed with CRLF line ends, whole (`bodyLines` nil) or its
        /// header and the first `bodyLines` lines of the body, then `.`.
        case sendMessage(index: Int, bodyLines: Int?)
        /// QUIT in the transaction state: delete these messages (0-based), then close.
        case commit(deleted: [Int])
        /// Close the connection (after the queued replies).
        case close
    }

    public enum State: Sendable, Equatable {
        case authorization, sasl, opening, transaction, closed
    }

    public private(set) var state = State.authorization
    public private(set) var tlsActive = false
    public private(set) var user: String?
    public var configuration: Configuration
    private var pendingUser: String?
    private var maildrop = Maildrop(sizes: [], uidls: [])
    private var deleted = Set<Int>()
    /// Counters for Dovecot's `Disconnected: Logged out top=N/bytes, retr=N/bytes, del=N/total, size=N`.
    public private(set) var statistics = Statistics()

    public struct Statistics: Sendable, Equatable {
        public var topCount = 0, topBytes = 0, retrCount = 0, retrBytes = 0
        public var deletedCount = 0, messageCount = 0, totalSize = 0
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func greeting() -> Action {
        .send(
            "+OK \(configuration.trusted ? "[XCLIENT] " : "")\(configuration.greeting)"
                + "\(configuration.apopChallenge.map { " " + $0 } ?? "")\r\n")
    }

    /// One command line, without its line end.
    public mutating func received(line: String) -> [Action] {
        switch state {
        case .sasl:
            if line == "*" {
                state = .authorization
                return [.abortSASL, .send("-ERR Authentication aborted by client.\r\n")]
            }
            return [.continueSASL(line)]
        case .opening, .closed:
            return []
        case .authorization, .transaction:
            break
        }
        let space = line.firstIndex(of: " ")
        let verb = String(line[..<(space ?? line.endIndex)]).uppercased()
        let arguments = space.map { String(line[line.index(after: $0)...]) } ?? ""
        return state == .authorization ? authorization(verb, arguments) : transaction(verb, arguments)
    }

    // MARK: - Answers from the driver

    public mutating func saslChallenge(_ base64: String) -> [Action] {
        guard state == .sasl else { return [] }
        return [.send("+ \(base64)\r\n")]
    }

    public mutating func loginSucceeded(user: String) -> [Action] {
        guard state == .sasl || state == .authorization else { return [] }
        self.user = user
        state = .opening
        return [.openMaildrop(user: user)]
    }

    /// `reason` is Dovecot's text after `-ERR ` (`[AUTH] Authentication failed.` by default).
    public mutating func loginFailed(reason: String = "[AUTH] Authentication failed.") -> [Action] {
        guard state == .sasl || state == .authorization else { return [] }
        state = .authorization
        pendingUser = nil
        return [.send("-ERR \(reason)\r\n")]
    }

    public mutating func maildropOpened(_ maildrop: Maildrop) -> [Action] {
        guard state == .opening else { return [] }
        self.maildrop = maildrop
        statistics.messageCount = maildrop.sizes.count
        statistics.totalSize = maildrop.sizes.reduce(0, +)
        state = .transaction
        return [.send("+OK Logged in.\r\n")]
    }

    public mutating func maildropFailed() -> [Action] {
        state = .closed
        return [
            .send("-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.\r\n"), .close,
        ]
    }

    public mutating func tlsEstablished() {
        tlsActive = true
        configuration.plaintextAllowed = true
    }

    // MARK: - AUTHORIZATION

    private mutating func authorization(_ verb: String, _ arguments: String) -> [Action] {
        switch verb {
        case "CAPA":
            return [.send(capabilities())]
        case "QUIT":
            state = .closed
            return [.send("+OK Logging out\r\n"), .close]
        case "STLS":
            guard configuration.tlsAvailable else { return [.send("-ERR TLS support isn't enabled.\r\n")] }
            guard !tlsActive else { return [.send("-ERR Unknown command: STLS\r\n")] }
            return [.send("+OK Begin TLS negotiation now.\r\n"), .startTLS]
        case "USER":
            guard configuration.plaintextAllowed else { return [.send(Self.plaintextDisallowed)] }
            pendingUser = arguments
            return [.send("+OK\r\n")]
        case "PASS":
            guard configuration.plaintextAllowed else { return [.send(Self.plaintextDisallowed)] }
            guard let user = pendingUser else { return [.send("-ERR No username given.\r\n")] }
            return [.checkPassword(user: user, password: arguments)]
        case "AUTH":
            return authenticate(arguments)
        case "APOP":
            return apop(arguments)
        case "XCLIENT":
            return xclient(arguments)
        default:
            return [.send("-ERR Unknown command.\r\n")]
        }
    }

    /// Dovecot's pop3-login XCLIENT: `ADDR=`, `PORT=`, `SESSION=` (up to 64 characters, else ignored),
    /// `TTL=`, `FORWARD=`; only from login_trusted_networks.
    private func xclient(_ arguments: String) -> [Action] {
        guard configuration.trusted else { return [.send("+OK You are not from trusted IP - ignoring\r\n")] }
        var forwarded = Forwarded()
        var valid = true
        for argument in arguments.split(separator: " ") {
            guard let equals = argument.firstIndex(of: "=") else { continue }
            let value = String(argument[argument.index(after: equals)...])
            switch argument[..<equals].uppercased() {
            case "ADDR":
                var v4 = in_addr()
                var v6 = in6_addr()
                if inet_pton(AF_INET, value, &v4) == 1 || inet_pton(AF_INET6, value, &v6) == 1 {
                    forwarded.address = value
                } else {
                    valid = false
                }
            case "PORT":
                if let port = UInt16(value) { forwarded.port = Int(port) } else { valid = false }
            case "SESSION":
                if value.count <= 64 { forwarded.sessionID = value }
            case "TTL":
                if UInt32(value) == nil { valid = false }
            default:
                continue
            }
        }
        guard valid else { return [.send("-ERR Invalid parameters\r\n")] }
        return [.forward(forwarded), .send("+OK Updated\r\n")]
    }

    private static let plaintextDisallowed =
        "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"

    private mutating func authenticate(_ arguments: String) -> [Action] {
        let words = arguments.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let mechanism = words.first?.uppercased() else {
            // AUTH without arguments lists the mechanisms (the pre-RFC 5034 form clients probe with).
            return [.send((["+OK"] + configuration.mechanisms + ["."]).joined(separator: "\r\n") + "\r\n")]
        }
        guard configuration.mechanisms.contains(mechanism) else {
            return [.send("-ERR [AUTH] Unsupported authentication mechanism.\r\n")]
        }
        if !configuration.plaintextAllowed && (mechanism == "PLAIN" || mechanism == "LOGIN") {
            return [.send("-ERR [AUTH] Plaintext authentication disabled.\r\n")]
        }
        state = .sasl
        // RFC 5034 §4: "=" is an empty initial response.
        let initial = words.count > 1 ? (words[1] == "=" ? "" : words[1]) : nil
        return [.startSASL(mechanism: mechanism, initialResponse: initial)]
    }

    /// `APOP user digest` (RFC 1939 §7), checked by the auth server's APOP mechanism with the greeting's
    /// challenge: its data is `challenge NUL user NUL digest`, as Dovecot's pop3-login sends it.
    private mutating func apop(_ arguments: String) -> [Action] {
        guard let challenge = configuration.apopChallenge else { return [.send("-ERR APOP not enabled.\r\n")] }
        guard let space = arguments.firstIndex(of: " "), arguments[arguments.index(after: space)...].utf8.count == 32
        else { return [.send("-ERR Invalid parameters.\r\n")] }
        let hex = Array(arguments[arguments.index(after: space)...].utf8)
        var digest: [UInt8] = []
        for pair in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: hex[pair..<pair + 2], as: UTF8.self), radix: 16) else {
                return [.send("-ERR Invalid characters in MD5 response.\r\n")]
            }
            digest.append(byte)
        }
        let data = Array(challenge.utf8) + [0] + Array(arguments[..<space].utf8) + [0] + digest
        state = .sasl
        return [.startSASL(mechanism: "APOP", initialResponse: Data(data).base64EncodedString())]
    }

    private func capabilities() -> String {
        var lines = ["+OK", "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"]
        if state == .authorization {
            if configuration.tlsAvailable && !tlsActive { lines.append("STLS") }
            if configuration.plaintextAllowed { lines.append("USER") }
            let mechanisms = configuration.mechanisms.filter {
                configuration.plaintextAllowed || ($0 != "PLAIN" && $0 != "LOGIN")
            }
            lines.append((["SASL"] + mechanisms).joined(separator: " "))
        }
        return (lines + ["."]).joined(separator: "\r\n") + "\r\n"
    }

    // MARK: - TRANSACTION

    private mutating func transaction(_ verb: String, _ arguments: String) -> [Action] {
        switch verb {
        case "CAPA":
            return [.send(capabilities())]
        case "NOOP":
            return [.send("+OK\r\n")]
        case "STAT":
            let live = maildrop.sizes.indices.filter { !deleted.contains($0) }
            return [.send("+OK \(live.count) \(live.reduce(0) { $0 + maildrop.sizes[$1] })\r\n")]
        case "LIST":
            return listing(arguments, header: "+OK \(liveCount) messages:") { "\($0 + 1) \(maildrop.sizes[$0])" }
        case "UIDL":
            return listing(arguments, header: "+OK") { "\($0 + 1) \(maildrop.uidls[$0])" }
        case "RETR":
            switch message(arguments, last: true) {
            case .failure(let error): return [.send("-ERR \(error.text)\r\n")]
            case .success(let (index, _)):
                statistics.retrCount += 1
                statistics.retrBytes += maildrop.sizes[index]
                return [.send("+OK \(maildrop.sizes[index]) octets\r\n"), .sendMessage(index: index, bodyLines: nil)]
            }
        case "TOP":
            switch message(arguments, last: false) {
            case .failure(let error): return [.send("-ERR \(error.text)\r\n")]
            case .success(let (index, rest)):
                switch Self.size(rest) {
                case .failure(let error): return [.send("-ERR \(error.text)\r\n")]
                case .success(let lines):
                    statistics.topCount += 1
                    return [.send("+OK\r\n"), .sendMessage(index: index, bodyLines: lines)]
                }
            }
        case "DELE":
            switch message(arguments, last: true) {
            case .failure(let error): return [.send("-ERR \(error.text)\r\n")]
            case .success(let (index, _)):
                deleted.insert(index)
                return [.send("+OK Marked to be deleted.\r\n")]
            }
        case "RSET":
            deleted.removeAll()
            return [.send("+OK\r\n")]
        case "QUIT":
            state = .closed
            guard !deleted.isEmpty else { return [.send("+OK Logging out.\r\n"), .close] }
            statistics.deletedCount = deleted.count
            return [.commit(deleted: deleted.sorted()), .send("+OK Logging out, messages deleted.\r\n"), .close]
        default:
            return [.send("-ERR Unknown command: \(verb)\r\n")]
        }
    }

    /// The failed commit of deletions at QUIT (Dovecot keeps the messages and says so).
    public static let commitFailedReply = "-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.\r\n"

    private var liveCount: Int { maildrop.sizes.count - deleted.count }

    /// LIST and UIDL: every live message, or the one named.
    private func listing(_ arguments: String, header: String, _ line: (Int) -> String) -> [Action] {
        if arguments.isEmpty {
            let lines = maildrop.sizes.indices.filter { !deleted.contains($0) }.map(line)
            return [.send(([header] + lines + ["."]).joined(separator: "\r\n") + "\r\n")]
        }
        switch message(arguments, last: true) {
        case .failure(let error): return [.send("-ERR \(error.text)\r\n")]
        case .success(let (index, _)): return [.send("+OK \(line(index))\r\n")]
        }
    }

    struct ArgumentError: Error {
        let text: String
    }

    /// A message number argument, checked the way Dovecot does: syntax, noise after it, range, deletion.
    /// Returns the index and the text after the number.
    private func message(_ arguments: String, last: Bool) -> Result<(Int, Substring), ArgumentError> {
        let digits = arguments.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return .failure(ArgumentError(text: "Invalid message number: \(arguments)")) }
        let rest = arguments[digits.endIndex...]
        if last ? !rest.isEmpty : rest.first != " " {
            return .failure(ArgumentError(text: "Noise after message number: \(rest)"))
        }
        guard let number = Int(digits), number >= 1, number <= maildrop.sizes.count else {
            return .failure(ArgumentError(text: "There's no message \(digits)."))
        }
        guard !deleted.contains(number - 1) else { return .failure(ArgumentError(text: "Message is deleted.")) }
        return .success((number - 1, rest.dropFirst()))
    }

    private static func size(_ text: Substring) -> Result<Int, ArgumentError> {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int(digits) else {
            return .failure(ArgumentError(text: "Invalid size: \(text)"))
        }
        let rest = text[digits.endIndex...]
        guard rest.isEmpty else { return .failure(ArgumentError(text: "Noise after size: \(rest)")) }
        return .success(value)
    }
}
