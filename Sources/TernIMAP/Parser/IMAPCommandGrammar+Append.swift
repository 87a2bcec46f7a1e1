/// APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502), CATENATE (RFC 4469), literal8 (RFC 3516 §4.4) and
/// `UTF8 (literal8)` (RFC 6855 §4: `utf8-literal`, both as the message and as a CATENATE part).
///
/// APPEND's message literals are streamed, so the command is read in segments: the text before each literal
/// announcement, and the text after the last literal up to the end of the line. `AppendStep` remembers where
/// in the grammar one segment ended and the next begins.
extension IMAPCommandGrammar {
    enum AppendStep: Sendable, Hashable {
        /// `[flag-list SP] [date-time SP] (literal | "CATENATE" SP "(" ...)`.
        case messageStart
        /// After a message: the end of the command, or the next message (MULTIAPPEND).
        case afterMessage
        /// After the literal of `UTF8 (`: the closing `)`.
        case utf8MessageEnd
        /// Just after `CATENATE (`: the list may not be empty.
        case catenateFirst
        case catenatePart
        /// After a URL or a TEXT literal: SP and the next part, or `)`.
        case afterCatenatePart
        /// After the literal of a CATENATE part `UTF8 (` (RFC 6855 §4, `cat-part =/ utf8-literal`): its `)`.
        case utf8PartEnd
    }

    enum AppendItem: Sendable, Hashable {
        /// A message begins; `catenate` false: its literal is the announcement ending the segment. `utf8`: it
        /// came as `UTF8 (literal8)`.
        case message([Flag], IMAPDateTime?, catenate: Bool, utf8: Bool = false)
        /// `URL astring` in a CATENATE list (RFC 4469 §5).
        case url([UInt8])
        /// `URL literal`: the announcement ending the segment is the URL.
        case urlLiteral
        /// `TEXT literal`, or `utf8` `UTF8 (literal8)`: the announcement ending the segment is the text.
        case text(utf8: Bool = false)
        /// The command is complete.
        case end
    }

    /// Reads one segment. `literalFollows`: the segment ended with a literal announcement (removed from it).
    /// `single`: REPLACE, which takes one message only.
    static func appendItems(
        _ r: inout IMAPArgumentReader, step: inout AppendStep, literalFollows: Bool, single: Bool = false
    ) throws -> [AppendItem] {
        var items: [AppendItem] = []
        while true {
            switch step {
            case .afterMessage:
                // Dovecot takes any number of spaces (or none) between messages.
                while r.skip(UInt8(ascii: " ")) {}
                if r.atEnd && !literalFollows {
                    items.append(.end)
                    return items
                }
                if single { throw IMAPSyntaxError.invalidArguments }
                step = .messageStart
            case .utf8MessageEnd, .utf8PartEnd:
                guard r.skip(UInt8(ascii: ")")) else {
                    throw r.atEnd && !literalFollows ? IMAPSyntaxError.syntax(IMAPReplyText.missingParen)
                        : IMAPSyntaxError.invalidArguments
                }
                step = step == .utf8PartEnd ? .afterCatenatePart : .afterMessage
            case .messageStart:
                var flags: [Flag] = []
                var date: IMAPDateTime?
                if r.peek == UInt8(ascii: "(") {
                    flags = try r.parenthesized { try $0.flag() }
                    try r.space()
                }
                if r.peek == UInt8(ascii: "\"") {
                    let text = String(decoding: try r.string(), as: UTF8.self)
                    guard let parsed = IMAPDateTime(text) else {
                        throw IMAPSyntaxError.syntax(IMAPReplyText.invalidInternalDate)
                    }
                    date = parsed
                    try r.space()
                }
                if r.keyword("CATENATE") {
                    while r.skip(UInt8(ascii: " ")) {}
                    guard r.skip(UInt8(ascii: "(")) else { throw IMAPSyntaxError.invalidArguments }
                    items.append(.message(flags, date, catenate: true))
                    step = .catenateFirst
                } else if r.keyword("UTF8") {
                    try utf8LiteralStart(&r, literalFollows: literalFollows)
                    items.append(.message(flags, date, catenate: false, utf8: true))
                    step = .utf8MessageEnd
                    return items
                } else if r.atEnd {
                    guard literalFollows else { throw IMAPSyntaxError.syntax(IMAPReplyText.missingMessageSize) }
                    items.append(.message(flags, date, catenate: false))
                    step = .afterMessage
                    return items
                } else {
                    throw IMAPSyntaxError.invalidArguments
                }
            case .catenateFirst:
                if r.skip(UInt8(ascii: ")")) { throw IMAPSyntaxError.syntax(IMAPReplyText.emptyCatenateList) }
                step = .catenatePart
            case .catenatePart:
                if r.keyword("URL") {
                    try r.space()
                    if r.atEnd, literalFollows {
                        items.append(.urlLiteral)
                        step = .afterCatenatePart
                        return items
                    }
                    items.append(.url(try r.astring()))
                    step = .afterCatenatePart
                } else if r.keyword("TEXT") {
                    try r.space()
                    guard r.atEnd, literalFollows else { throw IMAPSyntaxError.invalidArguments }
                    items.append(.text())
                    step = .afterCatenatePart
                    return items
                } else if r.keyword("UTF8") {
                    try utf8LiteralStart(&r, literalFollows: literalFollows)
                    items.append(.text(utf8: true))
                    step = .utf8PartEnd
                    return items
                } else if r.atEnd && !literalFollows {
                    throw IMAPSyntaxError.syntax(IMAPReplyText.missingParen)
                } else {
                    throw IMAPSyntaxError.invalidArguments
                }
            case .afterCatenatePart:
                if r.skip(UInt8(ascii: ")")) {
                    step = .afterMessage
                } else if r.skip(UInt8(ascii: " ")) {
                    while r.skip(UInt8(ascii: " ")) {}
                    step = r.skip(UInt8(ascii: ")")) ? .afterMessage : .catenatePart
                } else if r.atEnd && !literalFollows {
                    throw IMAPSyntaxError.syntax(IMAPReplyText.missingParen)
                } else {
                    throw IMAPSyntaxError.invalidArguments
                }
            }
        }
    }

    /// `SP "(" literal8` after `UTF8` (RFC 6855 §4): the literal's announcement ends the segment.
    private static func utf8LiteralStart(_ r: inout IMAPArgumentReader, literalFollows: Bool) throws {
        try r.space()
        guard r.skip(UInt8(ascii: "(")), r.atEnd, literalFollows else { throw IMAPSyntaxError.invalidArguments }
    }

    enum AppendPrefix {
        /// Not an APPEND, or the literal is one of its arguments (the mailbox name): read it as usual.
        case ordinaryLiteral
        case items(tag: String, mailbox: MailboxName, [AppendItem], step: AppendStep, replace: ReplaceTarget?)
        case error(IMAPCommandError)
    }

    /// Decides whether `prefix` (the command text up to a literal announcement, or the whole command when
    /// `literalFollows` is false) is an APPEND or a REPLACE (RFC 8508 §5: `["UID" SP] "REPLACE" SP
    /// (seq-number / uniqueid) SP mailbox SP append-message`), and reads its first segment.
    static func appendPrefix(_ prefix: RawCommand, literalFollows: Bool, limits: IMAPParserLimits) -> AppendPrefix {
        var r = IMAPArgumentReader(prefix, limits: limits)
        guard case .success(let head) = readHead(&r), ["APPEND", "REPLACE", "UID REPLACE"].contains(head.name) else {
            return .ordinaryLiteral
        }
        do {
            try r.space(orThrow: literalFollows ? IMAPSyntaxError.invalidArguments : IMAPSyntaxError.missingArguments)
            var replace: ReplaceTarget?
            if head.name != "APPEND" {
                let number = try r.number(orThrow: IMAPSyntaxError.invalidArguments)
                guard number > 0 else { throw IMAPSyntaxError.syntax(IMAPReplyText.invalidMessageset) }
                replace = ReplaceTarget(number: number, uid: head.name == "UID REPLACE")
                try r.space(orThrow: IMAPSyntaxError.missingArguments)
            }
            if r.atEnd && literalFollows { return .ordinaryLiteral }
            let mailbox = try r.mailbox()
            try r.space(orThrow: .syntax(IMAPReplyText.missingMessageSize))
            var step = AppendStep.messageStart
            let items = try appendItems(&r, step: &step, literalFollows: literalFollows, single: replace != nil)
            return .items(tag: head.tag, mailbox: mailbox, items, step: step, replace: replace)
        } catch let error as IMAPSyntaxError {
            return .error(IMAPCommandError(tag: head.tag, command: head.name, reason: error.reason))
        } catch {
            return .error(
                IMAPCommandError(
                    tag: head.tag, command: head.name, reason: IMAPSyntaxError.invalidArguments.reason))
        }
    }
}
