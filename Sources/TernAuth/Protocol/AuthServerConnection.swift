import Foundation

/// The server side of one auth-client connection in Dovecot's auth protocol 1.2 (src/auth/auth-client-connection.c,
/// auth-request-handler.c; https://doc.dovecot.org/2.3/developer_manual/design/auth_protocol/): the handshake,
/// then `AUTH`/`CONT`/`CANCEL` requests answered with `CONT`, `OK` and `FAIL`. A pure state machine: lines in,
/// actions out; the driver writes lines, runs the credential checks it is asked for, and delays failures.
public struct AuthServerConnection: Sendable {
    public struct Limits: Sendable {
        /// Longest line accepted (Dovecot's AUTH_CLIENT_MAX_LINE_LENGTH is 16 KiB; a SASL response of
        /// 12 KiB in base64 fits).
        public var maximumLineLength = 16384
        /// Requests open at once; a client past it is disconnected (Postfix and the login processes keep
        /// one per session, so this only stops a flood).
        public var maximumPendingRequests = 128

        public init() {}
    }

    public enum Action: Sendable, Equatable {
        case send(String)
        /// Check these credentials and call `complete(id:serial:outcome:)`.
        case verify(id: UInt32, serial: UInt64, step: SASLStep, request: AuthRequest)
        /// Send this `FAIL` line after auth_failure_delay.
        case sendDelayed(String)
        case log(AuthLogLine)
        /// Close the connection (after the actions before it).
        case close
    }

    private enum State: Sendable {
        case awaitingVersion
        case ready
        case closed
    }

    private struct Pending: Sendable {
        var exchange: SASLServerExchange
        var request: AuthRequest
        var serial: UInt64
        /// True after a CONT was sent and before the client answered it.
        var acceptsContinuation: Bool
    }

    public let mechanisms: [SASLMechanism]
    public let limits: Limits
    private let cramChallenge: @Sendable () -> [UInt8]
    private var state = State.awaitingVersion
    private var requests: [UInt32: Pending] = [:]
    private var nextSerial: UInt64 = 1
    public private(set) var clientPID: UInt32 = 0

    public init(
        mechanisms: [SASLMechanism], limits: Limits = Limits(), cramChallenge: @escaping @Sendable () -> [UInt8]
    ) {
        self.mechanisms = mechanisms
        self.limits = limits
        self.cramChallenge = cramChallenge
    }

    /// The lines the server sends on connect: `VERSION 1 2`, one `MECH` per mechanism with its flags,
    /// `SPID`, `CUID`, `COOKIE` and `DONE`.
    public func handshake(serverPID: Int32, connectionID: UInt32, cookie: String) -> [String] {
        ["VERSION\t1\t2"] + mechanisms.map { (["MECH", $0.rawValue] + $0.flags).joined(separator: "\t") } + [
            "SPID\t\(serverPID)", "CUID\t\(connectionID)", "COOKIE\t\(cookie)", "DONE",
        ]
    }

    /// One line from the client (without its LF).
    public mutating func receive(line: String) -> [Action] {
        guard line.utf8.count <= limits.maximumLineLength else {
            return close(error: "BUG: Authentication client \(clientPID) sent too long line")
        }
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        switch state {
        case .closed:
            return []
        case .awaitingVersion:
            guard fields.count >= 2, fields[0] == "VERSION", fields[1].allSatisfy(\.isNumber) else {
                let invalid = "Authentication client sent invalid VERSION line: \(Self.sanitize(line))"
                return [.log(AuthLogLine(level: .error, message: invalid))] + close(error: Self.incompatible)
            }
            guard fields[1] == "1" else {
                return close(error: Self.incompatible)
            }
            state = .ready
            return []
        case .ready:
            switch fields[0] {
            case "VERSION":
                return []
            case "CPID":
                guard fields.count >= 2, let pid = AuthProtocolText.id(fields[1]) else {
                    return close(error: "BUG: Authentication client sent broken CPID line")
                }
                clientPID = pid
                return []
            case "AUTH":
                return auth(fields.dropFirst())
            case "CONT":
                return continuation(fields.dropFirst())
            case "CANCEL":
                if fields.count >= 2, let id = AuthProtocolText.id(fields[1]) { requests[id] = nil }
                return []
            default:
                return close(
                    error: "BUG: Authentication client sent unknown command: \(Self.sanitize(String(fields[0])))")
            }
        }
    }

    /// The result of a `.verify` action. Results for requests the client has since dropped are ignored.
    public mutating func complete(id: UInt32, serial: UInt64, outcome: AuthOutcome) -> [Action] {
        guard state == .ready, let pending = requests[id], pending.serial == serial else { return [] }
        requests[id] = nil
        switch outcome {
        case .success(let user, let fields):
            var line = "OK\t\(id)\tuser=\(AuthProtocolText.escape(user))"
            for field in fields { line += "\t" + AuthProtocolText.escape(field.text) }
            return [.send(line)]
        case .failure(let user, let code, let delay):
            let line = Self.failure(id: id, user: user, code: code)
            return [delay ? .sendDelayed(line) : .send(line)]
        }
    }

    /// The number of requests open (tests and the driver's bookkeeping).
    public var pendingRequests: Int { requests.count }

    private mutating func auth(_ arguments: ArraySlice<Substring>) -> [Action] {
        guard arguments.count >= 2, let id = AuthProtocolText.id(arguments[arguments.startIndex]), id != 0 else {
            return close(error: "BUG: Authentication client \(clientPID) sent broken AUTH request")
        }
        let name = arguments[arguments.startIndex + 1]
        guard let mechanism = SASLMechanism(name: String(name)), mechanisms.contains(mechanism) else {
            return close(
                error: "BUG: Authentication client \(clientPID) requested unsupported authentication mechanism "
                    + Self.sanitize(String(name.prefix(64))))
        }
        var parameters: [String: String] = [:]
        var initialResponse: String?
        var rest = arguments.dropFirst(2)
        while let argument = rest.first {
            rest = rest.dropFirst()
            let key: Substring
            let value: String
            if let equals = argument.firstIndex(of: "=") {
                key = argument[..<equals]
                value = AuthProtocolText.unescape(argument[argument.index(after: equals)...])
            } else {
                key = argument
                value = ""
            }
            if key == "resp" {
                initialResponse = value
                break
            }
            parameters[String(key)] = value
        }
        guard rest.isEmpty else {
            return close(error: "BUG: Authentication client \(clientPID) sent AUTH parameters after 'resp'")
        }
        guard let service = parameters["service"] else {
            return close(error: "BUG: Authentication client \(clientPID) didn't specify service in request")
        }
        guard requests[id] == nil else {
            return close(error: "BUG: Authentication client \(clientPID) sent a duplicate ID \(id)")
        }
        guard requests.count < limits.maximumPendingRequests else {
            return close(error: "Authentication client \(clientPID) has too many pending requests")
        }
        var request = AuthRequest(
            user: "", service: service, mechanism: mechanism.rawValue, localIP: parameters["lip"],
            remoteIP: parameters["rip"], session: parameters["session"])
        request.noPenalty = parameters["no-penalty"] != nil
        var exchange = SASLServerExchange(mechanism: mechanism, cramChallenge: cramChallenge())
        var data: [UInt8]?
        if let initialResponse, !initialResponse.isEmpty, initialResponse != "=" {
            guard let decoded = HashEncoding.unbase64(initialResponse) else {
                return [
                    .log(
                        AuthLogLine(
                            level: .info, message: "\(mechanism.logName)(?): Invalid base64 data in initial response")),
                    .send("FAIL\t\(id)\tcode=invalid_base64\treason=Invalid base64 data in initial response"),
                ]
            }
            data = decoded
        } else if initialResponse != nil {
            data = []
        }
        let step = exchange.start(initialResponse: data)
        requests[id] = Pending(exchange: exchange, request: request, serial: nextSerial, acceptsContinuation: false)
        nextSerial += 1
        return act(id: id, step: step)
    }

    private mutating func continuation(_ arguments: ArraySlice<Substring>) -> [Action] {
        guard let first = arguments.first, let id = AuthProtocolText.id(first) else {
            return close(error: "BUG: Authentication client sent broken CONT request")
        }
        guard var pending = requests[id] else {
            return [.send("FAIL\t\(id)\treason=Authentication request timed out")]
        }
        guard pending.acceptsContinuation else {
            requests[id] = nil
            let mechanism = pending.exchange.mechanism.logName
            return [
                .log(AuthLogLine(level: .info, message: "\(mechanism)(?): Unexpected continuation")),
                .send("FAIL\t\(id)\treason=Unexpected continuation"),
            ]
        }
        guard arguments.count >= 2 else {
            return close(error: "BUG: Authentication client sent broken CONT request")
        }
        guard let data = HashEncoding.unbase64(String(arguments[arguments.startIndex + 1])) else {
            requests[id] = nil
            return [
                .log(
                    AuthLogLine(
                        level: .info,
                        message: "\(pending.exchange.mechanism.logName)(?): "
                            + "Invalid base64 data in continued response")),
                .send("FAIL\t\(id)\tcode=invalid_base64\treason=Invalid base64 data in continued response"),
            ]
        }
        pending.acceptsContinuation = false
        let step = pending.exchange.receive(data)
        requests[id] = pending
        return act(id: id, step: step)
    }

    private mutating func act(id: UInt32, step: SASLStep) -> [Action] {
        guard var pending = requests[id] else { return [] }
        switch step {
        case .challenge(let challenge):
            pending.acceptsContinuation = true
            requests[id] = pending
            return [.send("CONT\t\(id)\t\(HashEncoding.base64(challenge))")]
        case .verifyPassword, .verifyCRAMMD5, .verifyAPOP:
            return [.verify(id: id, serial: pending.serial, step: step, request: pending.request)]
        case .failed:
            requests[id] = nil
            return [
                .log(AuthLogLine(level: .info, message: "\(pending.exchange.mechanism.logName)(?): invalid input")),
                .sendDelayed(Self.failure(id: id, user: nil, code: nil)),
            ]
        }
    }

    static let incompatible = "Authentication client not compatible with this server (mixed old and new binaries?)"

    static func failure(id: UInt32, user: String?, code: String?) -> String {
        var line = "FAIL\t\(id)"
        if let user { line += "\tuser=\(AuthProtocolText.escape(user))" }
        if let code { line += "\tcode=\(code)" }
        return line
    }

    private mutating func close(error message: String) -> [Action] {
        state = .closed
        requests.removeAll()
        return [.log(AuthLogLine(level: .error, message: message)), .close]
    }

    /// Control characters of client text replaced before logging (Dovecot's str_sanitize), bounded.
    static func sanitize(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(256).map { $0.value < 32 ? "?" : $0 }))
    }
}
