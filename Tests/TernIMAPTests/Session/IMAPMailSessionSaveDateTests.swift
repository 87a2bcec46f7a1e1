import TernIMAP
import Testing

/// RFC 8514 SAVEDATE on Maildir: the time at the start of the file name, which the saver wrote.
@Suite struct IMAPMailSessionSaveDateTests {
    @Test func fetchAndSearchBySaveDate() throws {
        let f = try SessionFixture()
        try f.deliver("Subject: old\n\nx\n", name: "1000000000.M1P1.host", mtime: 900_000_000)
        try f.deliver("Subject: new\n\ny\n", name: "1700000000.M2P1.host", mtime: 900_000_000)
        f.send("s SELECT INBOX\r\n")
        #expect(
            f.send("a FETCH 1:2 (SAVEDATE INTERNALDATE)\r\n")
                == "* 1 FETCH (SAVEDATE \"09-Sep-2001 01:46:40 +0000\" INTERNALDATE \"09-Jul-1998 16:00:00 +0000\")\r\n"
                + "* 2 FETCH (SAVEDATE \"14-Nov-2023 22:13:20 +0000\" INTERNALDATE \"09-Jul-1998 16:00:00 +0000\")\r\n"
                + "a OK Fetch completed" + done)
        #expect(f.send("b SEARCH SAVEDSINCE 1-Jan-2020\r\n") == "* SEARCH 2\r\nb OK Search completed" + done)
        #expect(f.send("c SEARCH SAVEDBEFORE 1-Jan-2020\r\n") == "* SEARCH 1\r\nc OK Search completed" + done)
        #expect(f.send("d SEARCH SAVEDON 9-Sep-2001\r\n") == "* SEARCH 1\r\nd OK Search completed" + done)
        #expect(f.send("e SEARCH SAVEDATESUPPORTED\r\n") == "* SEARCH 1 2\r\ne OK Search completed" + done)
        // A flag change renames the file; the save date stays.
        f.send("f STORE 1 +FLAGS (\\Seen)\r\n")
        #expect(f.send("g FETCH 1 SAVEDATE\r\n") == "* 1 FETCH (SAVEDATE \"09-Sep-2001 01:46:40 +0000\")\r\ng OK Fetch completed" + done)
    }
}
