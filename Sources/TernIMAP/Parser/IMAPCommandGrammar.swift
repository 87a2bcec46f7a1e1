/// Turns a complete `RawCommand` into a `TaggedCommand` (RFC 3501 §9 `command`), with Dovecot's error texts.
enum IMAPCommandGrammar {
    static func parse(_ raw: RawCommand, limits: IMAPParserLimits) -> Result<
        TaggedCommand, IMAPCommandError
    > {
        var headReader = IMAPArgumentReader(raw, limits: limits)
        let head: Head
        switch readHead(&headReader) {
        case .success(let h): head = h
        case .failure(let error): return .failure(error)
        }
        var reader = IMAPArgumentReader(collapsingSpaces(raw, from: headReader.index), limits: limits)
        _ = readHead(&reader)
        do {
            // NUL is no CHAR (RFC 3501 §9); Dovecot refuses such lines even for commands without arguments.
            if raw.text.contains(0) { throw IMAPSyntaxError.invalidArguments }
            guard let command = try arguments(head.name, &reader) else {
                return .failure(
                    IMAPCommandError(tag: head.tag, command: head.name, reason: .unknownCommand))
            }
            return .success(TaggedCommand(tag: head.tag, command: command))
        } catch let error as IMAPSyntaxError {
            return .failure(IMAPCommandError(tag: head.tag, command: head.name, reason: error.reason))
        } catch {
            return .failure(
                IMAPCommandError(tag: head.tag, command: head.name, reason: .syntax("Invalid arguments")))
        }
    }

    /// Dovecot's parser takes any run of spaces between arguments, also after `(`, before `)` and at the end
    /// (imap-parser.c skips them); the grammar here reads single spaces, so runs outside quoted strings are cut
    /// down to what it reads. Literal positions move with the text.
    static func collapsingSpaces(_ raw: RawCommand, from start: Int) -> RawCommand {
        let space = UInt8(ascii: " ")
        guard raw.text[start...].contains(where: { $0 == space }) else { return raw }
        var out = RawCommand(text: Array(raw.text[..<start]), literals: raw.literals)
        let text = raw.text
        var literalEnds = raw.literalEnds.filter { $0 <= start }
        var quoted = false
        var index = start
        while index < text.count {
            let b = text[index]
            if quoted {
                out.text.append(b)
                index += 1
                if b == UInt8(ascii: "\\"), index < text.count {
                    out.text.append(text[index])
                    index += 1
                } else if b == UInt8(ascii: "\"") {
                    quoted = false
                }
                continue
            }
            guard b == space else {
                out.text.append(b)
                index += 1
                if b == UInt8(ascii: "\"") { quoted = true }
                if raw.literalEnds.contains(index) { literalEnds.append(out.text.count) }
                continue
            }
            var next = index
            while next < text.count, text[next] == space { next += 1 }
            let following = next < text.count ? text[next] : nil
            let previous = out.text.last
            let dropped =
                following == nil || following == UInt8(ascii: ")") || previous == UInt8(ascii: "(")
                || (following == UInt8(ascii: "]") && previous == UInt8(ascii: ")"))
            if !dropped { out.text.append(space) }
            index = next
        }
        out.literalEnds = literalEnds
        return out
    }

    struct Head {
        var tag: String
        /// Upper case; `UID FETCH` for UID commands.
        var name: String
    }

    /// The tag and command name (`tag SP command`), reading `UID sub` as one name.
    static func readHead(_ reader: inout IMAPArgumentReader) -> Result<Head, IMAPCommandError> {
        let tagBytes = reader.take(while: IMAPArgumentReader.isTagChar)
        guard !tagBytes.isEmpty, reader.atEnd || reader.peek == UInt8(ascii: " ") else {
            return .failure(IMAPCommandError(tag: nil, command: nil, reason: .invalidTag))
        }
        let tag = String(decoding: tagBytes, as: UTF8.self)
        let invalidName = IMAPCommandError(tag: tag, command: nil, reason: .invalidCommandName)
        guard reader.skip(UInt8(ascii: " ")) else { return .failure(invalidName) }
        var name = String(decoding: reader.take(while: IMAPArgumentReader.isAtomChar), as: UTF8.self)
            .uppercased()
        guard !name.isEmpty else { return .failure(invalidName) }
        if name == "UID" {
            guard reader.skip(UInt8(ascii: " ")) else { return .failure(invalidName) }
            let sub = String(decoding: reader.take(while: IMAPArgumentReader.isAtomChar), as: UTF8.self)
            guard !sub.isEmpty else { return .failure(invalidName) }
            name += " " + sub.uppercased()
        }
        return .success(Head(tag: tag, name: name))
    }

    /// The arguments of command `name`; nil for a command Tern does not know.
    static func arguments(_ name: String, _ r: inout IMAPArgumentReader) throws -> IMAPCommand? {
        switch name {
        // Dovecot ignores anything after the commands without arguments.
        case "CAPABILITY": return .capability
        case "NOOP": return .noop
        case "LOGOUT": return .logout
        case "STARTTLS": return .startTLS
        case "CHECK": return .check
        case "CLOSE": return .close
        case "EXPUNGE": return .expunge
        case "UNSELECT": return .unselect
        case "NAMESPACE": return .namespace
        case "IDLE": return .idle
        case "SETMETADATA": return try setMetadata(&r)
        case "GETMETADATA": return try getMetadata(&r)
        case "SETACL", "DELETEACL", "GETACL", "LISTRIGHTS", "MYRIGHTS": return try acl(name, &r)
        case "GETQUOTAROOT", "GETQUOTA", "SETQUOTA": return try quota(name, &r)
        case "NOTIFY": return try notify(&r)
        case "COMPRESS":
            try r.space()
            let mechanism = try r.atom(upper: true)
            try r.expectEnd()
            return .compress(mechanism: mechanism)
        case "AUTHENTICATE":
            try r.space()
            let mechanism = try r.atom(upper: true)
            var initial: String?
            if r.moreArguments() { initial = try r.atom() }
            try r.expectEnd()
            return .authenticate(mechanism: mechanism, initialResponse: initial)
        case "LOGIN":
            try r.space()
            let user = try r.astringText()
            try r.space()
            let password = try r.astringText()
            try r.expectEnd()
            return .login(username: user, password: password)
        case "SELECT", "EXAMINE":
            try r.space()
            let mailbox = try r.mailbox()
            let (condstore, qresync) = try selectParameters(&r)
            return name == "SELECT"
                ? .select(mailbox, condstore: condstore, qresync: qresync)
                : .examine(mailbox, condstore: condstore, qresync: qresync)
        case "CREATE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE":
            try r.space(orThrow: .missingArguments)
            let mailbox = try r.mailbox()
            switch name {
            case "CREATE": return .create(mailbox)  // CREATE (USE (...)) parameters are ignored.
            case "DELETE":
                try r.expectEnd()
                return .delete(mailbox)
            case "SUBSCRIBE":
                try r.expectEnd()
                return .subscribe(mailbox)
            default:
                try r.expectEnd()
                return .unsubscribe(mailbox)
            }
        case "RENAME":
            try r.space(orThrow: .missingArguments)
            let from = try r.mailbox()
            try r.space(orThrow: .missingArguments)
            let to = try r.mailbox()
            try r.expectEnd()
            return .rename(from: from, to: to)
        case "LIST": return .list(try list(&r))
        case "LSUB":
            try r.space(orThrow: .syntax(IMAPReplyText.invalidReference))
            let reference = try r.mailbox()
            try r.space(orThrow: .syntax(IMAPReplyText.invalidPattern))
            let pattern = try r.listMailbox()
            try r.expectEnd()
            return .lsub(reference: reference, pattern: pattern)
        case "STATUS":
            try r.space(orThrow: .missingArguments)
            let mailbox = try r.mailbox()
            try r.space(orThrow: .missingArguments)
            let items = try statusAttributes(&r)
            try r.expectEnd()
            return .status(mailbox, items)
        case "SEARCH", "UID SEARCH": return .search(try search(&r), uid: name != "SEARCH")
        case "SORT", "UID SORT": return .sort(try sort(&r), uid: name != "SORT")
        case "THREAD", "UID THREAD": return .thread(try thread(&r), uid: name != "THREAD")
        case "FETCH", "UID FETCH":
            try r.space()
            let set = try r.sequenceSet()
            try r.space()
            let attributes = try fetchAttributes(&r)
            let (changedSince, vanished) = try fetchModifiers(&r, uid: name != "FETCH")
            try r.expectEnd()
            return .fetch(set, attributes, uid: name != "FETCH", changedSince: changedSince, vanished: vanished)
        case "STORE", "UID STORE":
            try r.space()
            let set = try r.sequenceSet()
            try r.space()
            let unchangedSince = try storeModifiers(&r)
            let flags = try storeFlags(&r)
            return .store(set, flags, uid: name != "STORE", unchangedSince: unchangedSince)
        case "COPY", "UID COPY", "MOVE", "UID MOVE":
            try r.space(orThrow: .missingArguments)
            let set = try r.sequenceSet()
            try r.space(orThrow: .missingArguments)
            let mailbox = try r.mailbox()
            try r.expectEnd()
            let uid = name.hasPrefix("UID")
            return name.hasSuffix("COPY") ? .copy(set, mailbox, uid: uid) : .move(set, mailbox, uid: uid)
        case "UID EXPUNGE":
            try r.space(orThrow: .missingArguments)
            let set = try r.sequenceSet()
            try r.expectEnd()
            return .uidExpunge(set)
        case "ID": return .id(id(&r))
        case "CANCELUPDATE":
            // `tag-string *(SP tag-string)`, strings only, with Dovecot's single error text.
            var tags: [String] = []
            repeat {
                guard r.moreArguments(), r.peek == UInt8(ascii: "\"") || r.peek == UInt8(ascii: "{") else {
                    throw IMAPSyntaxError.syntax(IMAPReplyText.invalidParameters)
                }
                tags.append(String(decoding: try r.string(), as: UTF8.self))
            } while !r.atEnd
            return .cancelUpdate(tags)
        case "ENABLE":
            var capabilities: [String] = []
            while r.moreArguments() { capabilities.append(try r.atom(upper: true)) }
            try r.expectEnd()
            return .enable(capabilities)
        default:
            return nil
        }
    }

    /// `status-att-list`, with Dovecot's `Invalid status item NAME` and `Empty status list`.
    static func statusAttributes(_ r: inout IMAPArgumentReader) throws -> [StatusAttribute] {
        let attributes = try r.parenthesized { reader in
            let name = String(decoding: reader.take(while: IMAPArgumentReader.isAtomChar), as: UTF8.self)
                .uppercased()
            guard let attribute = StatusAttribute(rawValue: name) else {
                throw IMAPSyntaxError.syntax(IMAPReplyText.invalidStatusItem(name))
            }
            return attribute
        }
        guard !attributes.isEmpty else { throw IMAPSyntaxError.syntax(IMAPReplyText.emptyStatusList) }
        return attributes
    }

    /// STORE's item and flags: `[+|-]FLAGS[.SILENT] [flag-list | flag *(SP flag)]`.
    static func storeFlags(_ r: inout IMAPArgumentReader) throws -> StoreFlags {
        let item = try r.atom(upper: true)
        var operation = StoreFlags.Operation.replace
        var rest = Substring(item)
        if rest.hasPrefix("+") {
            operation = .add
            rest = rest.dropFirst()
        } else if rest.hasPrefix("-") {
            operation = .remove
            rest = rest.dropFirst()
        }
        let silent = rest == "FLAGS.SILENT"
        guard silent || rest == "FLAGS" else { throw IMAPSyntaxError.invalidArguments }
        var flags: [Flag] = []
        if r.moreArguments() {
            if r.peek == UInt8(ascii: "(") {
                flags = try r.flagList()
            } else {
                repeat { flags.append(try r.flag()) } while r.moreArguments()
            }
        }
        try r.expectEnd()
        return StoreFlags(operation: operation, silent: silent, flags: flags)
    }

    /// RFC 2971 `id-params-list`. Dovecot answers ID whatever follows, so a malformed list reads as NIL.
    static func id(_ r: inout IMAPArgumentReader) -> [IDParameter]? {
        guard r.moreArguments() else { return nil }
        var copy = r
        let pairs: [IDParameter]? = try? {
            if copy.keyword("NIL") { return nil }
            guard copy.skip(UInt8(ascii: "(")) else { throw IMAPSyntaxError.invalidArguments }
            var out: [IDParameter] = []
            if copy.skip(UInt8(ascii: ")")) { return out }
            while true {
                let key = String(decoding: try copy.string(), as: UTF8.self)
                try copy.space()
                let value = try copy.nstring().map { String(decoding: $0, as: UTF8.self) }
                out.append(IDParameter(key: key, value: value))
                if copy.skip(UInt8(ascii: ")")) { return out }
                try copy.space()
            }
        }()
        r = copy
        return pairs ?? nil
    }
}
