import TernIMAP

/// Runs bytes through a parser, split into pieces of `chunk` bytes (1 = byte by byte), and collects the
/// events; consecutive appendBytes are merged so results do not depend on the split.
func parseEvents(
    _ input: [UInt8], chunk: Int = .max, limits: IMAPParserLimits = IMAPParserLimits(),
    onEvent: (IMAPCommandParser.Event, inout IMAPCommandParser) -> Void = { _, _ in }
) -> [IMAPCommandParser.Event] {
    var parser = IMAPCommandParser(limits: limits)
    var events: [IMAPCommandParser.Event] = []
    func drain() {
        while let event = parser.next() {
            onEvent(event, &parser)
            if case .appendBytes(let more) = event, case .appendBytes(let previous)? = events.last {
                events[events.count - 1] = .appendBytes(previous + more)
            } else {
                events.append(event)
            }
        }
    }
    var index = 0
    while index < input.count {
        let end = input.count - index > chunk ? index + chunk : input.count
        parser.append(input[index..<end])
        index = end
        drain()
    }
    drain()
    return events
}

func parseEvents(_ text: String, chunk: Int = .max, limits: IMAPParserLimits = IMAPParserLimits())
    -> [IMAPCommandParser.Event]
{
    parseEvents(Array(text.utf8), chunk: chunk, limits: limits)
}

/// The single command in `line` (CRLF added), or nil.
func command(_ line: String) -> IMAPCommand? {
    let events = parseEvents(line + "\r\n")
    guard events.count == 1, case .command(let tagged) = events[0] else { return nil }
    return tagged.command
}

/// The parser error for `line` (CRLF added), or nil.
func parseError(_ line: String) -> IMAPCommandError? {
    let events = parseEvents(line + "\r\n")
    guard events.count == 1, case .error(let error) = events[0] else { return nil }
    return error
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
