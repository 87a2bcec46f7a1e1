import Foundation
@testable import TernIMAP
import Testing

/// SORT, ESORT and THREAD over the corpus of SortCorpus. Every expected line is what Dovecot 2.3.19.1 answered
/// for the same Maildir (scripts/interop/sort-corpus.py).
@Suite struct IMAPMailSessionSortTests {
    private func corpus(_ count: Int = SortCorpus.messages.count) throws -> SessionFixture {
        let f = try SessionFixture()
        try deliver(0..<count, to: f)
        f.send("s SELECT INBOX\r\n")
        return f
    }

    private func deliver(_ range: Range<Int>, to f: SessionFixture) throws {
        let dir = f.root + "/new"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for index in range {
            let message = SortCorpus.messages[index]
            let path = dir + "/\(1000 + index).M\(index)P1.host"
            try Data(message.bytes).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: TimeInterval(message.mtime))], ofItemAtPath: path)
        }
    }

    private func reply(_ f: SessionFixture, _ command: String) -> String {
        f.send("t \(command)\r\n")
    }

    @Test func everySortKeyOrdersAsDovecot() throws {
        let f = try corpus()
        let expected = [
            "ARRIVAL": "4 1 2 3 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
            "DATE": "9 4 5 6 2 3 1 7 8 10 11 13 12 16 14 15 17 18 19 20",
            "SUBJECT": "9 4 6 14 15 16 12 13 1 2 3 7 8 19 10 11 18 17 5 20",
            "FROM": "9 7 20 2 4 5 6 12 13 14 15 16 18 3 17 8 19 10 11 1",
            "TO": "5 7 8 9 10 11 12 13 14 15 16 20 4 6 1 2 17 19 3 18",
            "CC": "1 3 5 6 7 8 9 10 11 12 13 14 15 16 17 19 20 2 4 18",
            "SIZE": "9 15 5 10 20 8 12 13 14 16 4 11 1 6 7 3 19 18 2 17",
            "DISPLAYFROM": "9 2 4 5 6 12 13 16 14 15 17 18 3 7 8 19 10 11 1 20",
            "DISPLAYTO": "5 7 8 9 10 11 12 13 14 15 16 20 4 6 1 2 17 19 3 18",
            "REVERSE SUBJECT": "20 5 17 18 10 11 1 2 3 7 8 19 13 12 14 15 16 6 4 9",
            "REVERSE DATE SUBJECT": "20 19 18 17 14 15 16 12 13 10 11 7 8 1 3 2 6 5 4 9",
            "DATE DATE REVERSE DATE": "9 4 5 6 2 3 1 7 8 10 11 13 12 16 14 15 17 18 19 20",
            "REVERSE REVERSE DATE": "9 4 5 6 2 3 1 7 8 10 11 13 12 16 14 15 17 18 19 20",
            "date x-score": "9 4 5 6 2 3 1 7 8 10 11 13 12 16 14 15 17 18 19 20",
        ]
        for (program, order) in expected {
            #expect(reply(f, "SORT (\(program)) UTF-8 ALL") == "* SORT \(order)\r\nt OK Sort completed" + done, "\(program)")
        }
    }

    @Test func searchKeysSelectWhatIsSorted() throws {
        let f = try corpus()
        #expect(reply(f, "UID SORT (DATE) UTF-8 UID 3:7") == "* SORT 4 5 6 3 7\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT (ARRIVAL) UTF-8 1:3 NOT 2") == "* SORT 1 3\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT (DATE) UTF-8 SUBJECT \"sort\"") == "* SORT 2 3 1 7 8 19\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT (DATE) UTF-8 NOT ALL") == "* SORT\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT (DATE) \"UTF-8\" HEADER Subject \"\"")
            == "* SORT 4 5 6 2 3 1 7 8 10 11 13 12 16 14 15 17 18 19 20\r\nt OK Sort completed" + done)
        // i;unicode-casemap: the needle and the MIME-decoded header are both titlecased and decomposed.
        #expect(reply(f, "SORT (SUBJECT) UTF-8 SUBJECT \"ümlaut\"") == "* SORT 10 11\r\nt OK Sort completed" + done)
        #expect(reply(f, "SEARCH FROM \"émile\"") == "* SEARCH 3 7\r\nt OK Search completed" + done)
        #expect(reply(f, "SEARCH SUBJECT \"ﬁ\"") == "* SEARCH 20\r\nt OK Search completed" + done)
        #expect(reply(f, "SEARCH SUBJECT \"fi\"") == "* SEARCH\r\nt OK Search completed" + done)
    }

    @Test func esortAnswersWithESearch() throws {
        let f = try corpus()
        #expect(reply(f, "SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL")
            == "* ESEARCH (TAG \"t\") MIN 9 MAX 20 ALL 9,4:6,2:3,1,7:8,10:11,13,12,16,14:15,17:20 COUNT 20\r\n"
            + "t OK Sort completed" + done)
        #expect(reply(f, "SORT RETURN () (DATE) UTF-8 ALL")
            == "* ESEARCH (TAG \"t\") ALL 9,4:6,2:3,1,7:8,10:11,13,12,16,14:15,17:20\r\nt OK Sort completed" + done)
        #expect(reply(f, "UID SORT RETURN (COUNT ALL) (SUBJECT) UTF-8 1:5")
            == "* ESEARCH (TAG \"t\") UID ALL 4,1:3,5 COUNT 5\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT RETURN (MIN) (DATE) UTF-8 FROM nobody") == "* ESEARCH (TAG \"t\")\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT RETURN (MAX MIN) (REVERSE DATE) US-ASCII ALL")
            == "* ESEARCH (TAG \"t\") MIN 20 MAX 9\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT RETURN (COUNT) (DATE) UTF-8 ALL") == "* ESEARCH (TAG \"t\") COUNT 20\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT RETURN (SAVE) (DATE) UTF-8 ALL") == "t OK Sort completed" + done)
    }

    /// Dovecot numbered this mailbox's first MODSEQ 2, Tern's tern.index starts at 1; the form is the same.
    @Test func modSeqKeysAddTheHighestModSeq() throws {
        let f = try corpus()
        #expect(reply(f, "SORT (SUBJECT) UTF-8 MODSEQ 1")
            == "* OK [HIGHESTMODSEQ 1] Highest\r\n"
            + "* SORT 9 4 6 14 15 16 12 13 1 2 3 7 8 19 10 11 18 17 5 20 (MODSEQ 1)\r\nt OK Sort completed" + done)
        #expect(reply(f, "SORT RETURN (MIN) (SUBJECT) UTF-8 MODSEQ 1")
            == "* ESEARCH (TAG \"t\") MIN 9 MODSEQ 1\r\nt OK Sort completed" + done)
    }

    @Test func threadAlgorithmsAsDovecot() throws {
        let f = try corpus()
        let references = "(4 5 6)(2 (3 7)(1 19)(8 9))((10)(11))(13 12)(15 (16)(14))((17)(18))(20)"
        #expect(reply(f, "THREAD REFERENCES UTF-8 ALL") == "* THREAD \(references)\r\nt OK Thread completed" + done)
        #expect(reply(f, "UID THREAD REFERENCES UTF-8 ALL") == "* THREAD \(references)\r\nt OK Thread completed" + done)
        #expect(reply(f, "THREAD REFS UTF-8 ALL")
            == "* THREAD (4 5 6)(2 3 7)(8 9)(10)(11)(13 12)(16)(14)(15)((17)(18))(1 19)(20)\r\nt OK Thread completed" + done)
        #expect(reply(f, "THREAD ORDEREDSUBJECT UTF-8 ALL")
            == "* THREAD (9)(4)(5)(6)(2 (3)(1)(7)(8)(19))(10 11)(13)(12)(16 (14)(15))(17)(18)(20)\r\n"
            + "t OK Thread completed" + done)
        #expect(reply(f, "THREAD REFERENCES UTF-8 1:5") == "* THREAD (4)(5)(2 (3)(1))\r\nt OK Thread completed" + done)
        #expect(reply(f, "UID THREAD ORDEREDSUBJECT UTF-8 1:12")
            == "* THREAD (9)(4)(5)(6)(2 (3)(1)(7)(8))(10 11)(12)\r\nt OK Thread completed" + done)
        #expect(reply(f, "THREAD REFS UTF-8 NOT ALL") == "* THREAD \r\nt OK Thread completed" + done)
    }

    /// THREAD keeps its links between commands: messages that arrive are added to them, an expunge makes new
    /// ones, and the answers stay Dovecot's.
    @Test func threadsFollowNewAndExpungedMessages() throws {
        let f = try corpus(10)
        #expect(reply(f, "THREAD REFERENCES UTF-8 ALL").hasPrefix("* THREAD "))
        try deliver(10..<SortCorpus.messages.count, to: f)
        _ = reply(f, "NOOP")
        let references = "(4 5 6)(2 (3 7)(1 19)(8 9))((10)(11))(13 12)(15 (16)(14))((17)(18))(20)"
        #expect(reply(f, "THREAD REFERENCES UTF-8 ALL") == "* THREAD \(references)\r\nt OK Thread completed" + done)
        _ = reply(f, "STORE 20 +FLAGS.SILENT (\\Deleted)")
        #expect(reply(f, "EXPUNGE").hasPrefix("* 20 EXPUNGE\r\n"))
        #expect(reply(f, "THREAD REFS UTF-8 ALL")
            == "* THREAD (4 5 6)(2 3 7)(8 9)(10)(11)(13 12)(16)(14)(15)((17)(18))(1 19)\r\nt OK Thread completed" + done)
    }

    @Test func errorsAreDovecots() throws {
        let f = try corpus()
        let cases = [
            "SORT DATE UTF-8 ALL": "BAD Error in IMAP command SORT: Invalid sort argument",
            "SORT": "BAD Error in IMAP command SORT: Invalid sort argument",
            "SORT RETURN (MIN)": "BAD Error in IMAP command SORT: Invalid sort argument",
            "SORT () UTF-8 ALL": "BAD Error in IMAP command SORT: Empty sort program",
            "SORT (FOO) UTF-8 ALL": "BAD Error in IMAP command SORT: Unknown sort argument: FOO",
            "SORT (DATE REVERSE) UTF-8 ALL": "BAD Error in IMAP command SORT: Sort list ends with REVERSE",
            "SORT (DATE)": "BAD Error in IMAP command SORT: Invalid charset argument",
            "SORT RETURN (MIN) (DATE)": "BAD Error in IMAP command SORT: Invalid charset argument",
            "SORT (DATE) UTF-8": "BAD Error in IMAP command SORT: Missing search parameters",
            "SORT (DATE (SUBJECT)) UTF-8 ALL": "BAD Error in IMAP command SORT: Invalid sort list argument",
            "SORT RETURN (FOO) (DATE) UTF-8 ALL": "BAD Error in IMAP command SORT: Unknown SEARCH return option",
            "SORT (DATE) KOI9 ALL": "NO [BADCHARSET] Unknown charset",
            "THREAD": "BAD Error in IMAP command THREAD: Invalid arguments",
            "THREAD FOO UTF-8 ALL": "BAD Error in IMAP command THREAD: Unknown thread algorithm",
            "THREAD REFS": "BAD Error in IMAP command THREAD: Invalid arguments",
            "THREAD REFS UTF-8": "BAD Error in IMAP command THREAD: Missing search parameters",
            "THREAD REFS KOI9 ALL": "NO [BADCHARSET] Unknown charset",
            "THREAD (REFS) UTF-8 ALL": "BAD Error in IMAP command THREAD: Invalid arguments",
            "THREAD REFERENCES UTF-8 ALL X": "BAD Error in IMAP command THREAD: Unknown argument X",
        ]
        for (command, answer) in cases {
            #expect(reply(f, command) == "t \(answer)" + done, "\(command)")
        }
    }

    @Test func sortFieldsAreKeptInTernSort() throws {
        let f = try corpus()
        _ = reply(f, "SORT (DATE) UTF-8 ALL")
        let file = try #require(FileManager.default.contents(atPath: f.root + "/tern.sort"))
        #expect(SortFieldFile.decode(Array(file), uidValidity: try f.uidValidity()).count == 20)
        // Dovecot ignores the file: it is no Maildir++ folder and not in cur/ or new/.
        #expect(reply(f, "THREAD REFS UTF-8 ALL").hasPrefix("* THREAD (4 5 6)(2 3 7)"))
    }

    @Test func sortAndThreadNeedASelectedMailbox() throws {
        let f = try SessionFixture()
        #expect(f.send("t SORT (DATE) UTF-8 ALL\r\n") == "t BAD No mailbox selected" + done)
        #expect(f.send("t THREAD REFS UTF-8 ALL\r\n") == "t BAD No mailbox selected" + done)
    }

    @Test func capabilitiesInDovecotsOrder() {
        let dovecot = IMAPReplyText.dovecotPostLoginCapabilities.split(separator: " ").map(String.init)
        let ours = IMAPReplyText.postLoginCapabilities.filter { !IMAPReplyText.beyondDovecotCapabilities.contains($0) }
        #expect(dovecot.filter(ours.contains) == ours)
        for name in ["SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "THREAD=REFS", "THREAD=ORDEREDSUBJECT", "I18NLEVEL=1", "ESORT"] {
            #expect(ours.contains(name))
        }
    }
}
