/// The CONDSTORE parameters and modifiers (RFC 7162 §3.1, §7 ABNF), with Dovecot 2.3's error texts.
extension IMAPCommandGrammar {
    /// `mod-sequence-value` (RFC 7162 §7): 1*DIGIT up to 2^63-1, the largest MODSEQ a server may use; RFC 9051's
    /// `number64` too.
    static func modSeqValue(_ r: inout IMAPArgumentReader, orThrow error: IMAPSyntaxError) throws -> UInt64 {
        let digits = r.take(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        guard let value = modSeqNumber(digits) else { throw error }
        return value
    }

    static func modSeqNumber(_ digits: [UInt8]) -> UInt64? {
        // 19 digits hold any value up to 2^63-1; more cannot be valid, so the text is never scanned further.
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        return value <= UInt64(Int64.max) ? value : nil
    }

    /// SELECT / EXAMINE `[SP "(" select-param *(SP select-param) ")"]`: CONDSTORE (§3.1.8) and QRESYNC (§3.2.5).
    /// Dovecot ignores anything after the mailbox that is not a parenthesised list.
    static func selectParameters(_ r: inout IMAPArgumentReader) throws -> (
        condstore: Bool, qresync: QResyncParameters?
    ) {
        guard r.moreArguments(), r.peek == UInt8(ascii: "(") else { return (false, nil) }
        var condstore = false
        var qresync: QResyncParameters?
        _ = try r.parenthesized { reader in
            switch try reader.atom(upper: true) {
            case "CONDSTORE": condstore = true
            case "QRESYNC":
                let missing = IMAPSyntaxError.syntax(IMAPReplyText.qresyncParametersMissing)
                try reader.space(orThrow: missing)
                guard reader.peek == UInt8(ascii: "(") else { throw missing }
                qresync = try qresyncParameters(&reader)
            default: throw IMAPSyntaxError.syntax(IMAPReplyText.unknownFetchModifier)
            }
        }
        return (condstore, qresync)
    }

    /// `"(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"` (§3.2.5, §7), with
    /// Dovecot's texts for each part that is wrong.
    static func qresyncParameters(_ r: inout IMAPArgumentReader) throws -> QResyncParameters {
        let invalid = IMAPSyntaxError.syntax(IMAPReplyText.invalidQResyncParameters)
        var items: [[UInt8]] = []
        var match: [[UInt8]]?
        _ = try r.parenthesized { reader in
            // seq-match-data; Dovecot takes it also without known-uids before it.
            if reader.peek == UInt8(ascii: "(") {
                guard match == nil, items.count >= 2 else { throw invalid }
                match = try reader.parenthesized { $0.take(while: IMAPArgumentReader.isAtomChar) }
                return
            }
            guard match == nil else { throw invalid }
            let item = reader.take(while: { IMAPArgumentReader.isAtomChar($0) || $0 == UInt8(ascii: "*") })
            guard !item.isEmpty else { throw invalid }
            try reader.countArgument()
            items.append(item)
        }
        guard items.count >= 2, items.count <= 3, let validity = IMAPNumber.parse(items[0], allowZero: true) else {
            throw invalid
        }
        guard let modSeq = modSeqNumber(items[1]) else { throw invalid }
        var parameters = QResyncParameters(uidValidity: validity, modSeq: modSeq)
        if items.count == 3 {
            guard let known = SequenceSet(items[2]), known.hasNoStar else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.invalidQResyncKnownUIDs)
            }
            parameters.knownUIDs = known
        }
        if let match {
            guard let first = match.first, let sequences = SequenceSet(first), sequences.hasNoStar else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.invalidQResyncKnownSequences)
            }
            guard match.count >= 2, let uids = SequenceSet(match[1]), uids.hasNoStar else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.invalidQResyncKnownUIDSet)
            }
            guard match.count == 2 else { throw IMAPSyntaxError.syntax(IMAPReplyText.tooManyQResyncKnownSet) }
            guard sequences.count == uids.count else { throw IMAPSyntaxError.syntax(IMAPReplyText.invalidQResyncSets) }
            // The pairs are a hint the server may ignore (§3.2.5.2); more than a client would ever send are.
            if sequences.count <= QResyncParameters.maxMatchPairs {
                parameters.sequenceMatch = QResyncParameters.SequenceMatch(
                    sequences: sequences.numbers, uids: uids.numbers)
            }
        }
        return parameters
    }

    /// FETCH's `[SP "(" fetch-modifier *(SP fetch-modifier) ")"]`: the CHANGEDSINCE value (§3.1.4.1) and
    /// VANISHED (§3.2.6, UID FETCH only). Whether QRESYNC is enabled, the session checks.
    static func fetchModifiers(_ r: inout IMAPArgumentReader, uid: Bool) throws -> (
        changedSince: UInt64?, vanished: Bool
    ) {
        guard r.moreArguments() else { return (nil, false) }
        guard r.peek == UInt8(ascii: "(") else { throw IMAPSyntaxError.invalidArguments }
        var changedSince: UInt64?
        var vanished = false
        _ = try r.parenthesized { reader in
            let name = try reader.atom(upper: true)
            switch name {
            case "CHANGEDSINCE":
                let invalid = IMAPSyntaxError.syntax(IMAPReplyText.invalidChangedSince)
                try reader.space(orThrow: invalid)
                changedSince = try modSeqValue(&reader, orThrow: invalid)
            case "VANISHED" where uid: vanished = true
            default: throw IMAPSyntaxError.syntax(IMAPReplyText.unknownFetchModifier)
            }
        }
        return (changedSince, vanished)
    }

    /// STORE's `"(" store-modifier ")" SP` before the flags: the UNCHANGEDSINCE value (§3.1.3).
    static func storeModifiers(_ r: inout IMAPArgumentReader) throws -> UInt64? {
        guard r.peek == UInt8(ascii: "(") else { return nil }
        var unchangedSince: UInt64?
        _ = try r.parenthesized { reader in
            guard try reader.atom(upper: true) == "UNCHANGEDSINCE" else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.unknownStoreModifier)
            }
            let invalid = IMAPSyntaxError.syntax(IMAPReplyText.invalidModSeq)
            try reader.space(orThrow: invalid)
            unchangedSince = try modSeqValue(&reader, orThrow: invalid)
        }
        try r.space()
        return unchangedSince
    }

    /// `search-modsequence` after MODSEQ: `SP [search-modseq-ext SP] mod-sequence-value` (§3.1.5), where
    /// the extension is an entry name (a quoted string such as `"/flags/\\draft"`) and `priv`, `shared` or
    /// `all`.
    static func searchModSeq(_ r: inout IMAPArgumentReader) throws -> UInt64 {
        try r.space(orThrow: .syntax(IMAPReplyText.missingArgument))
        if r.peek == UInt8(ascii: "\"") {
            _ = try r.string()
            try r.space(orThrow: .syntax(IMAPReplyText.invalidModSeqType))
            let type = try r.atom(upper: true)
            guard ["PRIV", "SHARED", "ALL"].contains(type) else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.invalidModSeqType)
            }
            try r.space(orThrow: .syntax(IMAPReplyText.invalidModSeqValue))
        }
        return try modSeqValue(&r, orThrow: .syntax(IMAPReplyText.invalidModSeqValue))
    }
}
