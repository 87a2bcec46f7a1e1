/// SEARCH (RFC 3501 §6.4.4, §9 `search`; RETURN options from RFC 4731 ESEARCH).
extension IMAPCommandGrammar {
    static func search(_ r: inout IMAPArgumentReader) throws -> SearchCommand {
        let missing = IMAPSyntaxError.syntax(IMAPReplyText.missingSearchParameters)
        try r.space(orThrow: missing)
        var returnOptions: [SearchReturnOption]?
        var partial: ClosedRange<UInt32>?
        var charset: String?
        if r.keyword("RETURN") {
            // Without a list after it, Dovecot takes RETURN for a search key.
            guard r.skip(UInt8(ascii: " ")), r.peek == UInt8(ascii: "(") else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.unknownSearchArgument("RETURN"))
            }
            returnOptions = try r.parenthesized { (reader: inout IMAPArgumentReader) throws -> SearchReturnOption? in
                let name = try reader.atom(upper: true)
                if name == "PARTIAL" {
                    partial = try partialRange(&reader)
                    return nil
                }
                guard let option = SearchReturnOption(rawValue: name) else {
                    throw IMAPSyntaxError.syntax(IMAPReplyText.unknownSearchReturnOptionName)
                }
                return option
            }.compactMap { $0 }
            if partial != nil, returnOptions?.contains(.all) == true {
                throw IMAPSyntaxError.syntax(IMAPReplyText.partialConflictsWithAll)
            }
            try r.space(orThrow: missing)
        }
        if r.keyword("CHARSET") {
            try r.space(orThrow: missing)
            charset = try r.astringText().uppercased()
            try r.space(orThrow: missing)
        }
        var keys = [try searchKey(&r)]
        while r.moreArguments() {
            if r.atEnd { break }  // Dovecot allows a trailing space
            keys.append(try searchKey(&r))
        }
        try r.expectEnd()
        return SearchCommand(
            returnOptions: returnOptions, partial: partial, charset: charset,
            key: keys.count == 1 ? keys[0] : .and(keys))
    }

    /// RFC 5267 `partial-range` after PARTIAL: `low:high` of nz-numbers, either order. Dovecot 2.3 knows no
    /// negative ranges (RFC 9394).
    static func partialRange(_ r: inout IMAPArgumentReader) throws -> ClosedRange<UInt32> {
        let broken = IMAPSyntaxError.syntax(IMAPReplyText.partialRangeBroken)
        try r.space(orThrow: broken)
        let text = r.take(while: IMAPArgumentReader.isAtomChar)
        let ends = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard ends.count == 2, let a = IMAPNumber.parse(ends[0], allowZero: false),
            let b = IMAPNumber.parse(ends[1], allowZero: false)
        else { throw broken }
        return min(a, b)...max(a, b)
    }

    static func searchKey(_ r: inout IMAPArgumentReader) throws -> SearchKey {
        if r.peek == UInt8(ascii: "(") {
            try r.enter()
            defer { r.leave() }
            _ = r.skip(UInt8(ascii: "("))
            var keys: [SearchKey] = []
            while true {
                if r.atEnd { throw IMAPSyntaxError.syntax(IMAPReplyText.missingParen) }
                keys.append(try searchKey(&r))
                if r.skip(UInt8(ascii: ")")) { break }
                guard r.skip(UInt8(ascii: " ")) else {
                    throw r.atEnd
                        ? IMAPSyntaxError.syntax(IMAPReplyText.missingParen) : IMAPSyntaxError.invalidArguments
                }
            }
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if let first = r.peek,
            (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) || first == UInt8(ascii: "*")
                || first == UInt8(ascii: "$")
        {
            return .sequenceSet(try r.sequenceSet())
        }
        let missing = IMAPSyntaxError.syntax(IMAPReplyText.missingArgument)
        let nameBytes = r.take(while: IMAPArgumentReader.isAtomChar)
        guard !nameBytes.isEmpty else { throw missing }
        try r.countArgument()
        let name = String(decoding: nameBytes, as: UTF8.self).uppercased()
        func text(_ r: inout IMAPArgumentReader) throws -> String {
            try r.space(orThrow: missing)
            return try r.astringText()
        }
        func date(_ r: inout IMAPArgumentReader) throws -> IMAPDate {
            try r.space(orThrow: missing)
            return try r.date(orThrow: .syntax(IMAPReplyText.invalidSearchDate))
        }
        func size(_ r: inout IMAPArgumentReader) throws -> UInt32 {
            try r.space(orThrow: missing)
            return try r.number(orThrow: .syntax(IMAPReplyText.invalidSearchSize))
        }
        switch name {
        case "ALL": return .all
        case "ANSWERED": return .answered
        case "DELETED": return .deleted
        case "DRAFT": return .draft
        case "FLAGGED": return .flagged
        case "NEW": return .new
        case "OLD": return .old
        case "RECENT": return .recent
        case "SEEN": return .seen
        case "UNANSWERED": return .unanswered
        case "UNDELETED": return .undeleted
        case "UNDRAFT": return .undraft
        case "UNFLAGGED": return .unflagged
        case "UNSEEN": return .unseen
        case "KEYWORD", "UNKEYWORD":
            try r.space(orThrow: missing)
            let keyword = try r.atom()
            return name == "KEYWORD" ? .keyword(keyword) : .unkeyword(keyword)
        case "BCC": return .bcc(try text(&r))
        case "BODY": return .body(try text(&r))
        case "CC": return .cc(try text(&r))
        case "FROM": return .from(try text(&r))
        case "SUBJECT": return .subject(try text(&r))
        case "TEXT": return .text(try text(&r))
        case "TO": return .to(try text(&r))
        case "HEADER":
            let field = try text(&r)
            return .header(field, try text(&r))
        case "BEFORE": return .before(try date(&r))
        case "ON": return .on(try date(&r))
        case "SINCE": return .since(try date(&r))
        case "SENTBEFORE": return .sentBefore(try date(&r))
        case "SAVEDBEFORE": return .savedBefore(try date(&r))
        case "SAVEDON": return .savedOn(try date(&r))
        case "SAVEDSINCE": return .savedSince(try date(&r))
        case "SAVEDATESUPPORTED": return .saveDateSupported
        case "SENTON": return .sentOn(try date(&r))
        case "SENTSINCE": return .sentSince(try date(&r))
        case "OLDER", "YOUNGER":
            try r.space(orThrow: .syntax(IMAPReplyText.missingSearchKeyParameter(name)))
            let seconds = try r.number(orThrow: .syntax(IMAPReplyText.invalidSearchInterval))
            guard seconds > 0 else { throw IMAPSyntaxError.syntax(IMAPReplyText.invalidSearchInterval) }
            return name == "OLDER" ? .older(seconds) : .younger(seconds)
        case "LARGER": return .larger(try size(&r))
        case "SMALLER": return .smaller(try size(&r))
        case "UID":
            try r.space(orThrow: missing)
            return .uid(try r.sequenceSet())
        case "MODSEQ": return .modSeq(try searchModSeq(&r))
        case "EMAILID", "THREADID":
            try r.space(orThrow: missing)
            let id = try r.atom()
            return name == "EMAILID" ? .emailID(id) : .threadID(id)
        case "NOT":
            try r.space(orThrow: missing)
            try r.enter()
            defer { r.leave() }
            return .not(try searchKey(&r))
        case "OR":
            try r.space(orThrow: missing)
            try r.enter()
            defer { r.leave() }
            let left = try searchKey(&r)
            try r.space(orThrow: missing)
            return .or(left, try searchKey(&r))
        default:
            throw IMAPSyntaxError.syntax(IMAPReplyText.unknownSearchArgument(name))
        }
    }
}
