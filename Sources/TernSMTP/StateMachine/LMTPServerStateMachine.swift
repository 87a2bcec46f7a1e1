/// Dovecot 2.3's LMTP server conversation (RFC 2033, with RFC 3030 CHUNKING as lib-smtp runs it): LHLO,
/// MAIL, RCPT, DATA, BDAT, RSET, NOOP, VRFY, QUIT with Dovecot's replies. No I/O: bytes go in, actions come
/// out. The driver checks each recipient (`.checkRecipient` → `recipientChecked`), stores the message data
/// it is handed (`.beginMessage`, `.messageData`, `.discardMessage`) and saves a copy per recipient on
/// `.deliver` (→ `delivered`), after which one reply per recipient follows, in RCPT order. While the machine
/// waits for one of those answers it reads nothing, so at most one read's bytes wait in its buffer.
public struct LMTPServerStateMachine: Sendable {
    public struct Configuration: Sendable {
        /// The name in the LHLO reply (Dovecot's hostname setting).
        public var hostname: String
        /// The session ID; transactions and recipients get IDs derived from it (`id:T2`, `id:R2`).
        public var sessionID: String
        /// Longest command line (Dovecot's SMTP_SERVER_DEFAULT_MAX_COMMAND_LINE is 4 KiB).
        public var maxLineLength = 4096
        /// Message data is handed on in pieces of at most this size, so a line without end (DATA) or a
        /// chunk of any declared size (BDAT) never sits in memory whole.
        public var maxDataPiece = 65536

        public init(hostname: String, sessionID: String) {
            self.hostname = hostname
            self.sessionID = sessionID
        }
    }

    /// A complete mail transaction, ready to be saved for each recipient.
    public struct Transaction: Sendable, Equatable {
        /// The session ID, with `:T<n>` from the second transaction of a connection on.
        public var id: String
        public var sender: String
        public var recipients: [String]
        /// The LHLO name (nil: none given).
        public var helo: String?

        public init(id: String, sender: String, recipients: [String], helo: String?) {
            self.id = id
            self.sender = sender
            self.recipients = recipients
            self.helo = helo
        }

        /// Dovecot's per-recipient ID in the reply: the transaction's, with `:R<n>` from the second on.
        public func recipientID(_ index: Int) -> String { index == 0 ? id : "\(id):R\(index + 1)" }

        /// The header lines Dovecot's lmtp puts before the message for the copy of recipient `index`:
        /// `Return-Path`, `Delivered-To` (one recipient only), `Received` (`for <rcpt>` likewise).
        public func deliveryHeaders(_ index: Int, hostname: String, remoteIP: String?, date: String) -> String {
            let single = recipients.count == 1
            var text = "Return-Path: <\(sender)>\r\n"
            if single { text += "Delivered-To: \(recipients[index])\r\n" }
            text += "Received: from \(helo ?? "unknown")"
            if let remoteIP, !remoteIP.isEmpty { text += " ([\(remoteIP)])" }
            text += "\r\n\tby \(hostname) with LMTP\r\n\tid \(id)\r\n\t(envelope-from <\(sender)>)"
            if single { text += "\r\n\tfor <\(recipients[index])>" }
            return text + "; \(date)\r\n"
        }
    }

    /// How saving one recipient's copy went.
    public enum DeliveryOutcome: Sendable, Equatable {
        case saved
        /// A temporary failure with this enhanced status code (`4.2.0`, `4.3.0`).
        case temporaryFailure(String)
        /// Refused with this reply code, enhanced code and text (over quota: `552`, `5.2.2`,
        /// quota_exceeded_message).
        case refused(code: Int, enhanced: String, text: String)
    }

    public enum Action: Sendable, Equatable {
        /// Reply lines, each ending in CRLF.
        case send(String)
        /// Look the recipient up, then call `recipientChecked(exists:)`.
        case checkRecipient(String)
        /// A new message starts: open a spool for `.messageData`.
        case beginMessage
        case messageData([UInt8])
        /// The message so far is abandoned (RSET after some chunks).
        case discardMessage
        /// Save the spooled message per recipient, then call `delivered(_:)`.
        case deliver(Transaction)
        case close
    }

    private enum Mode: Sendable, Equatable {
        case command
        /// DATA: dot-terminated lines; `lineStart` is false inside a line handed on in pieces.
        case data(lineStart: Bool)
        /// BDAT: `remaining` octets of the chunk to read (or to skip after a failed BDAT).
        case chunk(remaining: UInt64, size: UInt64, last: Bool, skip: Bool)
        case waitingForRecipient(String)
        case waitingForDelivery(Transaction)
        case closed
    }

    public let configuration: Configuration
    private var mode = Mode.command
    private var buffer: [UInt8] = []
    private var helo: String?
    private var sender: String?
    private var recipients: [String] = []
    private var transactions = 0
    /// BDAT commands since the transaction began (DATA is refused after one) and whether one failed
    /// (lib-smtp's data_chunks and data_failed: later chunks fail until RSET).
    private var dataChunks = 0
    private var dataFailed = false
    private var messageOpen = false

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func greeting() -> Action { .send("220 \(configuration.hostname) Dovecot (Debian) ready.\r\n") }

    public mutating func receive(_ bytes: [UInt8]) -> [Action] {
        guard mode != .closed else { return [] }
        buffer += bytes
        return process()
    }

    /// The answer to `.checkRecipient`.
    public mutating func recipientChecked(exists: Bool) -> [Action] {
        guard case .waitingForRecipient(let address) = mode else { return [] }
        return recipientChecked(exists ? nil : .refused(code: 550, enhanced: "5.1.1", text: "User doesn't exist: \(address)"))
    }

    /// The answer to `.checkRecipient`: accepted (nil), or refused (over quota with Dovecot's
    /// lmtp_rcpt_check_quota: `552 5.2.2 <rcpt> quota_exceeded_message`).
    public mutating func recipientChecked(_ refusal: DeliveryOutcome?) -> [Action] {
        guard case .waitingForRecipient(let address) = mode else { return [] }
        mode = .command
        let reply: String
        switch refusal {
        case .refused(let code, let enhanced, let text):
            reply = "\(code) \(enhanced) <\(address)> \(text)"
        case .temporaryFailure(let enhanced):
            reply = "451 \(enhanced) <\(address)> Temporary internal failure"
        case .saved, nil:
            recipients.append(address)
            reply = "250 2.1.5 OK"
        }
        return [.send(reply + "\r\n")] + process()
    }

    /// The answer to `.deliver`: one outcome per recipient, in order.
    public mutating func delivered(_ outcomes: [DeliveryOutcome]) -> [Action] {
        guard case .waitingForDelivery(let transaction) = mode else { return [] }
        mode = .command
        var text = ""
        for (index, recipient) in transaction.recipients.enumerated() {
            switch index < outcomes.count ? outcomes[index] : .temporaryFailure("4.3.0") {
            case .saved: text += "250 2.0.0 <\(recipient)> \(transaction.recipientID(index)) Saved\r\n"
            case .temporaryFailure(let code): text += "451 \(code) <\(recipient)> Temporary internal failure\r\n"
            case .refused(let code, let enhanced, let reason): text += "\(code) \(enhanced) <\(recipient)> \(reason)\r\n"
            }
        }
        resetTransaction()
        return [.send(text)] + process()
    }

    private mutating func process() -> [Action] {
        var actions: [Action] = []
        loop: while true {
            switch mode {
            case .command:
                guard let line = takeLine() else {
                    if buffer.count > configuration.maxLineLength {
                        mode = .closed
                        buffer = []
                        actions += [.send("500 5.5.2 Line too long\r\n"), .close]
                    }
                    break loop
                }
                actions += command(line)
            case .data(let lineStart):
                guard let action = dataStep(lineStart: lineStart) else { break loop }
                actions += action
            case .chunk(let remaining, let size, let last, let skip):
                guard remaining == 0 || !buffer.isEmpty else { break loop }
                let count = Int(min(remaining, UInt64(min(buffer.count, configuration.maxDataPiece))))
                if count > 0 {
                    if !skip { actions.append(.messageData(Array(buffer[..<count]))) }
                    buffer.removeFirst(count)
                }
                let left = remaining - UInt64(count)
                if left > 0 {
                    mode = .chunk(remaining: left, size: size, last: last, skip: skip)
                    continue
                }
                mode = .command
                if skip { continue }
                if last {
                    actions += finishMessage()
                } else {
                    actions.append(.send("250 2.0.0 Added \(size) octets\r\n"))
                }
            case .waitingForRecipient, .waitingForDelivery, .closed:
                break loop
            }
        }
        return actions
    }

    /// A command line without its line end; nil when none is complete yet.
    private mutating func takeLine() -> String? {
        guard let end = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var line = buffer[..<end]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let text = String(decoding: line, as: UTF8.self)
        buffer.removeSubrange(...end)
        return text
    }

    private mutating func command(_ line: String) -> [Action] {
        let verb = line.prefix { $0 != " " }.uppercased()
        var parameters = line.dropFirst(verb.count)
        if parameters.first == " " { parameters = parameters.dropFirst() }
        if parameters.first == " " { return reply("500 5.5.2 Invalid command syntax") }
        while parameters.last == " " { parameters = parameters.dropLast() }
        switch verb {
        case "LHLO":
            guard !parameters.isEmpty else { return reply("501 Missing hostname") }
            helo = String(parameters)
            resetTransaction()
            return reply(
                "250-\(configuration.hostname)\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n"
                    + "250 PIPELINING")
        case "MAIL": return mail(parameters)
        case "RCPT": return recipient(parameters)
        case "DATA": return data(parameters)
        case "BDAT": return chunk(parameters)
        case "RSET":
            guard parameters.isEmpty else { return reply("501 5.5.4 Invalid parameters") }
            let discard: [Action] = messageOpen ? [.discardMessage] : []
            resetTransaction()
            return discard + reply("250 2.0.0 OK")
        case "NOOP": return reply("250 2.0.0 OK")
        case "VRFY": return reply("252 2.3.3 Try RCPT instead")
        case "QUIT":
            guard parameters.isEmpty else { return reply("501 5.5.4 Invalid parameters") }
            mode = .closed
            buffer = []
            return reply("221 2.0.0 Bye") + [.close]
        default: return reply("500 5.5.1 Unknown command")
        }
    }

    private func reply(_ text: String) -> [Action] { [.send(text + "\r\n")] }

    private mutating func mail(_ parameters: Substring) -> [Action] {
        guard sender == nil else { return reply("503 5.5.0 MAIL already given") }
        let path: (address: String, rest: Substring)
        switch Self.path(parameters, keyword: "FROM:", direction: "FROM") {
        case .success(let value): path = value
        case .failure(let error): return reply(error.text)
        }
        for parameter in path.rest.split(separator: " ") {
            let upper = parameter.uppercased()
            guard upper.hasPrefix("BODY=") else { return reply("555 5.5.4 Unsupported parameters") }
            guard upper == "BODY=7BIT" || upper == "BODY=8BITMIME" else {
                return reply("555 5.5.4 Unsupported mail BODY type")
            }
        }
        sender = path.address
        transactions += 1
        return reply("250 2.1.0 OK")
    }

    private mutating func recipient(_ parameters: Substring) -> [Action] {
        guard sender != nil else { return reply("503 5.5.0 MAIL needed first") }
        let path: (address: String, rest: Substring)
        switch Self.path(parameters, keyword: "TO:", direction: "TO") {
        case .success(let value): path = value
        case .failure(let error): return reply(error.text)
        }
        guard !path.address.isEmpty else { return reply("501 5.5.4 Invalid TO: Null path not allowed") }
        guard path.rest.isEmpty else { return reply("555 5.5.4 Unsupported parameters") }
        mode = .waitingForRecipient(path.address)
        return [.checkRecipient(path.address)]
    }

    /// lib-smtp's check before DATA and each BDAT, in its order.
    private func dataRefusal() -> String? {
        if dataChunks > 0 && dataFailed { return "503 5.5.0 Previous data chunk failed, issue RSET first" }
        if sender == nil { return "503 5.5.0 MAIL needed first" }
        if recipients.isEmpty { return "503 5.5.0 No valid recipients" }
        return nil
    }

    private mutating func data(_ parameters: Substring) -> [Action] {
        guard parameters.isEmpty else { return reply("501 5.5.4 Invalid parameters") }
        if let refusal = dataRefusal() { return reply(refusal) }
        guard dataChunks == 0 else { return reply("503 5.5.0 Bad sequence of commands") }
        mode = .data(lineStart: true)
        messageOpen = true
        return [.send("354 OK\r\n"), .beginMessage]
    }

    /// `BDAT size [LAST]` (RFC 3030 §2): the chunk's octets follow the line at once. When the command fails
    /// with a size that could be read, the octets are skipped, as lib-smtp does.
    private mutating func chunk(_ parameters: Substring) -> [Action] {
        dataChunks += 1
        let arguments = parameters.split(separator: " ", omittingEmptySubsequences: false)
        guard let first = arguments.first, !first.isEmpty, first.allSatisfy({ $0.isASCII && $0.isNumber }),
            let size = UInt64(first)
        else {
            dataFailed = true
            return reply("501 5.5.4 Invalid chunk size parameter")
        }
        var refusal: String?
        var last = false
        if arguments.count > 2 {
            refusal = "501 5.5.4 Invalid parameters"
        } else if arguments.count == 2 {
            if arguments[1].uppercased() == "LAST" {
                last = true
            } else {
                refusal = "501 5.5.4 Invalid end marker parameter"
            }
        }
        refusal = refusal ?? dataRefusal()
        if let refusal {
            dataFailed = true
            mode = .chunk(remaining: size, size: size, last: last, skip: true)
            return reply(refusal)
        }
        mode = .chunk(remaining: size, size: size, last: last, skip: false)
        guard !messageOpen else { return [] }
        messageOpen = true
        return [.beginMessage]
    }

    /// DATA: complete lines dot-unstuffed with CRLF ends, up to the `.` line; a long line without end is
    /// handed on in pieces (a CR at a piece's end waits for the next byte, so CRLF is not split).
    private mutating func dataStep(lineStart: Bool) -> [Action]? {
        var output: [UInt8] = []
        var atStart = lineStart
        var consumed = 0
        var finished = false
        while consumed < buffer.count && output.count < configuration.maxDataPiece {
            guard let end = buffer[consumed...].firstIndex(of: UInt8(ascii: "\n")) else {
                var available = buffer.count - consumed
                if buffer.last == UInt8(ascii: "\r") { available -= 1 }
                // A line start waits for its first bytes (a `.` line must be seen whole).
                guard available >= configuration.maxDataPiece || (!atStart && available > 0) else { break }
                available = min(available, configuration.maxDataPiece - output.count)
                var piece = buffer[consumed..<consumed + available]
                if atStart && piece.first == UInt8(ascii: ".") { piece = piece.dropFirst() }
                output += piece
                consumed += available
                atStart = false
                break
            }
            var line = buffer[consumed..<end]
            consumed = end + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if atStart && line.elementsEqual([UInt8(ascii: ".")]) {
                finished = true
                break
            }
            if atStart && line.first == UInt8(ascii: ".") { line = line.dropFirst() }
            output += line
            output += [13, 10]
            atStart = true
        }
        guard consumed > 0 else { return nil }
        buffer.removeFirst(consumed)
        var actions: [Action] = output.isEmpty ? [] : [.messageData(output)]
        if finished {
            mode = .command
            actions += finishMessage()
        } else {
            mode = .data(lineStart: atStart)
        }
        return actions
    }

    private mutating func finishMessage() -> [Action] {
        let transaction = Transaction(
            id: transactions > 1 ? "\(configuration.sessionID):T\(transactions)" : configuration.sessionID,
            sender: sender ?? "", recipients: recipients, helo: helo)
        mode = .waitingForDelivery(transaction)
        return [.deliver(transaction)]
    }

    private mutating func resetTransaction() {
        sender = nil
        recipients = []
        dataChunks = 0
        dataFailed = false
        messageOpen = false
    }

    struct PathError: Error {
        let text: String
    }

    /// `FROM:<addr> params` / `TO:<addr> params`: the address in the brackets and the rest, with lib-smtp's
    /// complaints.
    static func path(_ parameters: Substring, keyword: String, direction: String)
        -> Result<(address: String, rest: Substring), PathError>
    {
        guard parameters.uppercased().hasPrefix(keyword) else {
            return .failure(PathError(text: "501 5.5.4 Invalid parameters"))
        }
        let rest = parameters.dropFirst(keyword.count)
        if rest.first == " " {
            return .failure(PathError(text: "501 5.5.4 Invalid \(direction): Unexpected whitespace before path"))
        }
        guard rest.first == "<" else {
            return .failure(PathError(text: "501 5.5.4 Invalid \(direction): Missing '<' at beginning of path"))
        }
        guard let close = rest.firstIndex(of: ">") else {
            return .failure(PathError(text: "501 5.5.4 Invalid \(direction): Missing '>' at end of path"))
        }
        let address = String(rest[rest.index(after: rest.startIndex)..<close])
        var after = rest[rest.index(after: close)...]
        if !after.isEmpty && after.first != " " {
            return .failure(PathError(text: "501 5.5.4 Invalid \(direction): Invalid character in path"))
        }
        after = after.drop { $0 == " " }
        return .success((address, after))
    }
}
