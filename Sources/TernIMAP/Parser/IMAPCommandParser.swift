/// Incremental, bounded IMAP command parser (RFC 3501 §2.2, §4.3, §9; LITERAL+ from RFC 7888).
///
/// Bytes go in as they arrive (`append`); `next()` hands out one event at a time, or nil when it needs more
/// bytes. Commands come out whole, except APPEND, whose message literals (and CATENATE parts) are streamed
/// in pieces. Memory is bounded by `IMAPParserLimits` however hostile the input. After an error the rest of the line, and a
/// literal announced at its end, are skipped as Dovecot does, so the next command parses cleanly.
public struct IMAPCommandParser: Sendable {
    public enum Event: Sendable, Hashable {
        case command(TaggedCommand)
        /// A synchronizing literal `{n}` was announced: send `+ OK` (IMAPResponse.literalContinuation).
        case continuationRequest
        /// APPEND's message literal begins. For a synchronizing one the session sends `+ OK` to accept
        /// it, or calls `rejectAppend()` (and answers NO) before reading further. Bytes follow as
        /// `appendBytes`, then `appendEnd`, or another `appendStart` for MULTIAPPEND's next message.
        case appendStart(AppendMessage)
        case appendBytes([UInt8])
        /// CATENATE (RFC 4469 §5): a `URL` part of the message begun by the last `appendStart`, as sent.
        case catenateURL(String)
        /// CATENATE's `TEXT` literal: its bytes follow as `appendBytes`. A synchronizing one needs `+ OK`
        /// from the session (or `rejectAppend()`), as a message literal does.
        /// `utf8`: the part came as `UTF8 (literal8)` (RFC 6855 §4).
        case catenateText(byteCount: Int, synchronizing: Bool, utf8: Bool = false)
        /// The APPEND command line ended: the session stores the message(s) and answers.
        case appendEnd(tag: String)
        /// The line asked for by `expectContinuationLine()` (AUTHENTICATE responses, IDLE's DONE), CRLF removed.
        case continuationLine([UInt8])
        case error(IMAPCommandError)
        /// The connection must be closed after `* BYE <fatal.byeText>`.
        case fatal(IMAPFatalError)
    }

    private enum Mode: Sendable {
        case line
        /// Collecting a literal argument into `raw.literals.last`.
        case literal(remaining: Int)
        /// Streaming APPEND's message.
        case appendLiteral(remaining: Int)
        /// Collecting a CATENATE URL sent as a literal into `urlLiteral`.
        case urlLiteral(remaining: Int)
        /// After an error: up to the end of the line; `tail` keeps its last bytes to see a literal announced.
        case skipLine(tail: [UInt8])
        case skipLiteral(remaining: Int)
        case continuationLine
        case failed
    }

    private struct AppendContext: Sendable {
        var tag: String
        var mailbox: MailboxName
        var nextIndex = 0
        /// The literal being streamed.
        var synchronizing = false
        var consumed = 0
        var step: IMAPCommandGrammar.AppendStep
        /// REPLACE (RFC 8508): the message the new one replaces.
        var replace: ReplaceTarget?

        var commandName: String { replace?.commandName ?? "APPEND" }
    }

    public let limits: IMAPParserLimits
    private var input: [UInt8] = []
    private var readIndex = 0
    private var mode = Mode.line
    private var raw = RawCommand()
    private var line: [UInt8] = []
    private var literalTotal = 0
    private var append: AppendContext?
    /// Events read from one APPEND segment that are not handed out yet (CATENATE URLs come several a line).
    private var pending: [Event] = []
    /// A CATENATE URL sent as a literal, as far as it came.
    private var urlLiteral: [UInt8] = []

    public init(limits: IMAPParserLimits = IMAPParserLimits()) {
        self.limits = limits
    }

    /// Adds bytes read from the connection.
    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if readIndex > 0, readIndex == input.count {
            input.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        input.append(contentsOf: bytes)
    }

    /// The next line is not a command but a continuation (AUTHENTICATE response, IDLE's DONE): it comes out
    /// as `.continuationLine`. Call it before asking for the next event.
    public mutating func expectContinuationLine() {
        if case .line = mode, raw.text.isEmpty, line.isEmpty { mode = .continuationLine }
    }

    /// Refuses the APPEND message just announced (or being streamed). A synchronizing literal that was
    /// not yet accepted with `+` is never sent, so nothing is skipped; otherwise the rest of the literal
    /// and of the command line are.
    public mutating func rejectAppend() {
        pending.removeAll()
        guard let context = append else { return }
        if case .line = mode {
            // Between literals: the rest of the line goes (and a literal announced at its end).
            let tail = Array(line.suffix(32))
            resetCommand()
            mode = .skipLine(tail: tail)
        } else if case .appendLiteral(let remaining) = mode {
            if context.synchronizing, context.consumed == 0 {
                resetCommand()
                mode = .line
            } else {
                resetCommand()
                mode = .skipLiteral(remaining: remaining)
            }
        }
    }

    /// Bytes received but not parsed; they are dropped (STARTTLS must not act on bytes sent before the
    /// handshake, CVE-2011-0411).
    public mutating func takeBufferedBytes() -> [UInt8] {
        let rest = Array(input[readIndex...])
        input.removeAll()
        readIndex = 0
        pending.removeAll()
        resetCommand()
        mode = .line
        return rest
    }

    /// Bytes held: unparsed input plus the command being collected.
    public var bufferedByteCount: Int {
        input.count - readIndex + line.count + raw.text.count + raw.literals.reduce(0) { $0 + $1.count }
            + urlLiteral.count
    }

    public mutating func next() -> Event? {
        defer { compact() }
        if !pending.isEmpty { return pending.removeFirst() }
        while true {
            switch mode {
            case .failed:
                return nil
            case .line:
                guard let event = readLine() else {
                    if readIndex >= input.count { return nil }
                    continue
                }
                return event
            case .continuationLine:
                guard let lf = input[readIndex...].firstIndex(of: 0x0A) else {
                    if input.count - readIndex + line.count > limits.maxLineLength {
                        line.removeAll()
                        mode = .skipLine(tail: [])
                        readIndex = input.count
                        return .error(IMAPCommandError(tag: nil, command: nil, reason: .tooLong))
                    }
                    line += input[readIndex...]
                    readIndex = input.count
                    return nil
                }
                line += input[readIndex..<lf]
                readIndex = lf + 1
                if line.last == 0x0D { line.removeLast() }
                let result = line
                line = []
                mode = .line
                if result.count > limits.maxLineLength {
                    return .error(IMAPCommandError(tag: nil, command: nil, reason: .tooLong))
                }
                return .continuationLine(result)
            case .literal(let remaining):
                let count = min(remaining, input.count - readIndex)
                guard count > 0 || remaining == 0 else { return nil }
                raw.literals[raw.literals.count - 1] += input[readIndex..<readIndex + count]
                readIndex += count
                mode = remaining == count ? .line : .literal(remaining: remaining - count)
            case .appendLiteral(let remaining):
                if remaining == 0 {
                    mode = .line
                    continue
                }
                let count = min(remaining, input.count - readIndex, limits.appendChunkSize)
                guard count > 0 else { return nil }
                let chunk = Array(input[readIndex..<readIndex + count])
                readIndex += count
                append?.consumed += count
                mode = .appendLiteral(remaining: remaining - count)
                return .appendBytes(chunk)
            case .urlLiteral(let remaining):
                let count = min(remaining, input.count - readIndex)
                guard count > 0 || remaining == 0 else { return nil }
                urlLiteral += input[readIndex..<readIndex + count]
                readIndex += count
                guard remaining == count else {
                    mode = .urlLiteral(remaining: remaining - count)
                    continue
                }
                mode = .line
                defer { urlLiteral = [] }
                return .catenateURL(String(decoding: urlLiteral, as: UTF8.self))
            case .skipLiteral(let remaining):
                let count = min(remaining, input.count - readIndex)
                guard count > 0 || remaining == 0 else { return nil }
                readIndex += count
                mode = remaining == count ? .skipLine(tail: []) : .skipLiteral(remaining: remaining - count)
            case .skipLine(var tail):
                guard let lf = input[readIndex...].firstIndex(of: 0x0A) else {
                    tail = Array((tail + input[readIndex...]).suffix(32))
                    readIndex = input.count
                    mode = .skipLine(tail: tail)
                    return nil
                }
                tail = Array((tail + input[readIndex..<lf]).suffix(32))
                readIndex = lf + 1
                if tail.last == 0x0D { tail.removeLast() }
                if let announcement = Self.literalAnnouncement(tail, quoteAware: false),
                    !announcement.synchronizing
                {
                    mode = .skipLiteral(remaining: announcement.size ?? Int.max)
                } else {
                    mode = .line
                }
            }
        }
    }

    // MARK: lines

    /// Reads up to the end of a line and acts on it; nil when the line is not complete yet (or a literal
    /// that needs no event was started).
    private mutating func readLine() -> Event? {
        let lf = input[readIndex...].firstIndex(of: 0x0A)
        let end = lf ?? input.count
        // The limit counts the command text only; one extra byte allows the CR of CRLF.
        if raw.text.count + line.count + (end - readIndex) > limits.maxLineLength + 1 {
            let head = errorHead(raw.text + line + input[readIndex..<min(end, readIndex + 256)])
            let tail = Array((line + input[readIndex..<end]).suffix(32))
            // The LF (if here) is left for skipLine, which then sees whether the line announced a literal.
            readIndex = end
            resetCommand()
            mode = .skipLine(tail: tail)
            return .error(IMAPCommandError(tag: head.tag, command: head.command, reason: .tooLong))
        }
        line += input[readIndex..<end]
        readIndex = end
        guard lf != nil else { return nil }
        readIndex += 1
        if line.last == 0x0D { line.removeLast() }
        return finishLine()
    }

    private mutating func finishLine() -> Event? {
        if line.contains(0x0D) {
            let head = errorHead(raw.text + line)
            resetCommand()
            return .error(IMAPCommandError(tag: head.tag, command: head.command, reason: .crWithoutLF))
        }
        if let announcement = Self.literalAnnouncement(line, quoteAware: true) {
            return literalAnnounced(announcement)
        }
        raw.text += line
        line = []
        if var context = append {
            // The rest of the line after APPEND's last literal.
            let rest = RawCommand(text: raw.text)
            resetCommand()
            var r = IMAPArgumentReader(rest, limits: limits)
            do {
                let items = try IMAPCommandGrammar.appendItems(
                    &r, step: &context.step, literalFollows: false, single: context.replace != nil)
                append = context
                return appendEvents(items, size: 0, synchronizing: false)
            } catch {
                return .error(
                    IMAPCommandError(tag: context.tag, command: context.commandName, reason: Self.reason(error)))
            }
        }
        let command = raw
        resetCommand()
        // An APPEND without any literal: CATENATE of URLs only (RFC 4469).
        switch IMAPCommandGrammar.appendPrefix(command, literalFollows: false, limits: limits) {
        case .items(let tag, let mailbox, let items, let step, let replace):
            append = AppendContext(tag: tag, mailbox: mailbox, step: step, replace: replace)
            return appendEvents(items, size: 0, synchronizing: false)
        case .error(let error):
            return .error(error)
        case .ordinaryLiteral:
            break
        }
        switch IMAPCommandGrammar.parse(command, limits: limits) {
        case .success(let tagged): return .command(tagged)
        case .failure(let error): return .error(error)
        }
    }

    private mutating func literalAnnounced(_ announcement: LiteralAnnouncement) -> Event? {
        var prefix = Array(line[..<announcement.start])
        raw.text += line
        line = []
        raw.literalEnds.append(raw.text.count)
        guard let size = announcement.size else {
            mode = .failed
            return .fatal(.literalTooLarge)
        }
        if !announcement.synchronizing, let maximum = limits.maxNonSynchronizingLiteralSize, size > maximum {
            mode = .failed
            return .fatal(.nonSynchronizingLiteralTooLarge)
        }
        // literal8 (RFC 3516 §4.4) `~{n}`: only APPEND's message and CATENATE's TEXT take one.
        let binary = prefix.last == UInt8(ascii: "~")
        // A further segment of APPEND: after a message (MULTIAPPEND) or inside CATENATE.
        if var context = append {
            if binary { prefix.removeLast() }
            resetCommand()
            var r = IMAPArgumentReader(RawCommand(text: prefix), limits: limits)
            do {
                let items = try IMAPCommandGrammar.appendItems(
                    &r, step: &context.step, literalFollows: true, single: context.replace != nil)
                append = context
                return appendEvents(items, size: size, synchronizing: announcement.synchronizing)
            } catch {
                return skipAnnounced(
                    announcement, size: size,
                    IMAPCommandError(tag: context.tag, command: context.commandName, reason: Self.reason(error)))
            }
        }
        var prefixCommand = raw
        prefixCommand.text = Array(raw.text.prefix(raw.text.count - announcement.length - (binary ? 1 : 0)))
        prefixCommand.literalEnds.removeLast()
        switch IMAPCommandGrammar.appendPrefix(prefixCommand, literalFollows: true, limits: limits) {
        case .items(let tag, let mailbox, let items, let step, let replace):
            resetCommand()
            append = AppendContext(tag: tag, mailbox: mailbox, step: step, replace: replace)
            return appendEvents(items, size: size, synchronizing: announcement.synchronizing)
        case .error(let error):
            resetCommand()
            return skipAnnounced(announcement, size: size, error)
        case .ordinaryLiteral:
            literalTotal += size
            guard literalTotal <= limits.maxLiteralSize else {
                mode = .failed
                return .fatal(.literalTooLarge)
            }
            raw.literals.append([])
            mode = .literal(remaining: size)
            return announcement.synchronizing ? .continuationRequest : nil
        }
    }

    /// Turns what one APPEND segment held into events; a segment ending in a literal starts streaming it.
    private mutating func appendEvents(
        _ items: [IMAPCommandGrammar.AppendItem], size: Int, synchronizing: Bool
    ) -> Event? {
        guard var context = append else { return nil }
        for item in items {
            switch item {
            case .message(let flags, let date, let catenate, let utf8):
                pending.append(
                    .appendStart(
                        AppendMessage(
                            tag: context.tag, mailbox: context.mailbox, flags: flags, internalDate: date,
                            byteCount: catenate ? 0 : size, synchronizing: catenate ? false : synchronizing,
                            index: context.nextIndex, catenate: catenate, utf8: utf8, replace: context.replace)))
                context.nextIndex += 1
            case .url(let url):
                pending.append(.catenateURL(String(decoding: url, as: UTF8.self)))
            case .text(let utf8):
                pending.append(.catenateText(byteCount: size, synchronizing: synchronizing, utf8: utf8))
            case .urlLiteral:
                // RFC 4469 §5: the URL is an astring, so it may come as a literal; it is collected whole,
                // bounded like a command line.
                guard size <= limits.maxLineLength else {
                    pending.removeAll()
                    resetCommand()
                    mode = synchronizing ? .line : .skipLiteral(remaining: size)
                    return .error(IMAPCommandError(tag: context.tag, command: context.commandName, reason: .tooLong))
                }
            case .end:
                pending.append(.appendEnd(tag: context.tag))
            }
        }
        if items.last == .end {
            resetCommand()
        } else if items.last == .urlLiteral {
            append = context
            mode = .urlLiteral(remaining: size)
            if synchronizing { pending.append(.continuationRequest) }
        } else {
            context.synchronizing = synchronizing
            context.consumed = 0
            append = context
            mode = .appendLiteral(remaining: size)
        }
        return pending.isEmpty ? nil : pending.removeFirst()
    }

    private static func reason(_ error: any Error) -> IMAPCommandError.Reason {
        (error as? IMAPSyntaxError)?.reason ?? .syntax(IMAPReplyText.invalidArguments)
    }

    /// An error found at a literal announcement: a synchronizing literal will not be sent (the client gets
    /// BAD instead of `+`); a non-synchronizing one is on its way and is skipped with the rest of its line.
    private mutating func skipAnnounced(
        _ announcement: LiteralAnnouncement, size: Int, _ error: IMAPCommandError
    )
        -> Event
    {
        mode = announcement.synchronizing ? .line : .skipLiteral(remaining: size)
        return .error(error)
    }

    private mutating func resetCommand() {
        raw = RawCommand()
        urlLiteral = []
        line = []
        literalTotal = 0
        append = nil
    }

    private mutating func compact() {
        if readIndex > 4096, readIndex * 2 > input.count {
            input.removeFirst(readIndex)
            readIndex = 0
        }
    }

    /// Tag and command name of a command refused before it was parsed, for the BAD reply.
    private func errorHead(_ text: [UInt8]) -> (tag: String?, command: String?) {
        var reader = IMAPArgumentReader(RawCommand(text: text), limits: limits)
        switch IMAPCommandGrammar.readHead(&reader) {
        case .success(let head): return (head.tag, head.name)
        case .failure(let error): return (error.tag, nil)
        }
    }

    // MARK: literal announcements

    struct LiteralAnnouncement {
        /// nil: too large to be represented (the connection is closed).
        var size: Int?
        var synchronizing: Bool
        /// Where the `{` is in the line, and the announcement's length.
        var start: Int
        var length: Int
    }

    /// `{n}` or `{n+}` ending `line` (RFC 3501 §4.3, RFC 7888 §3), unless it sits inside a quoted string.
    static func literalAnnouncement(_ line: [UInt8], quoteAware: Bool) -> LiteralAnnouncement? {
        guard line.last == UInt8(ascii: "}"), let open = line.lastIndex(of: UInt8(ascii: "{")) else {
            return nil
        }
        var digits = line[(open + 1)..<(line.count - 1)]
        var synchronizing = true
        if digits.last == UInt8(ascii: "+") {
            synchronizing = false
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else {
            return nil
        }
        if quoteAware {
            var inQuote = false
            var escaped = false
            for b in line[..<open] {
                if escaped {
                    escaped = false
                } else if inQuote && b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inQuote.toggle()
                }
            }
            if inQuote { return nil }
        }
        // More than 10 digits cannot be an IMAP number (at most 2^32-1, RFC 3501 §9).
        let size =
            digits.count <= 10
            ? Int(String(decoding: digits, as: UTF8.self)).flatMap { $0 <= Int(UInt32.max) ? $0 : nil }
            : nil
        return LiteralAnnouncement(
            size: size, synchronizing: synchronizing, start: open, length: line.count - open)
    }
}
