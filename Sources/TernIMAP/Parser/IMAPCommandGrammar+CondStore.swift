/// The CONDSTORE parameters and modifiers (RFC 7162 §3.1, §7 ABNF), with Dovecot 2.3's error texts.
extension IMAPCommandGrammar {
    /// `mod-sequence-value` (RFC 7162 §7): 1*DIGIT up to 2^63-1, the largest MODSEQ a server may use.
    static func modSeqValue(_ r: inout IMAPArgumentReader, orThrow error: IMAPSyntaxError) throws -> UInt64 {
        let digits = r.take(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        // 19 digits hold any value up to 2^63-1; more cannot be valid, so the text is never scanned further.
        guard !digits.isEmpty, digits.count <= 19 else { throw error }
        var value: UInt64 = 0
        for digit in digits { value = value * 10 + UInt64(digit - UInt8(ascii: "0")) }
        guard value <= UInt64(Int64.max) else { throw error }
        return value
    }

    /// SELECT / EXAMINE `[SP "(" select-param *(SP select-param) ")"]`: true for CONDSTORE (§3.1.8). Dovecot
    /// ignores anything after the mailbox that is not a parenthesised list.
    static func selectParameters(_ r: inout IMAPArgumentReader) throws -> Bool {
        guard r.moreArguments(), r.peek == UInt8(ascii: "(") else { return false }
        let names = try r.parenthesized { reader in
            let name = try reader.atom(upper: true)
            // QRESYNC (RFC 7162 §3.2) is never enabled in Tern; Dovecot answers so when it is not.
            if name == "QRESYNC" { throw IMAPSyntaxError.syntax(IMAPReplyText.qresyncNotEnabled) }
            guard name == "CONDSTORE" else { throw IMAPSyntaxError.syntax(IMAPReplyText.unknownFetchModifier) }
            return name
        }
        return !names.isEmpty
    }

    /// FETCH's `[SP "(" fetch-modifier *(SP fetch-modifier) ")"]`: the CHANGEDSINCE value (§3.1.4.1).
    static func fetchModifiers(_ r: inout IMAPArgumentReader) throws -> UInt64? {
        guard r.moreArguments() else { return nil }
        guard r.peek == UInt8(ascii: "(") else { throw IMAPSyntaxError.invalidArguments }
        var changedSince: UInt64?
        _ = try r.parenthesized { reader in
            let name = try reader.atom(upper: true)
            switch name {
            case "CHANGEDSINCE":
                let invalid = IMAPSyntaxError.syntax(IMAPReplyText.invalidChangedSince)
                try reader.space(orThrow: invalid)
                changedSince = try modSeqValue(&reader, orThrow: invalid)
            case "VANISHED": throw IMAPSyntaxError.syntax(IMAPReplyText.qresyncNotEnabled)
            default: throw IMAPSyntaxError.syntax(IMAPReplyText.unknownFetchModifier)
            }
        }
        return changedSince
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
