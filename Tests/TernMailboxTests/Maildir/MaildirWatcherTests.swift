import Foundation
import Synchronization
import Testing

@testable import TernMailbox

/// IDLE's change notifications: a delivery to new/, a flag change (a rename in cur/) and an expunge wake
/// the watching session; a cancelled watch does not; two sessions on one mailbox share the kernel's watch.
@Suite struct MaildirWatcherTests {
    final class Counter: Sendable {
        let count = Mutex(0)
        func hit() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }

        /// Waits up to two seconds for the count to pass `value`.
        func waitBeyond(_ value: Int) -> Bool {
            for _ in 0..<200 {
                if self.value > value { return true }
                usleep(10_000)
            }
            return false
        }
    }

    @Test func wakesOnDeliveryFlagChangeAndExpunge() throws {
        let maildir = try TemporaryMaildir()
        let watcher = try #require(MaildirWatcher.make())
        let mailbox = try MaildirMailbox(path: maildir.path, root: maildir.path, name: "INBOX")
        let counter = Counter()
        let watch = try #require(watcher.watch(mailbox.changeDirectories) { counter.hit() })
        try Data("Subject: x\n\nbody\n".utf8).write(to: URL(fileURLWithPath: maildir.path + "/tmp/1.M1P1.host"))
        #expect(counter.value == 0, "tmp/ is not watched")
        rename(maildir.path + "/tmp/1.M1P1.host", maildir.path + "/new/1.M1P1.host")
        #expect(counter.waitBeyond(0))
        var seen = counter.value
        rename(maildir.path + "/new/1.M1P1.host", maildir.path + "/cur/1.M1P1.host:2,S")
        #expect(counter.waitBeyond(seen))
        seen = counter.value
        unlink(maildir.path + "/cur/1.M1P1.host:2,S")
        #expect(counter.waitBeyond(seen))
        watcher.cancel(watch)
        usleep(100_000)
        seen = counter.value
        try Data("x".utf8).write(to: URL(fileURLWithPath: maildir.path + "/new/2.M2P2.host"))
        #expect(!counter.waitBeyond(seen), "a cancelled watch stays quiet")
    }

    @Test func sessionsShareTheKernelWatch() throws {
        let maildir = try TemporaryMaildir()
        let watcher = try #require(MaildirWatcher.make())
        let directories = [maildir.path + "/new", maildir.path + "/cur"]
        let first = Counter()
        let second = Counter()
        let one = try #require(watcher.watch(directories) { first.hit() })
        _ = try #require(watcher.watch(directories) { second.hit() })
        watcher.cancel(one)
        try Data("x".utf8).write(to: URL(fileURLWithPath: maildir.path + "/new/3.M3P3.host"))
        #expect(second.waitBeyond(0), "the other session's watch survives the first one's cancel")
        #expect(first.value == 0)
        #expect(watcher.watch([maildir.path + "/missing"]) { first.hit() } == nil)
    }
}
