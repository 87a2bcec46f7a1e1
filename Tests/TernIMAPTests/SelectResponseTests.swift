import TernIMAP
import Testing

/// SELECT and EXAMINE answers captured from Dovecot 2.3.19.1.
@Suite struct SelectResponseTests {
    func text(_ responses: [IMAPResponse]) -> String {
        String(decoding: responses.flatMap(\.bytes), as: UTF8.self)
    }

    @Test func selectWithUnseenAndModSeq() {
        let select = SelectResponse(
            flags: Flag.system + [.keyword("$Label1")], permanentFlags: Flag.system + [.keyword("$Label1"), .wildcard],
            exists: 3, recent: 0, firstUnseen: 1, uidValidity: 1_796_056_504, uidNext: 6, highestModSeq: 13)
        #expect(
            text(select.responses(tag: "h", examine: false, replacedMailbox: true))
                == "* OK [CLOSED] Previous mailbox closed.\r\n"
                + "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)\r\n"
                + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] Flags permitted.\r\n"
                + "* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 1] First unseen.\r\n"
                + "* OK [UIDVALIDITY 1796056504] UIDs valid\r\n* OK [UIDNEXT 6] Predicted next UID\r\n"
                + "* OK [HIGHESTMODSEQ 13] Highest\r\n"
                + "h OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n")
    }

    @Test func examineOfAnEmptyMailbox() {
        let examine = SelectResponse(exists: 0, recent: 0, uidValidity: 1_796_056_505, uidNext: 1, readOnly: true)
        #expect(
            text(
                examine.responses(
                    tag: "h", examine: true, replacedMailbox: true, timing: IMAPTiming(running: 0.014, waitingIO: 0.013)
                ))
                == "* OK [CLOSED] Previous mailbox closed.\r\n"
                + "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                + "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n* 0 EXISTS\r\n* 0 RECENT\r\n"
                + "* OK [UIDVALIDITY 1796056505] UIDs valid\r\n* OK [UIDNEXT 1] Predicted next UID\r\n"
                + "h OK [READ-ONLY] Examine completed (0.014 + 0.000 + 0.013 secs).\r\n")
    }
}
