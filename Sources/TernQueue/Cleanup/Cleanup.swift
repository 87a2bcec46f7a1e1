public import TernCore
import TernMIME

/// The content half of Postfix's cleanup(8), fed the message one line at a time between smtpd (or pickup)
/// and the queue file writer. It prepends the caller's Received: header, follows the header section
/// (continuation lines, header_size_limit), counts Received: headers against hopcount_limit, and at the end
/// of the headers adds what is missing the way Postfix does for local_header_rewrite_clients:
///
///     Message-Id: <YYYYMMDDhhmmss.QUEUEID@myhostname>
///     Date: Mon,  2 Sep 2024 10:00:00 +0000 (UTC)
///     From: sender@example.com            (or "Full Name <sender@...>", MAILER-DAEMON for <>)
///
/// (`Resent-` variants when the message has Resent- headers). A header section that ends without an empty
/// line gets one, so the first non-header line starts the body; a first line that starts with whitespace
/// starts the body at once; leading `From ` lines become `X-Mailbox-Line:` headers (smtpd's rules).
/// No I/O: output bytes go into the caller's buffer, LF line ends.
public struct Cleanup: Sendable {
    public let queueID: QueueID
    public let sender: MailAddress
    public let senderFullName: String?
    public let arrivalSeconds: Int
    public let options: CleanupOptions

    /// The Message-Id value (found or generated) for the `message-id=<...>` log line.
    public private(set) var messageID: String?
    /// A generated or found Resent-Message-Id (logged as `resent-message-id=`).
    public private(set) var resentMessageID: String?
    public private(set) var receivedCount = 0
    /// Set once a header was cut at header_size_limit.
    public private(set) var headerTruncated = false
    /// Set when the message must be refused; processing continues so the client can finish sending.
    public private(set) var error: CleanupError?
    /// With `options.holdHeaders`: the finished logical headers (folded lines joined by LF, no line end),
    /// in order, instead of in the output. The output then starts with the separator line or the body.
    public private(set) var heldHeaders: [[UInt8]] = []
    /// Whether the header section is complete (the rest is body).
    public var headersEnded: Bool { phase == .body }

    private enum Phase { case start, headers, body }
    private var phase = Phase.start
    private var firstClientLine = true
    private var pending: [UInt8]?
    private var midLine = false
    private var prepend: [String]
    private let messageIDSeconds: Int
    private var seen = Set<String>()
    private var resent = false
    /// header_checks and body_checks, when configured.
    private var content: ContentFilter?

    /// - Parameters:
    ///   - prepend: header text to put first, lines joined by LF (smtpd's Received: header).
    ///   - messageIDSeconds: clock for a generated Message-Id (Postfix takes the time at end of headers).
    public init(
        queueID: QueueID, sender: MailAddress, senderFullName: String? = nil, arrivalSeconds: Int,
        messageIDSeconds: Int? = nil, prepend: [String] = [], options: CleanupOptions,
        inspector: ContentInspector? = nil
    ) {
        content = inspector.map { ContentFilter(inspector: $0, headerSizeLimit: options.headerSizeLimit) }
        self.queueID = queueID
        self.sender = sender
        self.senderFullName = senderFullName
        self.arrivalSeconds = arrivalSeconds
        self.messageIDSeconds = messageIDSeconds ?? arrivalSeconds
        self.prepend = prepend
        self.options = options
    }

    /// What the content checks decided (HOLD, DISCARD, REDIRECT, FILTER).
    public var disposition: MessageDisposition { content?.inspector.disposition ?? MessageDisposition() }

    /// The content checks' log lines (program `cleanup`) since the last call.
    public mutating func takeLogLines() -> [CleanupLogLine] {
        content?.inspector.takeLogLines() ?? []
    }

    /// Processes one content line (without its line end). `continued` marks a piece of an overlong line
    /// whose rest follows in the next call (no line end is written after it).
    public mutating func process(line: some Collection<UInt8>, continued: Bool = false, into output: inout [UInt8]) {
        startIfNeeded(into: &output)
        let line = Array(line)
        defer { midLine = continued }
        if midLine {
            appendPiece(line, ending: !continued, into: &output)
            return
        }
        if phase == .headers && firstClientLine {
            if line.drop(while: { $0 == UInt8(ascii: ">") }).starts(with: Array("From ".utf8)) {
                headerLine(Array("X-Mailbox-Line: ".utf8) + line, into: &output)
                return
            }
            firstClientLine = false
            if HeaderField.isContinuation(line) {
                // Would fold into our own Received: header: the body starts here instead.
                endHeaders(separator: true, into: &output)
            }
        }
        if phase == .headers {
            headerLine(line, into: &output)
        } else {
            bodyPiece(line, lineStart: true, lineEnds: !continued, into: &output)
        }
    }

    private mutating func bodyPiece(_ piece: [UInt8], lineStart: Bool, lineEnds: Bool, into output: inout [UInt8]) {
        if content != nil {
            content!.body(piece, lineStart: lineStart, lineEnds: lineEnds, into: &output)
        } else {
            output += piece
            if lineEnds { output.append(UInt8(ascii: "\n")) }
        }
    }

    /// Ends the message: flushes the last header and adds missing headers when the message has no body,
    /// and terminates an unterminated last line.
    public mutating func finish(into output: inout [UInt8]) {
        startIfNeeded(into: &output)
        if midLine {
            // An unfinished header is flushed with its line end below; a body line gets its end here.
            if !(phase == .headers && pending != nil) { output.append(UInt8(ascii: "\n")) }
            midLine = false
        }
        if phase == .headers { endHeaders(separator: false, into: &output) }
        content?.finish(into: &output)
        guard let inspector = content?.inspector else { return }
        if inspector.lookupFailed {
            error = .lookupFailed
        } else if let reason = inspector.rejection {
            error = .contentRejected(reason: reason)
        }
    }

    private mutating func startIfNeeded(into output: inout [UInt8]) {
        guard phase == .start else { return }
        phase = .headers
        for header in prepend {
            for line in header.split(separator: "\n", omittingEmptySubsequences: false) {
                headerLine(Array(line.utf8), into: &output)
            }
        }
        prepend = []
    }

    /// A continuation piece of an overlong physical line.
    private mutating func appendPiece(_ piece: [UInt8], ending: Bool, into output: inout [UInt8]) {
        if phase == .headers, pending != nil {
            addToPending(piece)
        } else {
            bodyPiece(piece, lineStart: false, lineEnds: ending, into: &output)
        }
    }

    private mutating func headerLine(_ line: [UInt8], into output: inout [UInt8]) {
        if pending != nil, HeaderField.isContinuation(line) {
            addToPending([UInt8(ascii: "\n")] + line)
        } else if HeaderField.name(of: line) != nil {
            flushPending(into: &output)
            pending = []
            addToPending(line)
        } else {
            endHeaders(separator: true, into: &output)
            if !line.isEmpty { bodyPiece(line, lineStart: true, lineEnds: true, into: &output) }
        }
    }

    private mutating func addToPending(_ bytes: [UInt8]) {
        let room = options.headerSizeLimit - pending!.count
        if bytes.count > room {
            headerTruncated = true
            pending! += bytes.prefix(max(0, room))
        } else {
            pending! += bytes
        }
    }

    private mutating func flushPending(into output: inout [UInt8]) {
        guard var header = pending else { return }
        pending = nil
        if content != nil {
            let edit = content!.primaryHeader(header)
            for line in edit.before { writeHeader(line, into: &output) }
            guard let kept = edit.line else { return }  // removed (IGNORE, STRIP): not seen either
            header = kept
        }
        if let name = HeaderField.name(of: header) {
            let key = name.lowercased()
            seen.insert(key)
            if key.hasPrefix("resent-") { resent = true }
            let value = { String(decoding: HeaderField.unfold(HeaderField.value(of: header) ?? []), as: UTF8.self) }
            switch key {
            case "received":
                receivedCount += 1
                if receivedCount >= options.hopcountLimit, error == nil { error = .tooManyHops(count: receivedCount) }
            case "message-id": messageID = trimmed(value())
            case "resent-message-id": resentMessageID = trimmed(value())
            default: break
            }
        }
        if let domain = options.qualifyDomain { header = AddressHeader.qualify(header, domain: domain) }
        writeHeader(header, into: &output)
    }

    private mutating func writeHeader(_ header: [UInt8], into output: inout [UInt8]) {
        if options.holdHeaders {
            heldHeaders.append(header)
        } else {
            output += header
            output.append(UInt8(ascii: "\n"))
        }
    }

    private mutating func endHeaders(separator: Bool, into output: inout [UInt8]) {
        flushPending(into: &output)
        if options.addMissingHeaders {
            for line in missingHeaders() { writeHeader(Array(line.utf8), into: &output) }
        }
        if separator { output.append(UInt8(ascii: "\n")) }
        phase = .body
        content?.headersEnded()
        firstClientLine = false
    }

    /// The headers Postfix's cleanup_header_done_callback adds, in its order.
    private mutating func missingHeaders() -> [String] {
        let prefix = resent ? "Resent-" : ""
        var out: [String] = []
        if !seen.contains(prefix.lowercased() + "message-id") {
            let id = "<\(MailDate.compactUTC(epochSeconds: messageIDSeconds)).\(queueID.value)@\(options.myHostname)>"
            if resent { resentMessageID = id } else { messageID = id }
            out.append("\(prefix)Message-Id: \(id)")
        }
        if !seen.contains(prefix.lowercased() + "date") {
            out.append("\(prefix)Date: \(MailDate.rfc5322(epochSeconds: arrivalSeconds, zone: options.zone))")
        }
        if !seen.contains(prefix.lowercased() + "from") {
            out.append("\(prefix)From: \(FromHeader.value(sender: sender, fullName: senderFullName, emptyAddress: options.emptyAddress))")
        }
        return out
    }

    private func trimmed(_ text: String) -> String {
        String(text.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
