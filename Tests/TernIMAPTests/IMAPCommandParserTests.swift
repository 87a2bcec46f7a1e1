import TernIMAP
import Testing

@Suite struct IMAPCommandParserTests {
    @Test func simpleCommands() {
        #expect(
            parseEvents("a001 NOOP\r\nA2 capability\r\n") == [
                .command(TaggedCommand(tag: "a001", command: .noop)),
                .command(TaggedCommand(tag: "A2", command: .capability)),
            ])
        #expect(command("a LOGOUT") == .logout)
        // A bare LF ends a line as in Dovecot.
        #expect(parseEvents("a NOOP\n") == [.command(TaggedCommand(tag: "a", command: .noop))])
    }

    @Test func incompleteLineWaits() {
        var parser = IMAPCommandParser()
        parser.append(bytes("a NO"))
        #expect(parser.next() == nil)
        parser.append(bytes("OP\r"))
        #expect(parser.next() == nil)
        parser.append(bytes("\n"))
        #expect(parser.next() == .command(TaggedCommand(tag: "a", command: .noop)))
        #expect(parser.next() == nil)
    }

    @Test func synchronizingLiteralAsksForContinuation() {
        var parser = IMAPCommandParser()
        parser.append(bytes("A001 LOGIN {11}\r\n"))
        #expect(parser.next() == .continuationRequest)
        #expect(parser.next() == nil)
        parser.append(bytes("FRED FOOBAR {7}\r\n"))
        #expect(parser.next() == .continuationRequest)
        parser.append(bytes("fat man\r\n"))
        #expect(
            parser.next()
                == .command(
                    TaggedCommand(tag: "A001", command: .login(username: "FRED FOOBAR", password: "fat man")))
        )
    }

    @Test func nonSynchronizingLiteralNeedsNoContinuation() {
        #expect(
            parseEvents("a LOGIN {3+}\r\nabc {2+}\r\nxy\r\n") == [
                .command(TaggedCommand(tag: "a", command: .login(username: "abc", password: "xy")))
            ])
    }

    @Test func literalsSurviveAnySplit() {
        let input = bytes("a LOGIN {5}\r\nb\r\n\"c {3}\r\n{}x\r\nb SELECT \"a {1}\"\r\nc NOOP\r\n")
        let whole = parseEvents(input)
        #expect(
            whole == [
                .continuationRequest, .continuationRequest,
                .command(TaggedCommand(tag: "a", command: .login(username: "b\r\n\"c", password: "{}x"))),
                .command(TaggedCommand(tag: "b", command: .select(MailboxName(bytes: bytes("a {1}"))))),
                .command(TaggedCommand(tag: "c", command: .noop)),
            ])
        for chunk in [1, 2, 3, 7] {
            #expect(parseEvents(input, chunk: chunk) == whole)
        }
    }

    @Test func appendStreamsTheMessage() {
        let message =
            "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n"
        let input = bytes(
            "A003 APPEND saved-messages (\\Seen) {\(message.utf8.count)}\r\n\(message)\r\nA4 NOOP\r\n")
        let expected: [IMAPCommandParser.Event] = [
            .appendStart(
                AppendMessage(
                    tag: "A003", mailbox: MailboxName(bytes: bytes("saved-messages")), flags: [.seen],
                    internalDate: nil,
                    byteCount: message.utf8.count, synchronizing: true)),
            .appendBytes(bytes(message)),
            .appendEnd(tag: "A003"),
            .command(TaggedCommand(tag: "A4", command: .noop)),
        ]
        #expect(parseEvents(input) == expected)
        #expect(parseEvents(input, chunk: 1) == expected)
    }

    @Test func appendInPiecesOfTheChunkSize() {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        var pieces: [Int] = []
        _ = parseEvents(
            bytes("a APPEND INBOX {1000+}\r\n") + body + bytes("\r\n"),
            limits: IMAPParserLimits(appendChunkSize: 300)
        ) {
            event, _ in
            if case .appendBytes(let piece) = event { pieces.append(piece.count) }
        }
        #expect(pieces == [300, 300, 300, 100])
    }

    @Test func appendWithDateAndMailboxLiteral() {
        let events = parseEvents("a APPEND {5+}\r\nINBOX \"17-Jul-1996 02:44:25 -0700\" {2+}\r\nhi\r\n")
        let date = IMAPDateTime("17-Jul-1996 02:44:25 -0700")
        #expect(date != nil)
        #expect(
            events == [
                .appendStart(
                    AppendMessage(
                        tag: "a", mailbox: .inbox, flags: [], internalDate: date, byteCount: 2,
                        synchronizing: false)),
                .appendBytes(bytes("hi")), .appendEnd(tag: "a"),
            ])
    }

    @Test func multiappend() {
        let events = parseEvents("a APPEND INBOX {1+}\r\nx (\\Draft) {1+}\r\ny\r\n")
        #expect(
            events == [
                .appendStart(
                    AppendMessage(
                        tag: "a", mailbox: .inbox, flags: [], internalDate: nil, byteCount: 1,
                        synchronizing: false)),
                .appendBytes(bytes("x")),
                .appendStart(
                    AppendMessage(
                        tag: "a", mailbox: .inbox, flags: [.draft], internalDate: nil, byteCount: 1,
                        synchronizing: false, index: 1)),
                .appendBytes(bytes("y")), .appendEnd(tag: "a"),
            ])
    }

    @Test func rejectedSynchronizingAppendReadsNothing() {
        let events = parseEvents(bytes("a APPEND INBOX {10}\r\nb NOOP\r\n")) { event, parser in
            if case .appendStart = event { parser.rejectAppend() }
        }
        #expect(events.count == 2)
        #expect(events.last == .command(TaggedCommand(tag: "b", command: .noop)))
    }

    @Test func rejectedNonSynchronizingAppendIsSkipped() {
        let events = parseEvents(bytes("a APPEND INBOX {10+}\r\n0123456789\r\nb NOOP\r\n")) {
            event, parser in
            if case .appendStart = event { parser.rejectAppend() }
        }
        #expect(events.count == 2)
        #expect(events.last == .command(TaggedCommand(tag: "b", command: .noop)))
    }

    @Test func badAppendSkipsItsLiteral() {
        // Dovecot would run the literal's "x" as a command here; Tern skips it (RFC 7888 §4).
        let events = parseEvents("a APPEND INBOX (\\Foo) {1+}\r\nx\r\nb NOOP\r\n")
        #expect(
            events == [
                .error(
                    IMAPCommandError(
                        tag: "a", command: "APPEND", reason: .syntax("Invalid system flag \\FOO"))),
                .command(TaggedCommand(tag: "b", command: .noop)),
            ])
        let sync = parseEvents("a APPEND INBOX \"bad date\" {1}\r\nb NOOP\r\n")
        #expect(
            sync == [
                .error(
                    IMAPCommandError(tag: "a", command: "APPEND", reason: .syntax("Invalid internal date"))),
                .command(TaggedCommand(tag: "b", command: .noop)),
            ])
    }

    @Test func appendWithoutMessage() {
        #expect(parseError("a APPEND INBOX")?.reason == .syntax("Missing message size"))
        #expect(parseError("a APPEND")?.reason == .syntax("Missing arguments"))
    }

    @Test func continuationLines() {
        var parser = IMAPCommandParser()
        parser.append(bytes("a AUTHENTICATE PLAIN\r\nAGZyZWQAc2VjcmV0\r\nb IDLE\r\nDONE\r\n"))
        #expect(
            parser.next()
                == .command(
                    TaggedCommand(tag: "a", command: .authenticate(mechanism: "PLAIN", initialResponse: nil)))
        )
        parser.expectContinuationLine()
        #expect(parser.next() == .continuationLine(bytes("AGZyZWQAc2VjcmV0")))
        #expect(parser.next() == .command(TaggedCommand(tag: "b", command: .idle)))
        parser.expectContinuationLine()
        #expect(parser.next() == .continuationLine(bytes("DONE")))
    }

    @Test func startTLSDropsPipelinedBytes() {
        var parser = IMAPCommandParser()
        parser.append(bytes("a STARTTLS\r\nb LOGIN x y\r\n"))
        #expect(parser.next() == .command(TaggedCommand(tag: "a", command: .startTLS)))
        #expect(parser.takeBufferedBytes() == bytes("b LOGIN x y\r\n"))
        #expect(parser.next() == nil)
    }

    @Test func errorsResynchronise() {
        let events = parseEvents("(a) NOOP\r\na\r\na FOO\r\na   NOOP\r\nb NOOP\r\n")
        #expect(
            events == [
                .error(IMAPCommandError(tag: nil, command: nil, reason: .invalidTag)),
                .error(IMAPCommandError(tag: "a", command: nil, reason: .invalidCommandName)),
                .error(IMAPCommandError(tag: "a", command: "FOO", reason: .unknownCommand)),
                .error(IMAPCommandError(tag: "a", command: nil, reason: .invalidCommandName)),
                .command(TaggedCommand(tag: "b", command: .noop)),
            ])
        #expect(parseError("a LOGIN a b\rc")?.reason == .crWithoutLF)
        #expect(parseError("a SELECT \"x")?.reason == .syntax("Missing '\"'"))
    }

    @Test func literalInsideQuotesIsText() {
        #expect(command("a SELECT \"x {3}\"") == .select(MailboxName(bytes: bytes("x {3}"))))
        // An unterminated quote ending in {3}: not a literal, just a missing quote.
        #expect(parseError("a SELECT \"x {3}")?.reason == .syntax("Missing '\"'"))
    }
}

@Suite struct IMAPSampleSessionTests {
    /// The client side of RFC 3501 §8, pipelined and fed byte by byte.
    @Test func rfc3501SampleSession() {
        let client =
            "a001 login mrc secret\r\na002 select inbox\r\na003 fetch 12 full\r\n"
            + "a004 fetch 12 body[header]\r\na005 store 12 +flags \\deleted\r\na006 logout\r\n"
        let twelve = SequenceSet.ranges([SequenceRange(.number(12))])
        let expected: [IMAPCommandParser.Event] = [
            .command(TaggedCommand(tag: "a001", command: .login(username: "mrc", password: "secret"))),
            .command(TaggedCommand(tag: "a002", command: .select(.inbox))),
            .command(TaggedCommand(tag: "a003", command: .fetch(twelve, FetchAttribute.full, uid: false))),
            .command(
                TaggedCommand(
                    tag: "a004",
                    command: .fetch(twelve, [.bodySection(BodySection(kind: .header), partial: nil, peek: false)], uid: false))),
            .command(
                TaggedCommand(
                    tag: "a005",
                    command: .store(twelve, StoreFlags(operation: .add, silent: false, flags: [.deleted]), uid: false))),
            .command(TaggedCommand(tag: "a006", command: .logout)),
        ]
        #expect(parseEvents(bytes(client), chunk: 1) == expected)
        #expect(parseEvents(bytes(client)) == expected)
    }

    /// Dovecot 2.3 takes literals up to imap_max_line_length (64k): `{60000}` got `+ OK`, `{70000}` `* BYE`.
    @Test func dovecotLiteralLimit() {
        #expect(parseEvents("a SELECT {60000}\r\n") == [.continuationRequest])
        #expect(parseEvents("a SELECT {70000}\r\n") == [.fatal(.literalTooLarge)])
    }
}
