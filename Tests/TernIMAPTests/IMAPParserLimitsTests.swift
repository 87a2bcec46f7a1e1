import TernIMAP
import Testing

@Suite struct IMAPParserLimitsTests {
    @Test func overlongLineIsRefusedAndSkipped() {
        let limits = IMAPParserLimits(maxLineLength: 100)
        let long = "a FETCH 1 " + String(repeating: "x", count: 500) + "\r\nb NOOP\r\n"
        for chunk in [1, 7, .max] {
            #expect(
                parseEvents(bytes(long), chunk: chunk, limits: limits) == [
                    .error(IMAPCommandError(tag: "a", command: "FETCH", reason: .tooLong)),
                    .command(TaggedCommand(tag: "b", command: .noop)),
                ])
        }
    }

    @Test func overlongLineWithLiteralSkipsTheLiteral() {
        let limits = IMAPParserLimits(maxLineLength: 100)
        let input = "a LOGIN " + String(repeating: "x", count: 200) + " {5+}\r\nb NOO\r\nc NOOP\r\n"
        #expect(
            parseEvents(bytes(input), limits: limits) == [
                .error(IMAPCommandError(tag: "a", command: "LOGIN", reason: .tooLong)),
                .command(TaggedCommand(tag: "c", command: .noop)),
            ])
        // A synchronizing literal is not sent after the BAD.
        let sync = "a LOGIN " + String(repeating: "x", count: 200) + " {5}\r\nc NOOP\r\n"
        #expect(
            parseEvents(bytes(sync), chunk: 3, limits: limits).last
                == .command(TaggedCommand(tag: "c", command: .noop)))
    }

    @Test func textAcrossLiteralsCountsTowardsTheLineLimit() {
        let limits = IMAPParserLimits(maxLineLength: 100, maxLiteralSize: 1000)
        var input = "a SEARCH"
        for _ in 0..<20 { input += " TEXT {1+}\r\nx" }
        input += "\r\nb NOOP\r\n"
        let events = parseEvents(bytes(input), limits: limits)
        #expect(events.first == .error(IMAPCommandError(tag: "a", command: "SEARCH", reason: .tooLong)))
        #expect(events.last == .command(TaggedCommand(tag: "b", command: .noop)))
    }

    @Test func literalsAreBounded() {
        let limits = IMAPParserLimits(maxLiteralSize: 10)
        #expect(parseEvents("a LOGIN {11}\r\n", limits: limits) == [.fatal(.literalTooLarge)])
        #expect(
            parseEvents("a LOGIN {6+}\r\nabcdef {6+}\r\n", limits: limits) == [.fatal(.literalTooLarge)])
        #expect(parseEvents("a LOGIN {99999999999999999999}\r\n") == [.fatal(.literalTooLarge)])
        // After a fatal error nothing more comes out.
        var parser = IMAPCommandParser(limits: limits)
        parser.append(bytes("a LOGIN {11}\r\nb NOOP\r\n"))
        #expect(parser.next() == .fatal(.literalTooLarge))
        #expect(parser.next() == nil)
        // APPEND's message is not held, so it is not bound by maxLiteralSize.
        let events = parseEvents(
            bytes("a APPEND INBOX {20+}\r\n" + String(repeating: "y", count: 20) + "\r\n"), limits: limits
        )
        #expect(events.last == .appendEnd(tag: "a"))
    }

    @Test func nestingIsBounded() {
        let deep =
            "a SEARCH " + String(repeating: "(", count: 200) + "ALL" + String(repeating: ")", count: 200)
        #expect(parseError(deep)?.reason == .tooLong)
        let nots = "a SEARCH " + String(repeating: "NOT ", count: 5000) + "ALL"
        #expect(parseError(nots)?.reason == .tooLong)
        let fine =
            "a SEARCH " + String(repeating: "(", count: 50) + "ALL" + String(repeating: ")", count: 50)
        #expect(command(fine) != nil)
    }

    @Test func argumentsAreBounded() {
        let limits = IMAPParserLimits(maxArguments: 50)
        let many = "a SEARCH" + String(repeating: " SEEN", count: 100) + "\r\n"
        #expect(
            parseEvents(many, limits: limits).first
                == .error(IMAPCommandError(tag: "a", command: "SEARCH", reason: .tooLong)))
    }

    @Test func continuationLineIsBounded() {
        var parser = IMAPCommandParser(limits: IMAPParserLimits(maxLineLength: 100))
        parser.append(bytes("a AUTHENTICATE PLAIN\r\n"))
        _ = parser.next()
        parser.expectContinuationLine()
        parser.append([UInt8](repeating: 0x41, count: 1000))
        #expect(parser.next() == .error(IMAPCommandError(tag: nil, command: nil, reason: .tooLong)))
        parser.append(bytes("\r\nb NOOP\r\n"))
        #expect(parser.next() == .command(TaggedCommand(tag: "b", command: .noop)))
        #expect(parser.bufferedByteCount < 100)
    }

    /// Random bytes, and random mutations of valid commands: the parser must neither crash nor hold more
    /// than its limits allow, and it must always make progress.
    @Test func fuzz() {
        var rng = SplitMix(seed: 0x5EED)
        let limits = IMAPParserLimits(
            maxLineLength: 512, maxLiteralSize: 512, maxNestingDepth: 20, maxArguments: 200)
        let seeds = [
            "a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (A B)]<0.10>)\r\n",
            "a APPEND INBOX (\\Seen) {5+}\r\nhello\r\n",
            "a SEARCH OR (SEEN FROM x) NOT UID 1:*\r\n",
            "a LIST (SUBSCRIBED) \"\" (% *) RETURN (STATUS (MESSAGES))\r\n",
            "a LOGIN {3}\r\nabc \"d\\\"\"\r\n", "a STORE 1 +FLAGS.SILENT (\\Seen $x)\r\n",
            "a ID (\"k\" NIL)\r\n",
        ]
        let alphabet = bytes("(){}[]<>\"\\ *%+-.:,$0123456789\r\nABCFLAGSEARCHNIL")
        for round in 0..<3000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = (0..<Int(rng.next() % 600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                input = bytes(seeds[Int(rng.next() % UInt64(seeds.count))])
                for _ in 0..<Int(rng.next() % 6) {
                    let at = Int(rng.next() % UInt64(input.count + 1))
                    let b = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                    if rng.next() % 2 == 0, at < input.count {
                        input[at] = b
                    } else {
                        input.insert(b, at: at)
                    }
                }
            }
            var parser = IMAPCommandParser(limits: limits)
            var offset = 0
            var count = 0
            while offset < input.count {
                let n = min(Int(rng.next() % 40) + 1, input.count - offset)
                parser.append(input[offset..<offset + n])
                offset += n
                while let event = parser.next() {
                    count += 1
                    if case .appendStart = event, rng.next() % 3 == 0 { parser.rejectAppend() }
                    if case .command(let c) = event, c.command == .idle || c.command.name == "AUTHENTICATE" {
                        parser.expectContinuationLine()
                    }
                    #expect(count < 10000)
                }
                #expect(parser.bufferedByteCount <= 2 * 512 + 64)
            }
        }
    }
}

/// A small deterministic generator so that fuzz failures are reproducible.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
