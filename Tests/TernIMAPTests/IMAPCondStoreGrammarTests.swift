import TernIMAP
import Testing

/// RFC 7162 §3.1 syntax, with the error texts of Dovecot 2.3.19.
@Suite struct IMAPCondStoreGrammarTests {
    let one = SequenceSet.ranges([SequenceRange(.number(1))])
    let all = SequenceSet.ranges([SequenceRange(.number(1), .last)])

    @Test func selectParameters() {
        #expect(command("a SELECT INBOX (CONDSTORE)") == .select(.inbox, condstore: true))
        #expect(command("a EXAMINE INBOX (condstore)") == .examine(.inbox, condstore: true))
        #expect(command("a SELECT INBOX ()") == .select(.inbox))
        // Dovecot ignores what follows the mailbox unless it is a list.
        #expect(command("a SELECT INBOX FOO") == .select(.inbox))
        #expect(parseError("a SELECT INBOX (FOO)")?.reason == .syntax("Unknown FETCH modifier"))
        #expect(parseError("a SELECT INBOX (CONDSTORE FOO)")?.reason == .syntax("Unknown FETCH modifier"))
    }

    @Test func fetchModSeqAndChangedSince() {
        // RFC 7162 §3.1.4.1: `s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)`.
        #expect(
            command("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)")
                == .fetch(all, [.flags], uid: true, changedSince: 12345))
        #expect(command("a FETCH 1 (FLAGS MODSEQ)") == .fetch(one, [.flags, .modSeq], uid: false))
        #expect(command("a FETCH 1 MODSEQ (changedsince 0)") == .fetch(one, [.modSeq], uid: false, changedSince: 0))
        #expect(
            command("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775807)")
                == .fetch(one, [.flags], uid: false, changedSince: 9_223_372_036_854_775_807))
        #expect(parseError("a FETCH 1 FLAGS (CHANGEDSINCE)")?.reason == .syntax("Invalid CHANGEDSINCE modseq"))
        #expect(
            parseError("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)")?.reason
                == .syntax("Invalid CHANGEDSINCE modseq"))
        #expect(
            parseError("a FETCH 1 FLAGS (CHANGEDSINCE 99999999999999999999999)")?.reason
                == .syntax("Invalid CHANGEDSINCE modseq"))
        #expect(parseError("a FETCH 1 FLAGS (CHANGEDSINCE 1 FOO)")?.reason == .syntax("Unknown FETCH modifier"))
    }

    @Test func storeUnchangedSince() {
        // RFC 7162 §3.1.3 example 8.
        let set = SequenceSet.ranges([
            SequenceRange(.number(7)), SequenceRange(.number(5)), SequenceRange(.number(9)),
        ])
        #expect(
            command("a103 UID STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)")
                == .store(
                    set, StoreFlags(operation: .add, silent: true, flags: [.deleted]), uid: true,
                    unchangedSince: 320_162_338))
        #expect(
            command("a STORE 1 (unchangedsince 0) FLAGS ()")
                == .store(one, StoreFlags(operation: .replace, silent: false, flags: []), uid: false, unchangedSince: 0))
        #expect(parseError("a STORE 1 (FOO 1) +FLAGS (\\Seen)")?.reason == .syntax("Unknown STORE modifier"))
        #expect(parseError("a STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)")?.reason == .syntax("Invalid modseq"))
        #expect(parseError("a STORE 1 (UNCHANGEDSINCE 1)")?.reason == .syntax("Invalid arguments"))
    }

    @Test func searchModSeq() {
        // RFC 7162 §3.1.5 example 15.
        #expect(
            command("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338")
                == .search(SearchCommand(key: .modSeq(620_162_338)), uid: false))
        #expect(
            command("a UID SEARCH OR MODSEQ 3 MODSEQ 5")
                == .search(SearchCommand(key: .or(.modSeq(3), .modSeq(5))), uid: true))
        #expect(parseError("a SEARCH MODSEQ x")?.reason == .syntax("Invalid MODSEQ value"))
        #expect(parseError("a SEARCH MODSEQ \"/flags/\\\\draft\" foo 4")?.reason == .syntax("Invalid MODSEQ type"))
    }

    @Test func statusHighestModSeq() {
        #expect(command("a STATUS INBOX (HIGHESTMODSEQ MESSAGES)") == .status(.inbox, [.highestModSeq, .messages]))
    }

    /// The byte-by-byte parser sees the same command however the line is split.
    @Test func modifiersSurviveByteByByteInput() {
        let line = "a UID FETCH 1:* (FLAGS MODSEQ) (CHANGEDSINCE 12345)\r\n"
        var parser = IMAPCommandParser(limits: IMAPParserLimits())
        var events: [IMAPCommandParser.Event] = []
        for byte in line.utf8 {
            parser.append([byte])
            while let event = parser.next() { events.append(event) }
        }
        #expect(
            events == [
                .command(
                    TaggedCommand(tag: "a", command: .fetch(all, [.flags, .modSeq], uid: true, changedSince: 12345)))
            ])
    }
}
