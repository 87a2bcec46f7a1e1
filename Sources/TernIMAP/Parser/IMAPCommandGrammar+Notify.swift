/// RFC 5465 NOTIFY (§8 `notify`), with Dovecot 2.3's error texts (its cmd-notify.c checks).
extension IMAPCommandGrammar {
    /// `NOTIFY NONE` (nil) or `NOTIFY SET [STATUS] *(SP event-group)`.
    static func notify(_ r: inout IMAPArgumentReader) throws -> IMAPCommand {
        try r.space()
        switch try r.atom(upper: true) {
        case "NONE": return .notify(nil)  // Dovecot ignores what follows
        case "SET": break
        default: throw IMAPSyntaxError.invalidArguments
        }
        var set = NotifySet()
        guard r.moreArguments() else { return .notify(set) }
        if r.keyword("STATUS") {
            set.status = true
            guard r.moreArguments() else { return .notify(set) }
        }
        repeat { try eventGroup(&r, into: &set) } while r.moreArguments()
        try r.expectEnd()
        return .notify(set)
    }

    /// `"(" filter-mailboxes SP events ")"`.
    private static func eventGroup(_ r: inout IMAPArgumentReader, into set: inout NotifySet) throws {
        guard r.skip(UInt8(ascii: "(")) else { throw IMAPSyntaxError.invalidArguments }
        try r.enter()
        defer { r.leave() }
        let kind = try r.atom(upper: true)
        try r.space()
        switch kind {
        case "SELECTED", "SELECTED-DELAYED":
            guard set.selected == nil else { throw IMAPSyntaxError.syntax(IMAPReplyText.duplicateSelectedFilter) }
            var selected = NotifySelected(events: [], delayed: kind == "SELECTED-DELAYED")
            if !r.keyword("NONE") { try selectedEvents(&r, &selected) }
            set.selected = selected
        case "PERSONAL", "INBOXES", "SUBSCRIBED":
            if let events = try events(&r) {
                set.filters.append(NotifyFilter(kind == "SUBSCRIBED" ? .subscribed : .personal, events))
            }
        case "SUBTREE", "MAILBOXES":
            let names = r.peek == UInt8(ascii: "(") ? try r.parenthesized { try $0.mailbox() } : [try r.mailbox()]
            guard !names.isEmpty else { throw IMAPSyntaxError.invalidArguments }
            try r.space()
            if let events = try events(&r) {
                set.filters.append(NotifyFilter(kind == "SUBTREE" ? .subtree(names) : .mailboxes(names), events))
            }
        default:
            throw IMAPSyntaxError.invalidArguments
        }
        guard r.skip(UInt8(ascii: ")")) else {
            throw r.atEnd ? IMAPSyntaxError.syntax(IMAPReplyText.missingParen) : IMAPSyntaxError.invalidArguments
        }
    }

    /// NONE (nil) or a non-empty list of event names.
    private static func events(_ r: inout IMAPArgumentReader) throws -> NotifyEvents? {
        if r.keyword("NONE") { return nil }
        let names = try r.parenthesized { try $0.atom() }
        guard !names.isEmpty else { throw IMAPSyntaxError.invalidArguments }
        var events = NotifyEvents()
        for name in names {
            guard let event = NotifyEvents(name: name) else { throw IMAPSyntaxError.invalidArguments }
            events.insert(event)
        }
        return events
    }

    /// The selected filter's events, where MessageNew may carry a fetch-att list, and Dovecot's two rules:
    /// MessageNew and MessageExpunge go together, and FlagChange needs them.
    private static func selectedEvents(_ r: inout IMAPArgumentReader, _ selected: inout NotifySelected) throws {
        // An empty list is refused, as Dovecot 2.3.19 does.
        guard r.skip(UInt8(ascii: "(")), r.peek != UInt8(ascii: ")") else { throw IMAPSyntaxError.invalidArguments }
        try r.enter()
        defer { r.leave() }
        while !r.skip(UInt8(ascii: ")")) {
            if !selected.events.isEmpty || !selected.fetch.isEmpty {
                guard r.skip(UInt8(ascii: " ")) else {
                    throw r.atEnd
                        ? IMAPSyntaxError.syntax(IMAPReplyText.missingParen) : IMAPSyntaxError.invalidArguments
                }
            }
            guard let event = NotifyEvents(name: try r.atom()) else { throw IMAPSyntaxError.invalidArguments }
            selected.events.insert(event)
            var ahead = r
            if event == .messageNew, ahead.skip(UInt8(ascii: " ")), ahead.peek == UInt8(ascii: "(") {
                r = ahead
                do {
                    selected.fetch += try fetchAttributes(&r)
                } catch let error as IMAPSyntaxError {
                    // A line that ends inside the list is the parser's `Missing ')'`, as Dovecot reads all first.
                    guard case .syntax(let detail) = error.reason, detail != IMAPReplyText.missingParen else {
                        throw error
                    }
                    throw IMAPSyntaxError.syntax(IMAPReplyText.invalidFetchAttList(detail))
                }
            }
        }
        let newOrExpunge: NotifyEvents = [.messageNew, .messageExpunge]
        if !selected.events.isDisjoint(with: newOrExpunge), !selected.events.isSuperset(of: newOrExpunge) {
            throw IMAPSyntaxError.syntax(IMAPReplyText.newAndExpungeTogether)
        }
        if !selected.events.isDisjoint(with: [.flagChange, .annotationChange]),
            !selected.events.contains(.messageExpunge)
        {
            throw IMAPSyntaxError.syntax(IMAPReplyText.flagChangeRequiresNewAndExpunge)
        }
    }
}
