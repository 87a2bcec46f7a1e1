import CTernSys
import Foundation
import Synchronization
import TernCore

/// Empty queue files made ahead of time in `spare/` (a directory of Tern's next to Postfix's queues, on the
/// same file system), each named like a queue ID (the name it keeps if a crash leaves mail in it). smtpd's
/// new queue file in incoming/ is then a rename of a spare, not an inode allocation while the client waits:
/// under the create/delete churn of a busy queue, ext4 can spend milliseconds finding an inode it may reuse.
///
/// A spare's directory entry is fsynced before the spare is handed out, so its commit needs no fsync of
/// incoming/: a rename is atomic across a crash, and a committed file still in spare/ after one is moved to
/// incoming/ by the startup recovery (`QueueDirectory.recover`). Postfix's cleanup fsyncs only the file too.
/// Spares without a committed message are removed at start.
public final class SpareQueueFiles: Sendable {
    private let directory: QueueDirectory
    private let target: Int
    private let spares = Mutex<[(id: QueueID, fd: Int32)]>([])
    private let refilling = Atomic<Bool>(false)

    /// Run after `QueueDirectory.recover`, which takes the committed ones out of spare/ first.
    public init(directory: QueueDirectory, target: Int = 8) {
        self.directory = directory
        self.target = target
        for name in (try? FileSystem.entries(directory.spareDirectory)) ?? [] {
            let path = "\(directory.spareDirectory)/\(name)"
            if (try? QueueFile.open(path: path, writable: false)) == nil { unlink(path) }
        }
        refillSoon()
    }

    /// A spare renamed to a fresh queue ID in incoming/, with its open descriptor; nil when none is ready.
    func take() -> (QueueID, String, Int32)? {
        let (taken, left) = spares.withLock { ($0.popLast(), $0.count) }
        // Refilled in batches: one background wake-up per few messages, not one per message.
        if left <= target / 2 { refillSoon() }
        guard let spare = taken else { return nil }
        let source = "\(directory.spareDirectory)/\(spare.id)"
        for _ in 0..<100 {
            // A queue ID drawn now: it starts with the arrival microseconds, which orders deliveries.
            let id = QueueID.generate()
            let path = directory.filePath(.incoming, id)
            if tern_rename_noreplace(source, path) == 0 { return (id, path, spare.fd) }
            guard errno == EEXIST else { break }
        }
        close(spare.fd)
        unlink(source)
        return nil
    }

    /// Makes spares up to `target` in the background (one refill at a time, on Dispatch's pooled threads),
    /// handing them out only once spare/ is fsynced.
    private func refillSoon() {
        guard !refilling.exchange(true, ordering: .acquiringAndReleasing) else { return }
        DispatchQueue.global(qos: .utility).async { [self] in
            var made: [(id: QueueID, fd: Int32)] = []
            while spares.withLock({ $0.count }) + made.count < target, let spare = makeSpare() { made.append(spare) }
            if !made.isEmpty {
                if (try? FileSystem.fsyncDirectory(directory.spareDirectory)) != nil {
                    spares.withLock { $0 += made }
                } else {
                    for spare in made {
                        close(spare.fd)
                        unlink("\(directory.spareDirectory)/\(spare.id)")
                    }
                }
            }
            refilling.store(false, ordering: .releasing)
        }
    }

    private func makeSpare() -> (id: QueueID, fd: Int32)? {
        for _ in 0..<100 {
            let id = QueueID.generate()
            let fd = open("\(directory.spareDirectory)/\(id)", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { return (id, fd) }
            guard errno == EEXIST else { return nil }
        }
        return nil
    }
}
