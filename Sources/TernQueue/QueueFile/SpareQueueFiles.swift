import CTernSys
import Foundation
import Synchronization
import TernCore

/// Empty queue files made ahead of time in `spare/` (a directory of Tern's next to Postfix's queues, on the
/// same file system). smtpd's new queue file in incoming/ is then a rename of a spare, not an inode
/// allocation while the client waits:
/// under the create/delete churn of a busy queue, ext4 can spend milliseconds finding an inode it may reuse.
/// A spare only ever becomes a queue file through the same steps as a new one (content written, file and
/// directory fsynced before the 250); left-over spares are removed at start.
public final class SpareQueueFiles: Sendable {
    private let directory: QueueDirectory
    private let target: Int
    private let spares = Mutex<[(path: String, fd: Int32)]>([])
    private let refilling = Atomic<Bool>(false)
    private let serial = Atomic<Int>(0)

    public init(directory: QueueDirectory, target: Int = 8) {
        self.directory = directory
        self.target = target
        for name in (try? FileSystem.entries(directory.spareDirectory)) ?? [] {
            unlink("\(directory.spareDirectory)/\(name)")
        }
        refillSoon()
    }

    /// A spare renamed to a fresh queue ID in incoming/, with its open descriptor; nil when none is ready.
    func take() -> (QueueID, String, Int32)? {
        defer { refillSoon() }
        guard let spare = spares.withLock({ $0.popLast() }) else { return nil }
        for _ in 0..<100 {
            let id = QueueID.generate()
            let path = directory.filePath(.incoming, id)
            if tern_rename_noreplace(spare.path, path) == 0 { return (id, path, spare.fd) }
            guard errno == EEXIST else { break }
        }
        close(spare.fd)
        unlink(spare.path)
        return nil
    }

    /// Makes spares up to `target` in the background (one refill at a time, on Dispatch's pooled threads).
    private func refillSoon() {
        guard !refilling.exchange(true, ordering: .acquiringAndReleasing) else { return }
        DispatchQueue.global(qos: .utility).async { [self] in
            while spares.withLock({ $0.count }) < target, let spare = makeSpare() {
                spares.withLock { $0.append(spare) }
            }
            refilling.store(false, ordering: .releasing)
        }
    }

    private func makeSpare() -> (path: String, fd: Int32)? {
        let number = serial.wrappingAdd(1, ordering: .relaxed).newValue
        let path = "\(directory.spareDirectory)/\(getpid()).\(number)"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        return fd >= 0 ? (path, fd) : nil
    }
}
