/// The base subject of RFC 5256 §2.1, which SORT SUBJECT and the THREAD algorithms compare. The subject is
/// MIME-decoded and case-mapped first (i;unicode-casemap), so `Re:`, `RE:` and `re:` are all `RE:` by then.
/// Details follow Dovecot's imap-base-subject.c: after a blob or a `Re`/`Fwd` one space is skipped.
struct BaseSubject: Sendable, Equatable {
    /// The base subject as i;unicode-casemap key bytes.
    var key: [UInt8]
    /// A `Re:`/`Fwd:` leader, a `(fwd)` trailer or a `[fwd: ...]` wrapper was removed (RFC 5256 §2.1 step 4 of
    /// THREAD=REFERENCES' subject grouping needs this).
    var isReplyOrForward: Bool
}

extension BaseSubject {
    /// From the raw `Subject:` value.
    init(subject: some Collection<UInt8>) {
        self.init(mapped: UnicodeCasemap.key(EncodedWords.decode(subject)))
    }

    /// From a value already decoded and case-mapped.
    init(mapped: [UInt8]) {
        var text = Self.packedWhitespace(mapped)
        var start = 0
        var replyOrForward = false
        repeat {
            // (2) trailers: "(FWD)" and spaces at the end.
            Self.removeTrailers(&text, from: start, &replyOrForward)
            // (3)-(5) leaders and blobs, until none is left.
            var found: Bool
            repeat {
                found = Self.removeLeader(text, &start, &replyOrForward)
                if Self.removeBlobWhenNonEmpty(text, &start) { found = true }
            } while found
            // (6) "[FWD:" ... "]" around the whole rest.
        } while Self.removeForwardWrapper(&text, &start, &replyOrForward)
        self.init(key: Array(text[start...]), isReplyOrForward: replyOrForward)
    }

    private static let space = UInt8(ascii: " ")

    /// (1) Tabs, CR and LF become spaces; runs of spaces become one.
    private static func packedWhitespace(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var lastWasSpace = false
        for byte in bytes {
            if byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A {
                if !lastWasSpace { out.append(space) }
                lastWasSpace = true
            } else {
                out.append(byte)
                lastWasSpace = false
            }
        }
        return out
    }

    private static func removeTrailers(_ text: inout [UInt8], from start: Int, _ replyOrForward: inout Bool) {
        var end = text.count
        let fwd = Array("(FWD)".utf8)
        while end > start {
            if text[end - 1] == space {
                end -= 1
            } else if end - 5 >= 0, Array(text[(end - 5)..<end]) == fwd {
                replyOrForward = true
                end -= 5
            } else {
                break
            }
        }
        text.removeSubrange(end...)
    }

    /// `[` *BLOBCHAR `]` and one space after it; the index after it, or nil when there is no blob at `index`.
    private static func blobEnd(_ text: [UInt8], _ index: Int) -> Int? {
        guard index < text.count, text[index] == UInt8(ascii: "[") else { return nil }
        var position = index + 1
        while position < text.count, text[position] != UInt8(ascii: "["), text[position] != UInt8(ascii: "]") {
            position += 1
        }
        guard position < text.count, text[position] == UInt8(ascii: "]") else { return nil }
        position += 1
        if position < text.count, text[position] == space { position += 1 }
        return position
    }

    /// subj-leader = (*subj-blob subj-refwd) / WSP; a leading space always goes.
    private static func removeLeader(_ text: [UInt8], _ start: inout Int, _ replyOrForward: inout Bool) -> Bool {
        var removed = false
        if start < text.count, text[start] == space {
            start += 1
            removed = true
        }
        var position = start
        while position < text.count, text[position] == UInt8(ascii: "[") {
            guard let end = blobEnd(text, position) else { return removed }
            position = end
        }
        func has(_ word: String) -> Bool {
            let bytes = Array(word.utf8)
            return position + bytes.count <= text.count && Array(text[position..<(position + bytes.count)]) == bytes
        }
        if has("RE") {
            position += 2
        } else if has("FWD") {
            position += 3
        } else if has("FW") {
            position += 2
        } else {
            return removed
        }
        if position < text.count, text[position] == space { position += 1 }
        if position < text.count, text[position] == UInt8(ascii: "[") {
            guard let end = blobEnd(text, position) else { return removed }
            position = end
        }
        guard position < text.count, text[position] == UInt8(ascii: ":") else { return removed }
        start = position + 1
        replyOrForward = true
        return true
    }

    /// (4) A leading blob goes when something is left after it.
    private static func removeBlobWhenNonEmpty(_ text: [UInt8], _ start: inout Int) -> Bool {
        guard let end = blobEnd(text, start), end < text.count else { return false }
        start = end
        return true
    }

    private static func removeForwardWrapper(_ text: inout [UInt8], _ start: inout Int, _ replyOrForward: inout Bool)
        -> Bool
    {
        let header = Array("[FWD:".utf8)
        guard start + header.count <= text.count, Array(text[start..<(start + header.count)]) == header,
            text.last == UInt8(ascii: "]")
        else { return false }
        replyOrForward = true
        text.removeLast()
        start += header.count
        return true
    }
}
