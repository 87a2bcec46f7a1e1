import Foundation
import TernIMAP
import TernMailbox
import Testing

/// SEARCH BODY/TEXT through the full-text index (Dovecot's fts plugin configured) gives the answers scanning
/// the messages gives, also for keys the index cannot answer and after the mailbox changes.
@Suite struct IMAPMailSessionFullTextTests {
    static let searches = [
        "BODY quokka", "TEXT QUOKKA", "TEXT ann@example", "BODY \"second body\"", "NOT BODY body", "OR BODY third TEXT gamma",
        "BODY ir", "TEXT \"Subject: Beta\"", "BODY \"\u{00E9}t\u{00E9}\"", "BODY \"said \\\"hi\\\"\"", "UID 2:* TEXT body",
    ]

    private func answers(_ f: SessionFixture) -> [String] {
        Self.searches.enumerated().map { f.send("s\($0.offset) UID SEARCH CHARSET UTF-8 \($0.element)\r\n") }
    }

    @Test func indexedSearchesAnswerAsScanningDoes() throws {
        let scanning = try SessionFixture()
        let indexed = try SessionFixture(fullTextSearch: true)
        for f in [scanning, indexed] {
            try f.selectThree()
            try f.deliver(
                "Subject: four\n\nA QUOKKA said \"hi\" in the \u{00E9}t\u{00E9}\n", name: "1003.M1P1.host")
            f.send("n NOOP\r\n")
        }
        #expect(answers(indexed) == answers(scanning))
        #expect(answers(indexed)[0] == "* SEARCH 4\r\ns0 OK Search completed" + done)
        let indexPath = indexed.root + "/tern.fts.sqlite"
        #expect(FileManager.default.fileExists(atPath: indexPath))
        // New mail is added to the index by the next search; expunged mail drops out of the answers.
        for f in [scanning, indexed] {
            try f.deliver("Subject: five\n\nanother quokka\n", name: "1004.M1P1.host")
            f.send("a STORE 1 +FLAGS (\\Deleted)\r\nb EXPUNGE\r\n")
        }
        #expect(answers(indexed) == answers(scanning))
        #expect(answers(indexed)[0] == "* SEARCH 4 5\r\ns0 OK Search completed" + done)
    }

    /// fts_autoindex: APPEND and COPY put the saved messages into the target's index at once; the selected
    /// mailbox still reports them.
    @Test func savedMessagesAreIndexedAtOnce() throws {
        let f = try SessionFixture(fullTextSearch: true, fullTextAutoIndex: true)
        try f.selectThree()
        f.send("c CREATE Archive\r\n")
        let text = "Subject: zoo\r\n\r\na wombat\r\n"
        let appended = f.send("a APPEND INBOX {\(text.utf8.count)+}\r\n\(text)\r\n")
        #expect(appended.hasPrefix("* 4 EXISTS\r\n"))
        let inbox = try FullTextIndex(path: f.root + "/tern.fts.sqlite", uidValidity: try f.uidValidity())
        #expect(try inbox.uids(.body, containing: "wombat") == [4])
        f.send("k COPY 4 Archive\r\n")
        let archive = try FullTextIndex(path: f.root + "/.Archive/tern.fts.sqlite", uidValidity: try f.uidValidity("Archive"))
        #expect(try archive.uids(.body, containing: "wombat") == [1])
    }

    /// A backlog longer than FullTextIndexer.waitLimit: the search indexes that many, scans the rest and
    /// leaves them to a background thread; the answers are the same all along.
    @Test func longBacklogsAreIndexedInTheBackground() throws {
        let finished = DispatchSemaphore(value: 0)
        let f = try SessionFixture(fullTextSearch: true, indexedInBackground: { finished.signal() })
        let count = FullTextIndexer.waitLimit + 300
        for n in 1...count {
            try f.deliver("Subject: m\(n)\n\n\(n % 100 == 0 ? "a quokka" : "nothing") here\n", name: "\(1000 + n).M1P1.host")
        }
        f.send("s SELECT INBOX\r\n")
        let expected = "* SEARCH " + stride(from: 100, through: count, by: 100).map(String.init).joined(separator: " ")
            + "\r\nt OK Search completed" + done
        #expect(f.send("t SEARCH BODY quokka\r\n") == expected)
        #expect(finished.wait(timeout: .now() + 120) == .success)
        let index = try FullTextIndex(path: f.root + "/tern.fts.sqlite", uidValidity: try f.uidValidity())
        #expect(index.lastUID == UInt32(count))
        #expect(f.send("t SEARCH BODY quokka\r\n") == expected)
    }
}
