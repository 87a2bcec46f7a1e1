import TernIMAP
import Testing

/// RFC 3501 §6 examples and the extensions' syntax.
@Suite struct IMAPCommandGrammarTests {
    let inbox = MailboxName.inbox

    func name(_ text: String) -> MailboxName { MailboxName(bytes: bytes(text)) }

    @Test func anyAndNotAuthenticatedState() {
        #expect(command("abcd CAPABILITY") == .capability)
        #expect(command("a002 NOOP") == .noop)
        #expect(command("A023 LOGOUT") == .logout)
        #expect(command("a001 STARTTLS") == .startTLS)
        #expect(
            command("A001 AUTHENTICATE GSSAPI")
                == .authenticate(mechanism: "GSSAPI", initialResponse: nil))
        #expect(
            command("a authenticate plain AGZyZWQAc2VjcmV0")
                == .authenticate(mechanism: "PLAIN", initialResponse: "AGZyZWQAc2VjcmV0"))
        #expect(
            command("a AUTHENTICATE PLAIN =") == .authenticate(mechanism: "PLAIN", initialResponse: "="))
        #expect(command("a001 LOGIN SMITH SESAME") == .login(username: "SMITH", password: "SESAME"))
        #expect(command("a LOGIN \"a\\\"b\" \"c\\\\d\"") == .login(username: "a\"b", password: "c\\d"))
    }

    @Test func authenticatedState() {
        #expect(command("A142 SELECT INBOX") == .select(inbox))
        #expect(command("A142 SELECT inbox (CONDSTORE)") == .select(inbox, condstore: true))
        #expect(command("A932 EXAMINE blurdybloop") == .examine(name("blurdybloop")))
        #expect(command("A003 CREATE owatagusiam/") == .create(name("owatagusiam/")))
        #expect(command("A683 DELETE blurdybloop") == .delete(name("blurdybloop")))
        #expect(
            command("A683 RENAME blurdybloop sarasoop")
                == .rename(from: name("blurdybloop"), to: name("sarasoop")))
        #expect(
            command("A002 SUBSCRIBE #news.comp.mail.mime") == .subscribe(name("#news.comp.mail.mime")))
        #expect(
            command("A002 UNSUBSCRIBE #news.comp.mail.mime") == .unsubscribe(name("#news.comp.mail.mime"))
        )
        #expect(
            command("A002 LSUB \"#news.\" \"comp.mail.*\"")
                == .lsub(reference: name("#news."), pattern: name("comp.mail.*")))
        #expect(
            command("A042 STATUS blurdybloop (UIDNEXT MESSAGES)")
                == .status(name("blurdybloop"), [.uidNext, .messages]))
        #expect(
            command("a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE DELETED MAILBOXID)")
                == .status(inbox, StatusAttribute.allCases))
    }

    @Test func list() {
        #expect(
            command("A101 LIST \"\" \"\"")
                == .list(ListCommand(reference: name(""), patterns: [name("")])))
        #expect(
            command("A102 LIST #news.comp.mail.misc \"\"")
                == .list(ListCommand(reference: name("#news.comp.mail.misc"), patterns: [name("")])))
        #expect(
            command("A202 LIST ~/Mail/ %")
                == .list(ListCommand(reference: name("~/Mail/"), patterns: [name("%")])))
        let extended = command(
            "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX \"Foo*\") RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))"
        )
        #expect(
            extended
                == .list(
                    ListCommand(
                        selectionOptions: [.subscribed, .recursiveMatch], reference: name(""),
                        patterns: [inbox, name("Foo*")],
                        returnOptions: [.children, .specialUse, .status([.messages, .unseen])])))
        #expect(
            command("a LIST (SPECIAL-USE) \"\" *")
                == .list(
                    ListCommand(selectionOptions: [.specialUse], reference: name(""), patterns: [name("*")])))
        #expect(parseError("a LIST")?.reason == .syntax("Invalid reference"))
        #expect(parseError("a LIST \"\"")?.reason == .syntax("Invalid pattern"))
        #expect(parseError("a LIST (FOO) \"\" *")?.reason == .syntax("Unknown select options"))
        #expect(parseError("a LIST \"\" * RETURN (FOO)")?.reason == .syntax("Unknown return options"))
    }

    @Test func selectedState() {
        #expect(command("FXXZ CHECK") == .check)
        #expect(command("A341 CLOSE") == .close)
        #expect(command("A202 EXPUNGE") == .expunge)
        #expect(command("a UNSELECT") == .unselect)
        #expect(command("a NAMESPACE") == .namespace)
        #expect(command("a IDLE") == .idle)
        #expect(
            command("A003 STORE 2:4 +FLAGS (\\Deleted)")
                == .store(
                    .ranges([SequenceRange(.number(2), .number(4))]),
                    StoreFlags(operation: .add, silent: false, flags: [.deleted]), uid: false))
        #expect(
            command("a UID STORE 1,3:* -FLAGS.SILENT \\Seen $Junk")
                == .store(
                    .ranges([SequenceRange(.number(1)), SequenceRange(.number(3), .last)]),
                    StoreFlags(operation: .remove, silent: true, flags: [.seen, .keyword("$Junk")]), uid: true
                ))
        #expect(
            command("a STORE 1 FLAGS")
                == .store(
                    .ranges([SequenceRange(.number(1))]),
                    StoreFlags(operation: .replace, silent: false, flags: []), uid: false))
        #expect(
            command("A003 COPY 2:4 MEETING")
                == .copy(.ranges([SequenceRange(.number(2), .number(4))]), name("MEETING"), uid: false))
        #expect(
            command("a UID MOVE 42 Trash")
                == .move(.ranges([SequenceRange(.number(42))]), name("Trash"), uid: true))
        #expect(command("a MOVE $ Trash") == .move(.lastSearchResult, name("Trash"), uid: false))
        #expect(
            command("a UID EXPUNGE 3000:3002")
                == .uidExpunge(.ranges([SequenceRange(.number(3000), .number(3002))])))
        #expect(parseError("a STORE 1 +FLAGS (\\Foo)")?.reason == .syntax("Invalid system flag \\FOO"))
        #expect(
            parseError("a STORE 1 +FLAGS (\\Recent)")?.reason == .syntax("Invalid system flag \\RECENT"))
        #expect(parseError("a STORE 1 FOO (\\Seen)")?.reason == .syntax("Invalid arguments"))
        #expect(parseError("a COPY 1")?.reason == .syntax("Missing arguments"))
        #expect(parseError("a FETCH 0 FLAGS")?.reason == .syntax("Invalid messageset"))
        #expect(parseError("a FETCH x FLAGS")?.reason == .syntax("Invalid messageset"))
        #expect(parseError("a UID")?.reason == .invalidCommandName)
        #expect(
            parseError("a UID FOO")
                == IMAPCommandError(tag: "a", command: "UID FOO", reason: .unknownCommand))
    }

    @Test func fetch() {
        let one = SequenceSet.ranges([SequenceRange(.number(1))])
        #expect(
            command("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])")
                == .fetch(
                    .ranges([SequenceRange(.number(2), .number(4))]),
                    [
                        .flags,
                        .bodySection(
                            BodySection(kind: .headerFields(["DATE", "FROM"])), partial: nil, peek: false),
                    ], uid: false))
        #expect(
            command("a FETCH 1 ALL")
                == .fetch(one, [.flags, .internalDate, .rfc822Size, .envelope], uid: false))
        #expect(
            command("a FETCH 1 FAST") == .fetch(one, [.flags, .internalDate, .rfc822Size], uid: false))
        #expect(
            command("a FETCH 1 FULL")
                == .fetch(one, [.flags, .internalDate, .rfc822Size, .envelope, .body], uid: false))
        #expect(
            command(
                "a UID FETCH 1:* (UID RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT ENVELOPE BODY BODYSTRUCTURE INTERNALDATE)"
            )
                == .fetch(
                    .ranges([SequenceRange(.number(1), .last)]),
                    [
                        .uid, .rfc822, .rfc822Header, .rfc822Size, .rfc822Text, .envelope, .body,
                        .bodyStructure, .internalDate,
                    ], uid: true))
        #expect(
            command(
                "a FETCH 1 (BODY.PEEK[1.2.MIME] BODY[]<0.2048> BODY[TEXT]<5> body.peek[3.header.fields.not (Subject \"X-A\")])"
            )
                == .fetch(
                    one,
                    [
                        .bodySection(BodySection(part: [1, 2], kind: .mime), partial: nil, peek: true),
                        .bodySection(BodySection(), partial: Partial(offset: 0, length: 2048), peek: false),
                        .bodySection(
                            BodySection(kind: .text), partial: Partial(offset: 5, length: nil), peek: false),
                        .bodySection(
                            BodySection(part: [3], kind: .headerFieldsNot(["Subject", "X-A"])), partial: nil,
                            peek: true),
                    ], uid: false))
        #expect(
            command("a FETCH 1 (BINARY.PEEK[1]<0.10> BINARY.SIZE[2])")
                == .fetch(
                    one,
                    [
                        .binary(BodySection(part: [1]), partial: Partial(offset: 0, length: 10), peek: true),
                        .binarySize(BodySection(part: [2])),
                    ], uid: false))
        #expect(parseError("a FETCH 1 FOO")?.reason == .syntax("Unknown parameter: FOO"))
        #expect(parseError("a FETCH 1 (FLAGS")?.reason == .syntax("Missing ')'"))
        #expect(parseError("a FETCH 1 BODY[FOO]")?.reason == .syntax("Invalid BODY[..] section"))
        #expect(parseError("a FETCH 1 BODY[MIME]")?.reason == .syntax("Invalid BODY[..] section"))
        #expect(
            parseError("a FETCH 1 BODY[1.HEADER.FIELDS]")?.reason == .syntax("Invalid BODY[..] section"))
        #expect(parseError("a FETCH 1 (BODY[HEADER.FIELDS (X-A")?.reason == .syntax("Missing ')'"))
        #expect(parseError("a FETCH")?.reason == .syntax("Invalid arguments"))
        #expect(parseError("a FETCH 1")?.reason == .syntax("Invalid arguments"))
    }

    @Test func search() {
        func search(_ line: String) -> SearchCommand? {
            guard case .search(let s, _)? = command(line) else { return nil }
            return s
        }
        #expect(
            search("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"")
                == SearchCommand(
                    key: .and([
                        .flagged, .since(IMAPDate(year: 1994, month: 2, day: 1)), .not(.from("Smith")),
                    ])))
        #expect(
            search("A283 SEARCH TEXT \"string not in mailbox\"")
                == SearchCommand(key: .text("string not in mailbox")))
        #expect(
            search("A284 SEARCH CHARSET UTF-8 TEXT {6+}\r\nXXXXXX")
                == SearchCommand(charset: "UTF-8", key: .text("XXXXXX")))
        #expect(
            search("a SEARCH OR SEEN (NOT FLAGGED) ") == SearchCommand(key: .or(.seen, .not(.flagged))))
        #expect(
            search("a SEARCH (ALL ALL) NOT (OR SEEN UNSEEN)")
                == SearchCommand(key: .and([.and([.all, .all]), .not(.or(.seen, .unseen))])))
        #expect(
            search(
                "a SEARCH 1:3,5 UID 2:* HEADER X-Spam yes LARGER 10 SMALLER 20 KEYWORD $Junk UNKEYWORD x")
                == SearchCommand(
                    key: .and([
                        .sequenceSet(
                            .ranges([SequenceRange(.number(1), .number(3)), SequenceRange(.number(5))])),
                        .uid(.ranges([SequenceRange(.number(2), .last)])), .header("X-Spam", "yes"),
                        .larger(10), .smaller(20),
                        .keyword("$Junk"), .unkeyword("x"),
                    ])))
        #expect(
            search(
                "a SEARCH ANSWERED DELETED DRAFT NEW OLD RECENT UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN BCC a CC b TO c SUBJECT d BODY e"
            )
                == SearchCommand(
                    key: .and([
                        .answered, .deleted, .draft, .new, .old, .recent, .unanswered, .undeleted, .undraft,
                        .unflagged, .unseen,
                        .bcc("a"), .cc("b"), .to("c"), .subject("d"), .body("e"),
                    ])))
        #expect(
            search(
                "a SEARCH BEFORE \"1-Jan-2000\" ON 2-feb-2001 SENTBEFORE 3-Mar-2002 SENTON 4-Apr-2003 SENTSINCE 05-May-2004"
            )
                == SearchCommand(
                    key: .and([
                        .before(IMAPDate(year: 2000, month: 1, day: 1)),
                        .on(IMAPDate(year: 2001, month: 2, day: 2)),
                        .sentBefore(IMAPDate(year: 2002, month: 3, day: 3)),
                        .sentOn(IMAPDate(year: 2003, month: 4, day: 4)),
                        .sentSince(IMAPDate(year: 2004, month: 5, day: 5)),
                    ])))
        #expect(
            search("a SEARCH RETURN (MIN MAX COUNT ALL) ALL")
                == SearchCommand(returnOptions: [.min, .max, .count, .all], key: .all))
        #expect(search("a SEARCH RETURN () ALL") == SearchCommand(returnOptions: [], key: .all))
        #expect(command("a UID SEARCH ALL") == .search(SearchCommand(key: .all), uid: true))
        #expect(parseError("a SEARCH")?.reason == .syntax("Missing search parameters"))
        #expect(parseError("a SEARCH FOO")?.reason == .syntax("Unknown argument FOO"))
        #expect(parseError("a SEARCH (ALL")?.reason == .syntax("Missing ')'"))
        #expect(parseError("a SEARCH OR ALL")?.reason == .syntax("Missing argument"))
        #expect(
            parseError("a SEARCH SINCE 1-Foo-2020")?.reason == .syntax("Invalid search date parameter"))
        #expect(parseError("a SEARCH LARGER x")?.reason == .syntax("Invalid search size parameter"))
    }

    @Test func extensions() {
        #expect(command("a ID NIL") == .id(nil))
        #expect(command("a ID") == .id(nil))
        #expect(
            command("a ID (\"name\" \"sodr\" \"version\" NIL)")
                == .id([
                    IDParameter(key: "name", value: "sodr"), IDParameter(key: "version", value: nil),
                ]))
        #expect(command("a ID (\"a\")") == .id(nil))  // Dovecot answers malformed IDs too
        #expect(command("a ENABLE CONDSTORE utf8=accept") == .enable(["CONDSTORE", "UTF8=ACCEPT"]))
        #expect(command("a ENABLE") == .enable([]))
        // Dovecot ignores arguments of commands that take none.
        #expect(command("a NOOP extra") == .noop)
    }
}
