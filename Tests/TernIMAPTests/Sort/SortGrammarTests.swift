import TernIMAP
import Testing

/// RFC 5256 §3-4 and RFC 5267 §3 command examples through the parser.
@Suite struct SortGrammarTests {
    @Test func rfc5256SortExamples() {
        #expect(
            command("A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994")
                == .sort(
                    SortCommand(
                        criteria: [SortCriterion(.subject)], charset: "UTF-8",
                        key: .since(IMAPDate(year: 1994, month: 2, day: 1))), uid: false))
        #expect(
            command("A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL")
                == .sort(
                    SortCommand(
                        criteria: [SortCriterion(.subject), SortCriterion(.date, reverse: true)], charset: "UTF-8",
                        key: .all), uid: false))
        #expect(
            command("A284 SORT (SUBJECT) US-ASCII TEXT \"not in mailbox\"")
                == .sort(
                    SortCommand(criteria: [SortCriterion(.subject)], charset: "US-ASCII", key: .text("not in mailbox")),
                    uid: false))
    }

    @Test func rfc5957DisplayKeysAndUIDSort() {
        #expect(
            command("a uid sort (displayfrom reverse displayto) utf-8 all")
                == .sort(
                    SortCommand(
                        criteria: [SortCriterion(.displayFrom), SortCriterion(.displayTo, reverse: true)],
                        charset: "UTF-8", key: .all), uid: true))
        // A key given twice counts once; REVERSE REVERSE cancels out.
        #expect(
            command("a SORT (DATE REVERSE DATE REVERSE REVERSE SIZE) UTF-8 1:3 DELETED")
                == .sort(
                    SortCommand(
                        criteria: [SortCriterion(.date), SortCriterion(.size)], charset: "UTF-8",
                        key: .and([.sequenceSet(SequenceSet(bytes("1:3"))!), .deleted])), uid: false))
    }

    @Test func rfc5267ReturnOptions() {
        #expect(
            command("A282 SORT RETURN (MIN MAX) (DATE) UTF-8 SINCE 1-Feb-1994")
                == .sort(
                    SortCommand(
                        returnOptions: [.min, .max], criteria: [SortCriterion(.date)], charset: "UTF-8",
                        key: .since(IMAPDate(year: 1994, month: 2, day: 1))), uid: false))
        #expect(
            command("A283 SORT RETURN (ALL) (DATE) UTF-8 UNDELETED UNKEYWORD $Junk")
                == .sort(
                    SortCommand(
                        returnOptions: [.all], criteria: [SortCriterion(.date)], charset: "UTF-8",
                        key: .and([.undeleted, .unkeyword("$Junk")])), uid: false))
        #expect(
            command("A284 SORT RETURN (COUNT) (DATE) UTF-8 ALL")
                == .sort(
                    SortCommand(returnOptions: [.count], criteria: [SortCriterion(.date)], charset: "UTF-8", key: .all),
                    uid: false))
    }

    @Test func rfc5256ThreadExamples() {
        #expect(
            command("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000")
                == .thread(
                    ThreadCommand(
                        algorithm: .orderedSubject, charset: "UTF-8", key: .since(IMAPDate(year: 2000, month: 3, day: 5))),
                    uid: false))
        #expect(
            command("A284 THREAD ORDEREDSUBJECT US-ASCII TEXT \"gewp\"")
                == .thread(ThreadCommand(algorithm: .orderedSubject, charset: "US-ASCII", key: .text("gewp")), uid: false))
        #expect(
            command("a UID THREAD refs utf-8 all")
                == .thread(ThreadCommand(algorithm: .refs, charset: "UTF-8", key: .all), uid: true))
    }

    @Test func badSyntaxGetsDovecotsDetail() {
        let cases: [(String, String)] = [
            ("a SORT", "Invalid sort argument"),
            ("a SORT () UTF-8 ALL", "Empty sort program"),
            ("a SORT (ARRIVAL BOGUS) UTF-8 ALL", "Unknown sort argument: BOGUS"),
            ("a SORT (REVERSE) UTF-8 ALL", "Sort list ends with REVERSE"),
            ("a SORT (DATE) (UTF-8) ALL", "Invalid charset argument"),
            ("a SORT RETURN (MIN BOGUS) (DATE) UTF-8 ALL", "Unknown SEARCH return option"),
            ("a THREAD FOO UTF-8 ALL", "Unknown thread algorithm"),
            ("a THREAD REFS UTF-8 ALL BOGUS", "Unknown argument BOGUS"),
        ]
        for (line, detail) in cases {
            #expect(parseError(line)?.reason == .syntax(detail), "\(line)")
        }
        #expect(parseError("a THREAD REFS")?.reason == .syntax("Invalid arguments"))
    }
}
