/// FETCH items (RFC 3501 §6.4.5, §9 `fetch-att`; BINARY from RFC 3516).
extension IMAPCommandGrammar {
    static func fetchAttributes(_ r: inout IMAPArgumentReader) throws -> [FetchAttribute] {
        if r.peek == UInt8(ascii: "(") {
            let lists = try r.parenthesized { try fetchAttribute(&$0, inList: true) }
            return lists.flatMap { $0 }
        }
        return try fetchAttribute(&r)
    }

    /// One item; the macros expand to several, and are unknown inside a list (as in Dovecot).
    static func fetchAttribute(_ r: inout IMAPArgumentReader, inList: Bool = false) throws -> [FetchAttribute] {
        let name = String(
            decoding: r.take(while: { IMAPArgumentReader.isAtomChar($0) && $0 != UInt8(ascii: "[") }),
            as: UTF8.self
        ).uppercased()
        try r.countArgument()
        switch name {
        case "ALL" where !inList: return FetchAttribute.all
        case "FAST" where !inList: return FetchAttribute.fast
        case "FULL" where !inList: return FetchAttribute.full
        case "ENVELOPE": return [.envelope]
        case "FLAGS": return [.flags]
        case "INTERNALDATE": return [.internalDate]
        case "RFC822": return [.rfc822]
        case "RFC822.HEADER": return [.rfc822Header]
        case "RFC822.SIZE": return [.rfc822Size]
        case "RFC822.TEXT": return [.rfc822Text]
        case "BODYSTRUCTURE": return [.bodyStructure]
        case "UID": return [.uid]
        case "MODSEQ": return [.modSeq]
        case "SAVEDATE": return [.saveDate]
        // Dovecot takes .PEEK forms too (a preview never sets \Seen).
        case "PREVIEW", "SNIPPET", "PREVIEW.PEEK", "SNIPPET.PEEK":
            return [try preview(&r, snippet: name.hasPrefix("SNIPPET"), inList: inList)]
        case "EMAILID": return [.emailID]
        case "THREADID": return [.threadID]
        case "BODY", "BODY.PEEK":
            guard r.peek == UInt8(ascii: "[") else {
                if name == "BODY" { return [.body] }
                throw IMAPSyntaxError.syntax(IMAPReplyText.invalidBodySection)
            }
            let section = try bodySection(&r)
            return [.bodySection(section, partial: try partial(&r), peek: name == "BODY.PEEK")]
        case "BINARY", "BINARY.PEEK", "BINARY.SIZE":
            // Dovecot takes every BODY[] section here (HEADER, TEXT, MIME, HEADER.FIELDS), not only part numbers.
            guard r.peek == UInt8(ascii: "[") else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.invalidBodySection)
            }
            let section = try bodySection(&r, invalid: IMAPReplyText.invalidBinarySection)
            if name == "BINARY.SIZE" { return [.binarySize(section)] }
            return [.binary(section, partial: try partial(&r), peek: name == "BINARY.PEEK")]
        default:
            if name.isEmpty { throw IMAPSyntaxError.invalidArguments }
            throw IMAPSyntaxError.syntax(IMAPReplyText.unknownParameter(name))
        }
    }

    /// PREVIEW's modifiers (RFC 8970 §5: `"PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"]`) with
    /// Dovecot's SNIPPET ones: LAZY, FUZZY and LAZY=FUZZY, in any case.
    /// An empty modifier list is an error inside a FETCH list only (Dovecot).
    static func preview(_ r: inout IMAPArgumentReader, snippet: Bool, inList: Bool) throws -> FetchAttribute {
        var fuzzy = snippet
        var lazy = false
        var lookahead = r
        guard lookahead.skip(UInt8(ascii: " ")), lookahead.peek == UInt8(ascii: "(") else {
            return .preview(snippet: snippet, fuzzy: fuzzy, lazy: lazy)
        }
        r = lookahead
        let modifiers = try r.parenthesized {
            String(decoding: $0.take(while: IMAPArgumentReader.isAtomChar), as: UTF8.self)
        }
        if modifiers.isEmpty, inList { throw IMAPSyntaxError.syntax(IMAPReplyText.fetchListNonAtoms) }
        for modifier in modifiers {
            switch modifier.uppercased() {
            case "LAZY": lazy = true
            case "FUZZY": fuzzy = true
            case "LAZY=FUZZY":
                lazy = true
                fuzzy = true
            default: throw IMAPSyntaxError.syntax(IMAPReplyText.unsupportedPreviewModifier(modifier))
            }
        }
        return .preview(snippet: snippet, fuzzy: fuzzy, lazy: lazy)
    }

    /// `"[" [section-spec] "]"`.
    static func bodySection(
        _ r: inout IMAPArgumentReader, invalid text: String = IMAPReplyText.invalidBodySection
    ) throws -> BodySection {
        let invalid = IMAPSyntaxError.syntax(text)
        guard r.skip(UInt8(ascii: "[")) else { throw invalid }
        let spec = String(
            decoding: r.take(while: {
                $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "(")
            }),
            as: UTF8.self
        ).uppercased()
        var pieces = spec.split(separator: ".", omittingEmptySubsequences: false)
        if spec.isEmpty { pieces = [] }
        var part: [Int] = []
        while let first = pieces.first, let number = Int(first), number > 0, first.first != "0",
            first.count <= 9
        {
            part.append(number)
            pieces.removeFirst()
        }
        let kindText = pieces.joined(separator: ".")
        var kind: BodySection.Kind?
        switch kindText {
        case "": kind = nil
        case "HEADER": kind = .header
        case "TEXT": kind = .text
        case "MIME":
            guard !part.isEmpty else { throw invalid }
            kind = .mime
        case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
            guard r.skip(UInt8(ascii: " ")), r.peek == UInt8(ascii: "(") else { throw invalid }
            let names = try r.parenthesized { String(decoding: try $0.astring(), as: UTF8.self) }
            guard !names.isEmpty else { throw invalid }
            kind = kindText == "HEADER.FIELDS" ? .headerFields(names) : .headerFieldsNot(names)
        default:
            throw invalid
        }
        guard r.skip(UInt8(ascii: "]")) else {
            throw r.atEnd && kind != nil ? IMAPSyntaxError.syntax(IMAPReplyText.missingParen) : invalid
        }
        return BodySection(part: part, kind: kind)
    }

    /// `"<" number64 ["." nz-number64] ">"` (RFC 9051 §9), with Dovecot's texts; Dovecot also takes the offset
    /// alone, and a zero length (an empty answer).
    static func partial(_ r: inout IMAPArgumentReader) throws -> Partial? {
        guard r.skip(UInt8(ascii: "<")) else { return nil }
        func invalid(_ detail: String) -> IMAPSyntaxError { .syntax("Invalid BODY[..] parameter: " + detail) }
        let offset = try modSeqValue(&r, orThrow: invalid("Too big partial start"))
        var length: UInt64?
        if r.skip(UInt8(ascii: ".")) {
            length = try modSeqValue(&r, orThrow: invalid("Too big partial end"))
        }
        guard r.skip(UInt8(ascii: ">")) else { throw invalid("Missing '>' in partial") }
        return Partial(offset: offset, length: length)
    }
}
