/// SORT (RFC 5256 §3, RETURN from RFC 5267 ESORT) and THREAD (RFC 5256 §4), with Dovecot's error texts.
extension IMAPCommandGrammar {
    static func sort(_ r: inout IMAPArgumentReader) throws -> SortCommand {
        let invalidSort = IMAPSyntaxError.syntax(IMAPReplyText.invalidSortArgument)
        try r.space(orThrow: invalidSort)
        var returnOptions: [SearchReturnOption]?
        if r.keyword("RETURN") {
            try r.space(orThrow: invalidSort)
            guard r.peek == UInt8(ascii: "(") else { throw invalidSort }
            returnOptions = try r.parenthesized { reader in
                let name = try reader.atom(upper: true)
                guard let option = SearchReturnOption(rawValue: name) else {
                    throw IMAPSyntaxError.syntax(IMAPReplyText.unknownSearchReturnOptionName)
                }
                return option
            }
            try r.space(orThrow: invalidSort)
        }
        guard r.peek == UInt8(ascii: "(") else { throw invalidSort }
        let criteria = try sortProgram(&r)
        try r.space(orThrow: .syntax(IMAPReplyText.invalidCharsetArgument))
        let charset = try charsetArgument(&r, orThrow: .syntax(IMAPReplyText.invalidCharsetArgument))
        return SortCommand(
            returnOptions: returnOptions, criteria: criteria, charset: charset, key: try searchProgram(&r))
    }

    static func thread(_ r: inout IMAPArgumentReader) throws -> ThreadCommand {
        try r.space()
        guard r.peek != UInt8(ascii: "(") else { throw IMAPSyntaxError.invalidArguments }
        let name = try r.astringText()
        try r.space()
        let charset = try charsetArgument(&r, orThrow: .invalidArguments)
        guard let algorithm = ThreadAlgorithm(rawValue: name.uppercased()) else {
            throw IMAPSyntaxError.syntax(IMAPReplyText.unknownThreadAlgorithm)
        }
        return ThreadCommand(algorithm: algorithm, charset: charset, key: try searchProgram(&r))
    }

    /// `( [REVERSE] key ... )`: REVERSE applies to the next key; a key given twice counts once.
    private static func sortProgram(_ r: inout IMAPArgumentReader) throws -> [SortCriterion] {
        _ = r.skip(UInt8(ascii: "("))
        try r.enter()
        defer { r.leave() }
        if r.skip(UInt8(ascii: ")")) { throw IMAPSyntaxError.syntax(IMAPReplyText.emptySortProgram) }
        var criteria: [SortCriterion] = []
        var reverse = false
        var lastWasReverse = false
        while true {
            guard let next = r.peek, next != UInt8(ascii: "("), next != UInt8(ascii: ")") else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.invalidSortListArgument)
            }
            let name = try r.astringText()
            lastWasReverse = name.uppercased() == "REVERSE"
            if lastWasReverse {
                reverse.toggle()
            } else {
                guard let key = SortKey(rawValue: name.uppercased()) else {
                    throw IMAPSyntaxError.syntax(IMAPReplyText.unknownSortArgument(name))
                }
                if !criteria.contains(where: { $0.key == key }) {
                    criteria.append(SortCriterion(key, reverse: reverse))
                }
                reverse = false
            }
            if r.skip(UInt8(ascii: ")")) { break }
            guard r.skip(UInt8(ascii: " ")) else {
                throw r.atEnd
                    ? IMAPSyntaxError.syntax(IMAPReplyText.missingParen)
                    : IMAPSyntaxError.syntax(IMAPReplyText.invalidSortListArgument)
            }
        }
        if lastWasReverse { throw IMAPSyntaxError.syntax(IMAPReplyText.sortListEndsWithReverse) }
        return criteria
    }

    private static func charsetArgument(_ r: inout IMAPArgumentReader, orThrow error: IMAPSyntaxError) throws
        -> String
    {
        guard let next = r.peek, next != UInt8(ascii: "("), next != UInt8(ascii: ")") else { throw error }
        return try r.astringText().uppercased()
    }

    /// The search keys after the charset, ANDed (at least one).
    private static func searchProgram(_ r: inout IMAPArgumentReader) throws -> SearchKey {
        try r.space(orThrow: .syntax(IMAPReplyText.missingSearchParameters))
        var keys = [try searchKey(&r)]
        while r.moreArguments() {
            if r.atEnd { break }  // Dovecot allows a trailing space
            keys.append(try searchKey(&r))
        }
        try r.expectEnd()
        return keys.count == 1 ? keys[0] : .and(keys)
    }
}
