import CTernSys
import Glibc

/// The write lock of a Tern-only file (`tern.index`): an open-file-description lock on `<path>.lock`, so the
/// sessions of one worker exclude each other as other processes do. A waiter sleeps in the kernel and wakes
/// the moment the holder is done (a dotlock's poll-and-sleep cost 100 ms and more per conflict), and the lock
/// goes with its holder's descriptor, so a crashed process leaves no stale lock. The lock file stays.
final class IndexLock {
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Waits for and takes the lock. Holders only read and rewrite one small file, so the wait is short.
    static func acquire(for path: String) throws(MailboxError) -> IndexLock {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Posix.failure("open", lockPath) }
        guard tern_ofd_lock(fd, 2, 1) == 0 else {
            let failure = Posix.failure("fcntl", lockPath)
            close(fd)
            throw failure
        }
        return IndexLock(fd: fd)
    }

    /// Closing the descriptor drops the lock (once).
    func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
