import Foundation
import TernMailbox
import Testing

@Suite struct FullTextIndexTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func substringsCaseInsensitivelyByField() throws {
        let dir = try TemporaryMaildir()
        let index = try FullTextIndex(path: dir.path + "/tern.fts.sqlite", uidValidity: 7)
        let messages: [UInt32: (header: [UInt8], body: [UInt8])] = [
            1: (bytes("Subject: Quarterly REPORT\r\n\r\n"), bytes("numbers inside\r\n")),
            3: (bytes("Subject: lunch\r\n\r\n"), bytes("Say \"hello\" to the Quokka\r\n")),
        ]
        try index.add(uids: [1, 2, 3]) { messages[$0] }  // 2 is gone: skipped
        #expect(index.lastUID == 3)
        #expect(try index.uids(.text, containing: "report") == [1])
        #expect(try index.uids(.body, containing: "report") == [])
        #expect(try index.uids(.body, containing: "QUOK") == [3])
        #expect(try index.uids(.text, containing: "side") == [1])
        #expect(try index.uids(.body, containing: "\"hello\" to") == [3])
        #expect(FullTextIndex.answers("abc") && !FullTextIndex.answers("ab") && !FullTextIndex.answers("\u{00E9}t\u{00E9}"))
    }

    @Test func reopeningKeepsTheIndexUnlessUIDValidityChanged() throws {
        let dir = try TemporaryMaildir()
        let path = dir.path + "/tern.fts.sqlite"
        try FullTextIndex(path: path, uidValidity: 7).add(uids: [5]) { _ in (bytes("A: b\r\n\r\n"), bytes("kept\r\n")) }
        let again = try FullTextIndex(path: path, uidValidity: 7)
        #expect(again.lastUID == 5)
        #expect(try again.uids(.body, containing: "kept") == [5])
        // Another session added message 6 meanwhile: adding from an older view does not add it twice.
        let other = try FullTextIndex(path: path, uidValidity: 7)
        try other.add(uids: [5, 6]) { _ in (bytes("A: b\r\n\r\n"), bytes("six\r\n")) }
        try again.add(uids: [5, 6, 7]) { _ in (bytes("A: b\r\n\r\n"), bytes("seven six\r\n")) }
        #expect(try again.uids(.body, containing: "six") == [6, 7])
        let renumbered = try FullTextIndex(path: path, uidValidity: 8)
        #expect(renumbered.lastUID == 0)
        #expect(try renumbered.uids(.body, containing: "kept").isEmpty)
    }
}
