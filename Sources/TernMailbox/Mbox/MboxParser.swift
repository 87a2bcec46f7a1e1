import Glibc

/// Bytes of an mbox file, read at offsets: the open file, or bytes in memory (tests).
struct MboxSource {
    enum Storage {
        case file(Int32)
        case bytes([UInt8])
    }

    let storage: Storage
    let size: Int

    init(fd: Int32) {
        storage = .file(fd)
        var st = stat()
        size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }

    init(bytes: [UInt8]) {
        storage = .bytes(bytes)
        size = bytes.count
    }

    func read(at offset: Int, count: Int) throws(MailboxError) -> [UInt8] {
        let count = max(0, min(count, size - offset))
        guard count > 0 else { return [] }
        switch storage {
        case .bytes(let bytes): return Array(bytes[offset..<offset + count])
        case .file(let fd): return try MessageReader.pread(fd, at: offset, count: count)
        }
    }
}

/// One line of the file: where it starts, its length with the newline, and its first bytes (at most
/// `MboxParser.linePrefix`: header names, flag values and `From ` lines are short; longer lines are only
/// measured).
struct MboxLine {
    var start: Int
    var length: Int
    var prefix: [UInt8]

    var end: Int { start + length }
    /// An empty line: `\n` or `\r\n`.
    var isEmpty: Bool { prefix == [0x0A] || prefix == [0x0D, 0x0A] }
    var startsWithFrom: Bool { prefix.starts(with: MboxParser.fromPrefix) }
}

/// Reads lines through a 64 KiB window; a line of any length costs at most `linePrefix` bytes of memory.
struct MboxLineReader {
    let source: MboxSource
    private(set) var position: Int
    private var window: [UInt8] = []
    private var windowStart = 0

    init(source: MboxSource, position: Int = 0) {
        self.source = source
        self.position = position
    }

    mutating func seek(to offset: Int) { position = offset }

    mutating func next() throws(MailboxError) -> MboxLine? {
        guard position < source.size else { return nil }
        let start = position
        var prefix: [UInt8] = []
        while position < source.size {
            if position < windowStart || position >= windowStart + window.count {
                windowStart = position
                window = try source.read(at: position, count: 65536)
                if window.isEmpty {
                    position = source.size  // the file shrank under the reader: treat it as ending here
                    break
                }
            }
            let from = position - windowStart
            let newline = window[from...].firstIndex(of: 0x0A)
            let stop = newline.map { $0 + 1 } ?? window.count
            if prefix.count < MboxParser.linePrefix {
                prefix += window[from..<min(stop, from + MboxParser.linePrefix - prefix.count)]
            }
            position = windowStart + stop
            if newline != nil { break }
        }
        return MboxLine(start: start, length: position - start, prefix: prefix)
    }
}

/// The parts of one message in an mbox file (offsets into the file). The message as a client sees it is the
/// header without the `hidden` lines, then `headerEnd..<end` (the empty line and the body).
struct MboxEntry: Sendable, Equatable {
    /// The `From ` line.
    var fromOffset: Int
    var fromLine: [UInt8]
    var headerStart: Int
    /// Where the empty line that ends the header starts (`end` when there is none).
    var headerEnd: Int
    var end: Int
    /// Header lines Dovecot keeps for itself (X-UID, Status, X-Status, X-Keywords, X-IMAPbase, X-IMAP): left
    /// out of the message and rewritten on every change.
    var managed: [Range<Int>] = []
    /// `Content-Length`: left out of the message (Dovecot hides it), kept in the file.
    var contentLengthLine: Range<Int>?
    var uid: UInt32?
    var flags: MessageFlags = []
    /// Status `O`: some mail program has seen the message already (it is not \Recent).
    var isOld = false
    var keywords: [String] = []

    /// The byte ranges of the file that make the message a client sees.
    var segments: [Range<Int>] {
        var hidden = managed
        if let contentLengthLine { hidden.append(contentLengthLine) }
        hidden.sort { $0.lowerBound < $1.lowerBound }
        var result: [Range<Int>] = []
        var position = headerStart
        for range in hidden where range.lowerBound >= position {
            if range.lowerBound > position { result.append(position..<range.lowerBound) }
            position = range.upperBound
        }
        if end > position { result.append(position..<end) }
        return result
    }

    var size: Int { segments.reduce(0) { $0 + $1.count } }
}

/// What the first message says about the mailbox: `X-IMAPbase: <uidvalidity> <uidnext> [keywords]`, or the
/// `X-IMAP` header of Dovecot's pseudo message ("DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA").
struct MboxBase: Sendable, Equatable {
    var uidValidity: UInt32
    var nextUID: UInt32
    var keywords: [String]
}

struct ParsedMbox: Sendable, Equatable {
    var base: MboxBase?
    /// The first message is Dovecot's pseudo message, not shown to clients.
    var hasPseudoMessage = false
    var entries: [MboxEntry] = []
}

/// Splits an mbox file into messages the way Dovecot's raw mbox stream does: a message starts with a `From `
/// line (with a time in it) at the start of the file or after an empty line, and ends before the empty line
/// in front of the next one. A `Content-Length` header that points exactly at the next `From ` line (or the
/// end) is trusted, so a body line `From ...` after an empty line does not split a message Dovecot saved
/// without `>From` quoting. Reads line by line: any file size and line length in bounded memory.
enum MboxParser {
    static let fromPrefix = Array("From ".utf8)
    /// Bytes kept of each line; header values Tern reads (flags, UIDs, keyword lists) fit.
    static let linePrefix = 4096

    static func parse(_ source: MboxSource) throws(MailboxError) -> ParsedMbox {
        var result = ParsedMbox()
        var reader = MboxLineReader(source: source)
        guard var line = try reader.next() else { return result }
        guard line.startsWithFrom else { throw MailboxError.invalidMbox(reason: "File isn't in mbox format") }
        while true {
            var entry = MboxEntry(
                fromOffset: line.start, fromLine: line.prefix, headerStart: line.end, headerEnd: source.size,
                end: source.size)
            var contentLength: Int?
            let first = result.entries.isEmpty
            var current: HeaderField?
            var bodyStart: Int?
            // Header.
            while let header = try reader.next() {
                if header.isEmpty {
                    entry.headerEnd = header.start
                    bodyStart = header.end
                    break
                }
                if header.prefix.first == 0x20 || header.prefix.first == 0x09 {
                    if current != nil { current!.range = current!.range.lowerBound..<header.end }
                    continue
                }
                if let field = current { apply(field, to: &entry, mailbox: &result, first: first) }
                current = HeaderField(line: header)
                if current?.name == "content-length" {
                    contentLength = Int(current!.value.trimmingASCIISpaces)
                }
            }
            if let field = current { apply(field, to: &entry, mailbox: &result, first: first) }
            // Body: up to the empty line before the next From_ line.
            var next: MboxLine?
            if let bodyStart {
                if let length = contentLength, length >= 0,
                    let found = try boundary(after: bodyStart + length - 1, in: source)
                {
                    // The empty line is the last byte of the body; a From_ line follows or the file ends.
                    entry.end = found.end
                    reader.seek(to: found.next)
                    next = try reader.next()
                } else {
                    var previousEmpty: MboxLine? = MboxLine(start: entry.headerEnd, length: 0, prefix: [0x0A])
                    while let body = try reader.next() {
                        if let empty = previousEmpty, body.startsWithFrom, isFromLine(body.prefix) {
                            entry.end = empty.start
                            next = body
                            break
                        }
                        previousEmpty = body.isEmpty ? body : nil
                    }
                    if next == nil { entry.end = previousEmpty.map(\.start) ?? source.size }
                }
                entry.end = max(entry.end, entry.headerEnd)
            }
            result.entries.append(entry)
            guard let following = next else { break }
            line = following
        }
        if result.hasPseudoMessage { result.entries.removeFirst() }
        return result
    }

    /// With `Content-Length`: the message ends at `last` + 1 when the byte at `last` ends a line and what
    /// follows is an empty line and a From_ line, or the end of the file (an empty line there is the
    /// separator too). Returns the end of the message and where the next From_ line starts.
    private static func boundary(after last: Int, in source: MboxSource) throws(MailboxError) -> (
        end: Int, next: Int
    )? {
        let end = last + 1
        guard end >= 0, end <= source.size else { return nil }
        if end == source.size { return (end, end) }
        let look = try source.read(at: end, count: 2 + linePrefix)
        if look == [0x0A] { return (end, source.size) }
        guard look.first == 0x0A, Array(look.dropFirst()).starts(with: fromPrefix),
            isFromLine(Array(look.dropFirst()))
        else { return nil }
        return (end, end + 1)
    }

    /// A From_ line has a time (`hh:mm`) after the sender; body lines that merely start with "From " mostly
    /// do not.
    static func isFromLine(_ prefix: [UInt8]) -> Bool {
        let line = prefix.prefix { $0 != 0x0A }
        guard line.count > fromPrefix.count + 5 else { return false }
        let digits = line.map { $0 >= 0x30 && $0 <= 0x39 }
        for index in fromPrefix.count..<(line.count - 4) {
            let position = line.startIndex + index
            if digits[index], digits[index + 1], line[position + 2] == 0x3A, digits[index + 3], digits[index + 4] {
                return true
            }
        }
        return false
    }

    /// Records what a header field means for the message (and, in the first message, for the mailbox).
    private static func apply(_ field: HeaderField, to entry: inout MboxEntry, mailbox: inout ParsedMbox, first: Bool) {
        let value = field.value
        switch field.name {
        case "x-uid":
            entry.managed.append(field.range)
            if let uid = UInt32(value.trimmingASCIISpaces), uid != 0 { entry.uid = uid }
        case "status":
            entry.managed.append(field.range)
            for letter in value {
                if letter == "R" { entry.flags.insert(.seen) }
                if letter == "O" { entry.isOld = true }
            }
        case "x-status":
            entry.managed.append(field.range)
            for letter in value {
                switch letter {
                case "A": entry.flags.insert(.answered)
                case "F": entry.flags.insert(.flagged)
                case "T": entry.flags.insert(.draft)
                case "D": entry.flags.insert(.deleted)
                default: break
                }
            }
        case "x-keywords":
            entry.managed.append(field.range)
            for word in value.split(separator: " ") where !entry.keywords.contains(String(word)) {
                entry.keywords.append(String(word))
            }
        case "x-imapbase", "x-imap":
            entry.managed.append(field.range)
            guard first, mailbox.base == nil else { return }
            let words = value.split(separator: " ")
            guard words.count >= 2, let validity = UInt32(words[0]), validity != 0, let next = UInt32(words[1])
            else { return }
            mailbox.base = MboxBase(
                uidValidity: validity, nextUID: max(next, 1), keywords: words.dropFirst(2).map(String.init))
            if field.name == "x-imap" { mailbox.hasPseudoMessage = true }
        case "content-length":
            entry.contentLengthLine = field.range
        default:
            break
        }
    }
}

/// A header line's name (lowercased), its unfolded value (the part within the line prefix) and the byte range
/// of the line and its continuation lines.
struct HeaderField {
    var name: String
    var value: String
    var range: Range<Int>

    init(line: MboxLine) {
        let text = line.prefix.prefix { $0 != 0x0A && $0 != 0x0D }
        let colon = text.firstIndex(of: 0x3A)
        name = colon.map { String(decoding: text[..<$0], as: UTF8.self).lowercased() } ?? ""
        value = colon.map { String(decoding: text[($0 + 1)...], as: UTF8.self).trimmingASCIISpaces } ?? ""
        range = line.start..<line.end
    }
}

extension StringProtocol {
    var trimmingASCIISpaces: String {
        let trimmed = drop { $0 == " " || $0 == "\t" }
        var end = trimmed.endIndex
        while end > trimmed.startIndex,
            trimmed[trimmed.index(before: end)] == " " || trimmed[trimmed.index(before: end)] == "\t"
        {
            end = trimmed.index(before: end)
        }
        return String(trimmed[..<end])
    }
}
