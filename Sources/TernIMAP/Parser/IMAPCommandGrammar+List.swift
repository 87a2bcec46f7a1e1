/// LIST in RFC 3501 and RFC 5258 (LIST-EXTENDED) form, with SPECIAL-USE and LIST-STATUS options.
extension IMAPCommandGrammar {
    static func list(_ r: inout IMAPArgumentReader) throws -> ListCommand {
        let invalidReference = IMAPSyntaxError.syntax(IMAPReplyText.invalidReference)
        let invalidPattern = IMAPSyntaxError.syntax(IMAPReplyText.invalidPattern)
        try r.space(orThrow: invalidReference)
        var selection: [ListCommand.SelectionOption] = []
        if r.peek == UInt8(ascii: "(") {
            selection = try r.parenthesized { reader in
                let name = String(
                    decoding: reader.take(while: IMAPArgumentReader.isAtomChar), as: UTF8.self)
                guard let option = ListCommand.SelectionOption(rawValue: name.uppercased()) else {
                    throw IMAPSyntaxError.syntax(IMAPReplyText.unknownSelectOptions)
                }
                return option
            }
            try r.space(orThrow: invalidReference)
        }
        let reference: MailboxName
        do { reference = try r.mailbox() } catch { throw invalidReference }
        try r.space(orThrow: invalidPattern)
        var patterns: [MailboxName]
        if r.peek == UInt8(ascii: "(") {
            patterns = try r.parenthesized { try $0.listMailbox() }
            guard !patterns.isEmpty else { throw invalidPattern }
        } else {
            do { patterns = [try r.listMailbox()] } catch { throw invalidPattern }
        }
        var returns: [ListCommand.ReturnOption] = []
        if r.moreArguments() {
            guard r.keyword("RETURN") else { throw IMAPSyntaxError.invalidArguments }
            try r.space()
            returns = try r.parenthesized { try listReturnOption(&$0) }
        }
        try r.expectEnd()
        return ListCommand(
            selectionOptions: selection, reference: reference, patterns: patterns, returnOptions: returns)
    }

    static func listReturnOption(_ r: inout IMAPArgumentReader) throws -> ListCommand.ReturnOption {
        let name = String(decoding: r.take(while: IMAPArgumentReader.isAtomChar), as: UTF8.self)
            .uppercased()
        switch name {
        case "SUBSCRIBED": return .subscribed
        case "CHILDREN": return .children
        case "SPECIAL-USE": return .specialUse
        case "STATUS":
            try r.space()
            return .status(try statusAttributes(&r))
        default:
            throw IMAPSyntaxError.syntax(IMAPReplyText.unknownReturnOptions)
        }
    }
}
