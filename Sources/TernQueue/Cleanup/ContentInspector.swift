public import TernCore

/// Postfix's cleanup_act(): looks up each logical header and body line in the content check tables and
/// carries out the action found (header_checks(5)), for one message. No I/O: it returns how the line is to
/// be written and collects the log lines and the message's fate (rejection, disposition) for the caller.
///
/// Actions: REJECT [text] (`550 5.7.1 text`, or 4xx when the text starts with a 4.x.x code), WARN, INFO,
/// DISCARD, HOLD, REDIRECT user@domain, FILTER transport:destination, PREPEND text, REPLACE text, IGNORE,
/// STRIP, PASS, BCC, DUNNO and OK. REJECT, DISCARD, REDIRECT and PASS end all further checks of the message.
public struct ContentInspector: Sendable {
    public let checks: ContentChecks
    public let queueID: QueueID
    public let origin: ContentCheckOrigin
    public private(set) var disposition = MessageDisposition()
    /// The REJECT reason with its enhanced status code first (`5.7.1 text`), once a REJECT matched.
    public private(set) var rejection: String?
    /// A table could not be searched: the message is deferred (`451 4.3.0`), as Postfix's cleanup does.
    public private(set) var lookupFailed = false
    private var filtering = true
    private var logLines: [CleanupLogLine] = []
    /// Body bytes seen so far (for body_checks_size_limit).
    private var bodyOffset = 0

    /// How a checked line is to be written: `before` first (PREPEND), then `line` unless it was removed.
    public struct Edit: Sendable, Equatable {
        public var before: [[UInt8]] = []
        public var line: [UInt8]?
    }

    public init(checks: ContentChecks, queueID: QueueID, origin: ContentCheckOrigin) {
        self.checks = checks
        self.queueID = queueID
        self.origin = origin
    }

    /// The log lines since the last call, in order.
    public mutating func takeLogLines() -> [CleanupLogLine] {
        defer { logLines = [] }
        return logLines
    }

    /// Checks one logical header (folded lines joined by LF, no line end).
    public mutating func checkHeader(_ header: [UInt8], class headerClass: ContentHeaderClass) -> Edit {
        guard filtering, let table = checks.table(for: headerClass) else { return Edit(line: header) }
        return check(header, context: "header", table: table)
    }

    /// Checks one body line (or one piece of an overlong one); `length` is what it takes in the body, line
    /// end included, for body_checks_size_limit.
    public mutating func checkBody(_ line: [UInt8], length: Int) -> Edit {
        let offset = bodyOffset
        bodyOffset += length
        guard filtering, let table = checks.body, checks.bodySizeLimit == 0 || offset < checks.bodySizeLimit else {
            return Edit(line: line)
        }
        return check(line, context: "body", table: table)
    }

    private mutating func check(_ line: [UInt8], context: String, table: ContentCheckTable) -> Edit {
        let value: String?
        do {
            value = try table.lookup(String(decoding: line, as: UTF8.self))
        } catch {
            warn("\(queueID): \(table.parameter) map lookup problem -- message not accepted, try again later")
            lookupFailed = true
            return Edit(line: line)
        }
        guard let value else { return Edit(line: line) }
        return act(value, on: line, context: context, table: table.parameter)
    }

    /// cleanup_act(): one action.
    private mutating func act(_ value: String, on line: [UInt8], context: String, table: String) -> Edit {
        let command = String(value.prefix { $0 != " " && $0 != "\t" })
        let text = String(value.dropFirst(command.count).drop { $0 == " " || $0 == "\t" })
        var edit = Edit(line: line)
        let isHeader = context == "header"
        switch command.uppercased() {
        case "REJECT":
            var warnings: [String] = []
            let reason = Self.rejectReason(text) { warnings.append($0) }
            warnings.forEach { warn($0) }
            rejection = reason
            filtering = false
            log("reject", context, line, rejection)
        case "WARN":
            log("warning", context, line, text)
        case "INFO":
            log("info", context, line, text)
        case "FILTER":
            if text.isEmpty {
                warn("missing FILTER command argument in \(table) map")
            } else if !text.contains(":") {
                warn("bad FILTER command \(text) in \(table) -- need transport:destination")
            } else {
                disposition.filter = text
                log("filter", context, line, text)
            }
        case "PASS":
            log("pass", context, line, text)
            filtering = false
        case "DISCARD":
            log("discard", context, line, text)
            disposition.discard = true
            filtering = false
        case "HOLD":
            if !disposition.hold && !disposition.discard {
                log("hold", context, line, text)
                disposition.hold = true
            }
        case "PREPEND":
            if text.isEmpty {
                warn("PREPEND action without text in \(table) map")
            } else if isHeader && !Self.isHeader(text) {
                warn("bad PREPEND header text \"\(text)\" in \(table) map -- need \"headername: headervalue\"")
            } else {
                log("prepend", context, line, text)
                edit.before.append(Array(text.utf8))
            }
        case "REPLACE":
            if text.isEmpty {
                warn("REPLACE action without text in \(table) map")
            } else if isHeader && !Self.isHeader(text) {
                warn("bad REPLACE header text \"\(text)\" in \(table) map -- need \"headername: headervalue\"")
            } else {
                log("replace", context, line, text)
                edit.line = Array(text.utf8)
            }
        case "REDIRECT":
            if !text.contains("@") {
                warn("bad REDIRECT target \"\(text)\" in \(table) map -- need user@domain")
            } else {
                disposition.redirect = text
                log("redirect", context, line, text)
                filtering = false
            }
        case "BCC":
            if !text.contains("@") {
                warn("bad BCC address \"\(text)\" in \(table) map -- need user@domain")
            } else {
                disposition.bcc.append(text)
                log("bcc", context, line, text)
            }
        case "STRIP":
            log("strip", context, line, text)
            edit.line = nil
        case "IGNORE":
            edit.line = nil
        case "DUNNO", "OK":
            break
        default:
            warn("unknown command in \(table) map: \(value)")
        }
        return edit
    }

    /// dsn_prepend("5.7.1", text): the text's own `X.Y.Z` code when it starts with one, else 5.7.1; the
    /// default text is cleanup's `message content rejected`. A 2.x.x code becomes 4.x.x with a warning.
    static func rejectReason(_ text: String, warn: (String) -> Void) -> String {
        guard !text.isEmpty else { return "5.7.1 message content rejected" }
        var reason: String
        let first = text.prefix { $0 != " " && $0 != "\t" }
        if isStatusCode(first) {
            let rest = text.dropFirst(first.count).drop { $0 == " " || $0 == "\t" }
            reason = "\(first) \(rest)"
        } else {
            reason = "5.7.1 \(text)"
        }
        if reason.first != "4" && reason.first != "5" {
            warn("bad DSN action in \(text) -- need 4.x.x or 5.x.x")
            reason = "4" + reason.dropFirst()
        }
        return reason
    }

    /// RFC 3463 `class.subject.detail`: a digit 2, 4 or 5, then 1-3 and 1-3 digits.
    static func isStatusCode(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let first = parts[0].first, parts[0].count == 1, "245".contains(first) else {
            return false
        }
        return parts.dropFirst().allSatisfy { (1...3).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) }
    }

    /// is_header(): `name:` with a name of printable ASCII.
    static func isHeader(_ text: String) -> Bool {
        let name = text.utf8.prefix { $0 != UInt8(ascii: ":") }
        guard name.count < text.utf8.count, !name.isEmpty else { return false }
        let trimmed = name.reversed().drop { $0 == 0x20 || $0 == 0x09 }
        return !trimmed.isEmpty && trimmed.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// cleanup_act_log(): `ID: action: header|body <first 200 bytes> from origin; from=<> to=<> proto= helo=<>: text`.
    private mutating func log(_ action: String, _ context: String, _ line: [UInt8], _ text: String?) {
        var out = "\(queueID): \(action): \(context) \(Self.printable(line.prefix(200))) from \(origin.client);"
        out += " from=<\(origin.sender)>"
        if let recipient = origin.recipient { out += " to=<\(recipient)>" }
        if let name = origin.protocolName { out += " proto=\(name)" }
        if let helo = origin.helo { out += " helo=<\(helo)>" }
        if let text, !text.isEmpty { out += ": \(text)" }
        logLines.append(CleanupLogLine(warning: false, text: out))
    }

    private mutating func warn(_ text: String) {
        logLines.append(CleanupLogLine(warning: true, text: text))
    }

    /// Postfix's logging replaces control characters (the LF of a folded header, its TAB) with `?`.
    static func printable(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
