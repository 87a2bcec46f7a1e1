public import TernMailbox

/// SEARCH keys outside an IMAP session. doveadm's search queries are IMAP SEARCH keys given as separate
/// command-line words (Dovecot's mail-search-parser-cmdline), so they go through the same grammar and the
/// same evaluator as `SEARCH` does.
public enum SearchQuery {
    /// A query the grammar refused; the text is Dovecot's (`Unknown argument BOGUS`, `Missing argument`).
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Parses `words` (already split by the shell) as a list of SEARCH keys, ANDed. Each word is one
    /// token: a word that is not an atom or a sequence set goes to the grammar as a literal, so
    /// `subject "two words"` needs no IMAP quoting.
    public static func parse(words: [String]) throws(ParseError) -> SearchKey {
        guard !words.isEmpty else { throw ParseError(description: IMAPReplyText.missingSearchParameters) }
        var reader = IMAPArgumentReader(command(words), limits: IMAPParserLimits())
        do {
            var keys = [try IMAPCommandGrammar.searchKey(&reader)]
            while reader.moreArguments() { keys.append(try IMAPCommandGrammar.searchKey(&reader)) }
            try reader.expectEnd()
            return keys.count == 1 ? keys[0] : .and(keys)
        } catch let error as IMAPSyntaxError {
            throw ParseError(description: text(of: error.reason))
        } catch {
            throw ParseError(description: "\(error)")
        }
    }

    /// The UIDs of the messages in `mailbox` that match `key`, ascending.
    public static func matchingUIDs(_ key: SearchKey, in mailbox: any Mailbox) -> [UInt32] {
        let largestUID = mailbox.messages.last?.uid ?? 0
        var matches: [UInt32] = []
        for (index, message) in mailbox.messages.enumerated() {
            let candidate = SearchCandidate(
                message: message, sequence: UInt32(index + 1), count: UInt32(mailbox.messages.count),
                largestUID: largestUID, mailbox: mailbox, load: { uid in messageBytes(uid, in: mailbox) })
            if candidate.matches(key) { matches.append(message.uid) }
        }
        return matches
    }

    /// Whether a mailbox name matches a mask as LIST matches patterns: `*` anything, `%` anything but the
    /// hierarchy separator, INBOX in any case (doveadm's `mailbox` search key and mailbox masks).
    public static func mailboxName(_ name: String, matches mask: String, separator: Character) -> Bool {
        ListPattern(Array(mask.utf8), separator: Array(String(separator).utf8).first ?? 0).matches(Array(name.utf8))
    }

    /// The words as one command line; literals carry the words that need them.
    static func command(_ words: [String]) -> RawCommand {
        var raw = RawCommand()
        for (index, word) in words.enumerated() {
            // `(` and `)` may come as words of their own; IMAP wants them next to the keys they enclose.
            if index > 0, words[index - 1] != "(", word != ")" { raw.text.append(UInt8(ascii: " ")) }
            let bytes = Array(word.utf8)
            if !bytes.isEmpty, bytes.allSatisfy(isBareTokenByte) {
                raw.text += bytes
            } else {
                raw.text += Array("{\(bytes.count)}".utf8)
                raw.literalEnds.append(raw.text.count)
                raw.literals.append(bytes)
            }
        }
        return raw
    }

    /// Atom bytes plus the sequence-set and parenthesis characters, which the grammar reads unquoted.
    private static func isBareTokenByte(_ byte: UInt8) -> Bool {
        IMAPArgumentReader.isAtomChar(byte) || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "(")
            || byte == UInt8(ascii: ")")
    }

    private static func text(of reason: IMAPCommandError.Reason) -> String {
        switch reason {
        case .syntax(let detail): detail
        case .tooLong: "Too long argument"
        default: "Invalid arguments"
        }
    }

    static func messageBytes(_ uid: UInt32, in mailbox: any Mailbox) -> [UInt8]? {
        guard var reader = try? mailbox.openMessage(uid: uid) else { return nil }
        var raw: [UInt8] = []
        while let chunk = try? reader.read(upTo: 1 << 16), !chunk.isEmpty { raw += chunk }
        return CRLF.normalized(raw)
    }
}
