import TernIMAP
import Testing

/// Client lines sent to a real Dovecot 2.3.19.1 and the replies it gave (captured on loopback, timing
/// `(0.001 + 0.000 secs)`). Tern parses the client line and must produce the same reply.
@Suite struct DovecotTranscriptTests {
    /// Post-login (imap process).
    static let postLogin: [(client: String, server: String)] = [
        ("\r\n", "* BAD Error in IMAP tag: Invalid tag (0.001 + 0.000 secs)."),
        ("a\r\n", "a BAD Error in IMAP command: Invalid command name (0.001 + 0.000 secs)."),
        ("a FOO\r\n", "a BAD Error in IMAP command FOO: Unknown command (0.001 + 0.000 secs)."),
        ("(a) NOOP\r\n", "* BAD Error in IMAP tag: Invalid tag (0.001 + 0.000 secs)."),
        ("a   NOOP\r\n", "a BAD Error in IMAP command: Invalid command name (0.001 + 0.000 secs)."),
        ("a SELECT\r\n", "a BAD Error in IMAP command SELECT: Invalid arguments (0.001 + 0.000 secs)."),
        ("a SELECT \"x\r\n", "a BAD Error in IMAP command SELECT: Missing '\"' (0.001 + 0.000 secs)."),
        ("a FETCH\r\n", "a BAD Error in IMAP command FETCH: Invalid arguments (0.001 + 0.000 secs)."),
        ("a FETCH 1\r\n", "a BAD Error in IMAP command FETCH: Invalid arguments (0.001 + 0.000 secs)."),
        (
            "a FETCH x FLAGS\r\n",
            "a BAD Error in IMAP command FETCH: Invalid messageset (0.001 + 0.000 secs)."
        ),
        (
            "a FETCH 1 FOO\r\n",
            "a BAD Error in IMAP command FETCH: Unknown parameter: FOO (0.001 + 0.000 secs)."
        ),
        (
            "a FETCH 1 (FLAGS\r\n", "a BAD Error in IMAP command FETCH: Missing ')' (0.001 + 0.000 secs)."
        ),
        (
            "a FETCH 1 BODY[FOO]\r\n",
            "a BAD Error in IMAP command FETCH: Invalid BODY[..] section (0.001 + 0.000 secs)."
        ),
        (
            "a FETCH 1 BODY[1.HEADER.FIELDS]\r\n",
            "a BAD Error in IMAP command FETCH: Invalid BODY[..] section (0.001 + 0.000 secs)."
        ),
        (
            "a FETCH 0 FLAGS\r\n",
            "a BAD Error in IMAP command FETCH: Invalid messageset (0.001 + 0.000 secs)."
        ),
        (
            "i FETCH 1 (BODY[HEADER.FIELDS (X-A\r\n",
            "i BAD Error in IMAP command FETCH: Missing ')' (0.001 + 0.000 secs)."
        ),
        (
            "a SEARCH\r\n",
            "a BAD Error in IMAP command SEARCH: Missing search parameters (0.001 + 0.000 secs)."
        ),
        (
            "a SEARCH FOO\r\n",
            "a BAD Error in IMAP command SEARCH: Unknown argument FOO (0.001 + 0.000 secs)."
        ),
        ("a SEARCH (ALL\r\n", "a BAD Error in IMAP command SEARCH: Missing ')' (0.001 + 0.000 secs)."),
        (
            "a SEARCH OR ALL\r\n",
            "a BAD Error in IMAP command SEARCH: Missing argument (0.001 + 0.000 secs)."
        ),
        (
            "a SEARCH SINCE 1-Foo-2020\r\n",
            "a BAD Error in IMAP command SEARCH: Invalid search date parameter (0.001 + 0.000 secs)."
        ),
        (
            "a SEARCH LARGER x\r\n",
            "a BAD Error in IMAP command SEARCH: Invalid search size parameter (0.001 + 0.000 secs)."
        ),
        (
            "a STORE 1 FOO (\\Seen)\r\n",
            "a BAD Error in IMAP command STORE: Invalid arguments (0.001 + 0.000 secs)."
        ),
        (
            "a STORE 1 +FLAGS (\\Foo)\r\n",
            "a BAD Error in IMAP command STORE: Invalid system flag \\FOO (0.001 + 0.000 secs)."
        ),
        (
            "e STORE 1 +FLAGS (\\Recent)\r\n",
            "e BAD Error in IMAP command STORE: Invalid system flag \\RECENT (0.001 + 0.000 secs)."
        ),
        ("a UID\r\n", "a BAD Error in IMAP command: Invalid command name (0.001 + 0.000 secs)."),
        ("a UID FOO\r\n", "a BAD Error in IMAP command UID FOO: Unknown command (0.001 + 0.000 secs)."),
        (
            "a UID FETCH\r\n",
            "a BAD Error in IMAP command UID FETCH: Invalid arguments (0.001 + 0.000 secs)."
        ),
        ("a COPY 1\r\n", "a BAD Error in IMAP command COPY: Missing arguments (0.001 + 0.000 secs)."),
        ("a APPEND\r\n", "a BAD Error in IMAP command APPEND: Missing arguments (0.001 + 0.000 secs)."),
        (
            "a APPEND INBOX\r\n",
            "a BAD Error in IMAP command APPEND: Missing message size (0.001 + 0.000 secs)."
        ),
        (
            "a APPEND INBOX (\\Foo) {1+}\r\nx\r\n",
            "a BAD Error in IMAP command APPEND: Invalid system flag \\FOO (0.001 + 0.000 secs)."
        ),
        (
            "a APPEND INBOX \"bad date\" {1+}\r\nx\r\n",
            "a BAD Error in IMAP command APPEND: Invalid internal date (0.001 + 0.000 secs)."
        ),
        (
            "a STATUS INBOX (FOO)\r\n",
            "a BAD Error in IMAP command STATUS: Invalid status item FOO (0.001 + 0.000 secs)."
        ),
        (
            "b STATUS INBOX ()\r\n",
            "b BAD Error in IMAP command STATUS: Empty status list (0.001 + 0.000 secs)."
        ),
        ("a LIST\r\n", "a BAD Error in IMAP command LIST: Invalid reference (0.001 + 0.000 secs)."),
        ("a LIST \"\"\r\n", "a BAD Error in IMAP command LIST: Invalid pattern (0.001 + 0.000 secs)."),
        (
            "a LIST (FOO) \"\" *\r\n",
            "a BAD Error in IMAP command LIST: Unknown select options (0.001 + 0.000 secs)."
        ),
        (
            "a LIST \"\" * RETURN (FOO)\r\n",
            "a BAD Error in IMAP command LIST: Unknown return options (0.001 + 0.000 secs)."
        ),
        ("a CREATE\r\n", "a BAD Error in IMAP command CREATE: Missing arguments (0.001 + 0.000 secs)."),
        (
            "a RENAME x\r\n",
            "a BAD Error in IMAP command RENAME: Missing arguments (0.001 + 0.000 secs)."
        ),
        (
            "a FETCH 1 " + String(repeating: "x", count: 70000) + "\r\n",
            "a BAD Error in IMAP command FETCH: Too long argument (0.001 + 0.000 secs)."
        ),
    ]

    /// Pre-login (imap-login).
    static let preLogin: [(client: String, server: String)] = [
        ("\r\n", "* BAD Error in IMAP command received by server."),
        ("a\r\n", "a BAD Error in IMAP command received by server."),
        ("a FOO\r\n", "a BAD Error in IMAP command received by server."),
        ("a LOGIN\r\n", "a BAD Error in IMAP command received by server."),
        ("a LOGIN x\r\n", "a BAD Error in IMAP command received by server."),
        ("a LOGIN \"x\r\n", "a BAD Missing '\"'"),
        ("a LOGIN x y z\r\n", "a BAD Error in IMAP command received by server."),
        ("(a) NOOP\r\n", "* BAD Error in IMAP command received by server."),
        ("a+ NOOP\r\n", "* BAD Error in IMAP command received by server."),
        ("a{ NOOP\r\n", "* BAD Error in IMAP command received by server."),
        ("a   NOOP\r\n", "a BAD Error in IMAP command received by server."),
        ("a\tNOOP\r\n", "* BAD Error in IMAP command received by server."),
        ("a NOOP\u{0}\r\n", "a BAD Error in IMAP command received by server."),
        ("a LOGIN a (b)\r\n", "a BAD Error in IMAP command received by server."),
        ("* NOOP\r\n", "* BAD Error in IMAP command received by server."),
        ("a LOGIN a b\rc\r\n", "a BAD CR sent without LF"),
    ]

    func reply(_ client: String, preLogin: Bool) -> String? {
        let events = parseEvents(client)
        guard let first = events.first, case .error(let error) = first else { return nil }
        let line = IMAPResponse.badCommand(error, preLogin: preLogin).bytes
        return String(decoding: line.dropLast(2), as: UTF8.self)
    }

    @Test(arguments: postLogin.indices) func postLoginErrors(_ index: Int) {
        let (client, server) = Self.postLogin[index]
        #expect(reply(client, preLogin: false) == server)
    }

    @Test(arguments: preLogin.indices) func preLoginErrors(_ index: Int) {
        let (client, server) = Self.preLogin[index]
        // NUL makes the command unknown to Tern's parser as well, whatever the wording.
        #expect(reply(client, preLogin: true) == server)
    }

    @Test func literalTooLarge() {
        let events = parseEvents("a SELECT {999999999}\r\n")
        #expect(events == [.fatal(.literalTooLarge)])
        #expect(
            IMAPResponse.untagged(.bye, nil, IMAPFatalError.literalTooLarge.byeText).bytes
                == bytes("* BYE Literal size too large\r\n"))
    }

    @Test func completions() {
        let lines: [(IMAPResponse, String)] = [
            (
                .completed(
                    "e", .ok, .readWrite, IMAPReplyText.selectCompleted,
                    timing: IMAPTiming(running: 0.003, waitingIO: 0.002)),
                "e OK [READ-WRITE] Select completed (0.003 + 0.000 + 0.002 secs)."
            ),
            (
                .completed(
                    "h", .ok, .readOnly, IMAPReplyText.examineCompleted,
                    timing: IMAPTiming(running: 0.014, waitingIO: 0.013)),
                "h OK [READ-ONLY] Examine completed (0.014 + 0.000 + 0.013 secs)."
            ),
            (.completed("f", IMAPReplyText.listCompleted), "f OK List completed (0.001 + 0.000 secs)."),
            (
                .completed("g2", .no, .alreadyExists, IMAPReplyText.mailboxAlreadyExists),
                "g2 NO [ALREADYEXISTS] Mailbox already exists (0.001 + 0.000 secs)."
            ),
            (
                .completed("z5", .no, .nonexistent, IMAPReplyText.mailboxDoesNotExist("Bar")),
                "z5 NO [NONEXISTENT] Mailbox doesn't exist: Bar (0.001 + 0.000 secs)."
            ),
            (
                .completed("t", .no, nil, IMAPReplyText.mailboxDoesNotExist("Nope")),
                "t NO Mailbox doesn't exist: Nope (0.001 + 0.000 secs)."
            ),
            (
                .completed("c1", .no, .tryCreate, IMAPReplyText.mailboxDoesNotExist("Foo")),
                "c1 NO [TRYCREATE] Mailbox doesn't exist: Foo (0.001 + 0.000 secs)."
            ),
            (
                .completed("u", .bad, nil, IMAPReplyText.noMailboxSelected),
                "u BAD No mailbox selected (0.001 + 0.000 secs)."
            ),
            (
                .completed(
                    "j", .ok,
                    .appendUID(uidValidity: 1_796_056_504, uids: .ranges([SequenceRange(.number(1))])),
                    IMAPReplyText.appendCompleted),
                "j OK [APPENDUID 1796056504 1] Append completed (0.001 + 0.000 secs)."
            ),
            (
                .completed(
                    "c2", .ok,
                    .copyUID(
                        uidValidity: 1_796_056_506, source: SequenceSet.compact([1, 2]),
                        destination: SequenceSet.compact([1, 2])),
                    IMAPReplyText.copyCompleted),
                "c2 OK [COPYUID 1796056506 1:2 1:2] Copy completed (0.001 + 0.000 secs)."
            ),
            (
                .completed("a", .no, .badCharset([]), IMAPReplyText.unknownCharset),
                "a NO [BADCHARSET] Unknown charset (0.001 + 0.000 secs)."
            ),
            (
                .completed("a", .no, nil, IMAPReplyText.zeroByteMessage),
                "a NO Can't save a zero byte message (0.001 + 0.000 secs)."
            ),
            (
                .completed(
                    "a", .bad, nil, IMAPReplyText.expectedDone,
                    timing: IMAPTiming(running: 0.403, locking: 0.403, waitingIO: 0.402)),
                "a BAD Expected DONE (0.403 + 0.403 + 0.402 secs)."
            ),
            (.completed("y", IMAPReplyText.enabled), "y OK Enabled (0.001 + 0.000 secs)."),
            (
                .tagged(tag: "b", .no, .authenticationFailed, IMAPReplyText.authenticationFailed),
                "b NO [AUTHENTICATIONFAILED] Authentication failed."
            ),
            (
                .tagged(tag: "a", .no, .alert, IMAPReplyText.unsupportedMechanism),
                "a NO [ALERT] Unsupported authentication mechanism."
            ),
            (
                .tagged(tag: "a", .bad, nil, IMAPReplyText.authenticationAborted),
                "a BAD Authentication aborted by client."
            ),
            (
                .tagged(tag: "a", .bad, nil, IMAPReplyText.tlsNotEnabled),
                "a BAD TLS support isn't enabled."
            ),
            (
                .tagged(tag: "a", .ok, nil, IMAPReplyText.preLoginCapabilityCompleted),
                "a OK Pre-login capabilities listed, post-login capabilities have more."
            ),
            (
                .tagged(
                    tag: "c", .ok,
                    .capability(
                        IMAPReplyText.dovecotPostLoginCapabilities.split(separator: " ").map(String.init)),
                    IMAPReplyText.loggedIn),
                "c OK [CAPABILITY " + IMAPReplyText.dovecotPostLoginCapabilities + "] Logged in"
            ),
            (
                .untagged(
                    .ok, .capability(IMAPReplyText.preLoginCapabilities + ["AUTH=PLAIN", "AUTH=LOGIN"]),
                    "Dovecot (Debian) ready."),
                "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready."
            ),
            (
                .untagged(
                    .ok, .permanentFlags(Flag.system + [.keyword("$Label1"), .wildcard]),
                    IMAPReplyText.flagsPermitted),
                "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] Flags permitted."
            ),
            (
                .untagged(.ok, .permanentFlags([]), IMAPReplyText.readOnlyMailbox),
                "* OK [PERMANENTFLAGS ()] Read-only mailbox."
            ),
            (.untagged(.ok, .unseen(2), IMAPReplyText.firstUnseen), "* OK [UNSEEN 2] First unseen."),
            (
                .untagged(.ok, .uidValidity(1_796_056_504), IMAPReplyText.uidsValid),
                "* OK [UIDVALIDITY 1796056504] UIDs valid"
            ),
            (
                .untagged(.ok, .uidNext(1), IMAPReplyText.predictedNextUID),
                "* OK [UIDNEXT 1] Predicted next UID"
            ),
            (
                .untagged(.ok, .highestModSeq(13), IMAPReplyText.highest), "* OK [HIGHESTMODSEQ 13] Highest"
            ),
            (
                .untagged(.ok, .closed, IMAPReplyText.previousMailboxClosed),
                "* OK [CLOSED] Previous mailbox closed."
            ),
            (
                .untagged(
                    .ok,
                    .copyUID(uidValidity: 1_796_056_506, source: .compact([2]), destination: .compact([3])),
                    IMAPReplyText.movedUIDs),
                "* OK [COPYUID 1796056506 2 3] Moved UIDs."
            ),
            (.untagged(.bye, nil, IMAPReplyText.loggingOut), "* BYE Logging out"),
            (
                .untagged(.bye, nil, IMAPReplyText.tooManyInvalidCommands),
                "* BYE Too many invalid IMAP commands."
            ),
            (.untagged(.bye, nil, IMAPReplyText.inputBufferFull), "* BYE Input buffer full, aborting"),
            (.literalContinuation, "+ OK"),
            (.idling, "+ idling"),
            (.continuation(""), "+ "),
            (.flags(Flag.system), "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"),
            (.exists(0), "* 0 EXISTS"),
            (.recent(1), "* 1 RECENT"),
            (.expunge(2), "* 2 EXPUNGE"),
            (
                .list(MailboxListItem(attributes: [.hasNoChildren], delimiter: "/", name: .inbox)),
                "* LIST (\\HasNoChildren) \"/\" INBOX"
            ),
            (
                .list(
                    MailboxListItem(
                        attributes: [.hasNoChildren], delimiter: "/", name: MailboxName("Foo Bar"))),
                "* LIST (\\HasNoChildren) \"/\" \"Foo Bar\""
            ),
            (
                .list(
                    MailboxListItem(attributes: [.hasNoChildren], delimiter: "/", name: MailboxName("été"))),
                "* LIST (\\HasNoChildren) \"/\" &AOk-t&AOk-"
            ),
            (
                .list(MailboxListItem(attributes: [], delimiter: "/", name: .inbox)),
                "* LIST () \"/\" INBOX"
            ),
            (
                .lsub(MailboxListItem(attributes: [], delimiter: "/", name: .inbox)),
                "* LSUB () \"/\" INBOX"
            ),
            (
                .status(
                    .inbox,
                    [
                        StatusValue(.messages, 0), StatusValue(.recent, 0), StatusValue(.uidNext, 1),
                        StatusValue(.uidValidity, 1_796_056_504), StatusValue(.unseen, 0),
                    ]),
                "* STATUS INBOX (MESSAGES 0 RECENT 0 UIDNEXT 1 UIDVALIDITY 1796056504 UNSEEN 0)"
            ),
            (
                .status(MailboxName("Foo Bar"), [StatusValue(.messages, 0), StatusValue(.size, 0)]),
                "* STATUS \"Foo Bar\" (MESSAGES 0 SIZE 0)"
            ),
            (.search([]), "* SEARCH"),
            (.search([1, 2]), "* SEARCH 1 2"),
            (
                .esearch(
                    ESearchResponse(tag: "n2", uid: false, options: [.min, .max, .count, .all], matches: [])),
                "* ESEARCH (TAG \"n2\") COUNT 0"
            ),
            (
                .esearch(
                    ESearchResponse(
                        tag: "b", uid: false, options: [.min, .max, .count, .all], matches: [1, 2, 3])),
                "* ESEARCH (TAG \"b\") MIN 1 MAX 3 ALL 1:3 COUNT 3"
            ),
            (
                .esearch(ESearchResponse(tag: "se", uid: false, options: [], matches: [1, 2])),
                "* ESEARCH (TAG \"se\") ALL 1:2"
            ),
            (
                .esearch(ESearchResponse(tag: "se2", uid: true, options: [.min, .max], matches: [1, 3])),
                "* ESEARCH (TAG \"se2\") UID MIN 1 MAX 3"
            ),
            (
                .namespace(
                    personal: [NamespaceDescription(prefix: "", delimiter: "/")], other: nil, shared: nil),
                "* NAMESPACE ((\"\" \"/\")) NIL NIL"
            ),
            (.id([IDParameter(key: "name", value: "Dovecot")]), "* ID (\"name\" \"Dovecot\")"),
            (.enabled([]), "* ENABLED"),
            (.enabled(["CONDSTORE"]), "* ENABLED CONDSTORE"),
            (
                .capability(IMAPReplyText.preLoginCapabilities + ["AUTH=PLAIN", "AUTH=LOGIN"]),
                "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN"
            ),
            (.fetch(1, [.uid(1), .flags([.seen])]), "* 1 FETCH (UID 1 FLAGS (\\Seen))"),
            (.fetch(1, [.flags([])]), "* 1 FETCH (FLAGS ())"),
        ]
        for (response, line) in lines {
            #expect(response.bytes == bytes(line + "\r\n"), "\(line)")
        }
    }
}
