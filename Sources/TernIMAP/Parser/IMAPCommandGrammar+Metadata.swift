/// RFC 5464 METADATA: SETMETADATA and GETMETADATA with Dovecot 2.3's error texts.
extension IMAPCommandGrammar {
    /// `SETMETADATA mailbox (entry value *(SP entry value))`; a NIL value removes the entry.
    static func setMetadata(_ r: inout IMAPArgumentReader) throws -> IMAPCommand {
        try r.space()
        let mailbox = try r.mailbox()
        try r.space()
        let values = try r.parenthesized { reader -> MetadataValue in
            let entry = try metadataEntry(&reader)
            try reader.space()
            return MetadataValue(entry: entry, value: try reader.nstring())
        }
        guard !values.isEmpty else { throw IMAPSyntaxError.invalidArguments }
        try r.expectEnd()
        return .setMetadata(mailbox, values)
    }

    /// `GETMETADATA [(MAXSIZE n DEPTH 0|1|infinity)] mailbox (entry *(SP entry))` (or one entry alone).
    static func getMetadata(_ r: inout IMAPArgumentReader) throws -> IMAPCommand {
        try r.space()
        var options = MetadataOptions()
        if r.peek == UInt8(ascii: "(") {
            _ = try r.parenthesized { reader in
                switch try reader.atom(upper: true) {
                case "MAXSIZE":
                    try reader.space()
                    options.maxSize = Int(try reader.number())
                case "DEPTH":
                    try reader.space()
                    switch try reader.atom(upper: true) {
                    case "0": options.depth = .zero
                    case "1": options.depth = .one
                    case "INFINITY": options.depth = .infinity
                    default: throw IMAPSyntaxError.syntax(IMAPReplyText.invalidMetadataDepth)
                    }
                default: throw IMAPSyntaxError.syntax(IMAPReplyText.unknownMetadataOption)
                }
            }
            try r.space()
        }
        let mailbox = try r.mailbox()
        try r.space()
        let entries =
            r.peek == UInt8(ascii: "(") ? try r.parenthesized { try metadataEntry(&$0) } : [try metadataEntry(&r)]
        guard !entries.isEmpty else { throw IMAPSyntaxError.invalidArguments }
        try r.expectEnd()
        return .getMetadata(mailbox, entries, options)
    }

    /// An entry name (an astring; `*` and `%` are read so that they can be refused as Dovecot refuses them).
    static func metadataEntry(_ r: inout IMAPArgumentReader) throws -> String {
        let bytes: [UInt8]
        if r.peek == UInt8(ascii: "\"") || r.peek == UInt8(ascii: "{") || r.peek == UInt8(ascii: "~") {
            bytes = try r.astring()
        } else {
            bytes = r.take(while: { $0 > 0x20 && $0 != UInt8(ascii: "(") && $0 != UInt8(ascii: ")") })
        }
        let name = String(decoding: bytes, as: UTF8.self)
        if let problem = MetadataValue.problem(name) { throw IMAPSyntaxError.syntax(problem) }
        return name
    }
}
