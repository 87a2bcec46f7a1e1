import Foundation
import Testing

@testable import TernMailbox

@Suite struct ConcurrentSessionTests {
    /// Two sessions (threads) append, sync and set flags at the same time while the MTA drops files into new/:
    /// every message ends up with exactly one UID, none is lost, and the uidlist stays sound.
    @Test func parallelSessionsKeepUIDsUnique() async throws {
        let dir = try TemporaryMaildir()
        let path = dir.path
        let perSession = 15
        try await withThrowingTaskGroup(of: [UInt32].self) { group in
            for session in 0..<2 {
                group.addTask {
                    let box = try MaildirMailbox(path: path)
                    var uids: [UInt32] = []
                    for n in 0..<perSession {
                        uids.append(try box.append("Subject: s\(session) n\(n)\n\nx\n"))
                        try Data("mta \(session) \(n)\n".utf8).write(
                            to: URL(fileURLWithPath: path + "/new/\(1000 + n).Q\(session)R\(n)N0.h"))
                        try box.sync()
                        if let last = box.messages.last {
                            _ = try box.updateFlags(uids: [last.uid], .add, flags: [.seen])
                        }
                    }
                    return uids
                }
            }
            var all: [UInt32] = []
            for try await uids in group { all += uids }
            #expect(Set(all).count == 2 * perSession)
        }
        let box = try MaildirMailbox(path: path)
        #expect(box.messages.count == 4 * perSession)
        #expect(Set(box.messages.map(\.uid)).count == 4 * perSession)
        #expect(box.nextUID == UInt32(4 * perSession + 1))
        let bytes = try #require(try Posix.readFile(path + "/dovecot-uidlist"))
        let parsed = try #require(UIDList.parse(bytes))
        #expect(parsed.damage == nil)
        #expect(!FileManager.default.fileExists(atPath: path + "/dovecot-uidlist.lock"))
    }
}
