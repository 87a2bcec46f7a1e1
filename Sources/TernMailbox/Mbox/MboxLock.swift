import CTernSys
import Glibc

/// The locks of an mbox file with Dovecot 2.3's defaults, which Postfix's local(8) (mailbox_delivery_lock =
/// fcntl, dotlock) respects: reading under a fcntl read lock (mbox_read_locks = fcntl), writing under the
/// dotlock `<file>.lock` and a fcntl write lock (mbox_write_locks), the dotlock first, in Postfix's order.
/// The fcntl locks are open-file-description locks: other processes see them as fcntl locks, and two
/// sessions of one Tern process exclude each other too.
final class MboxLock {
    /// mbox_lock_timeout (5 min): how long to wait for a lock.
    static let timeout = 300
    /// mbox_dotlock_change_timeout (2 min): a dotlock nobody touched for that long is stale.
    static let dotLockStaleTimeout = 120

    /// The locked file (read-only for a read lock).
    let fd: Int32
    private var dotLock: DotLock?
    private var held = true

    private init(fd: Int32, dotLock: DotLock?) {
        self.fd = fd
        self.dotLock = dotLock
    }

    deinit { release() }

    /// Opens `path` and takes a read lock; nil when the file does not exist.
    static func read(_ path: String, timeout: Int = timeout) throws(MailboxError) -> MboxLock? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Posix.failure("open", path)
        }
        do {
            try lock(fd, type: 1, path: path, timeout: timeout)
        } catch {
            close(fd)
            throw error
        }
        return MboxLock(fd: fd, dotLock: nil)
    }

    /// Takes the dotlock, then opens `path` (created when missing, mode 0600) and takes a write lock.
    static func write(_ path: String, privilegedGroup: UInt32?, timeout: Int = timeout) throws(MailboxError)
        -> MboxLock
    {
        let dotLock = try DotLock.acquire(
            for: path, timeout: timeout, staleTimeout: dotLockStaleTimeout, privilegedGroup: privilegedGroup)
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 && errno == EACCES, let privilegedGroup {
            fd = PrivilegedGroup.run(privilegedGroup) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        }
        if fd < 0 { throw Posix.failure("open", path) }
        do {
            try lock(fd, type: 2, path: path, timeout: timeout)
        } catch {
            close(fd)
            throw error
        }
        return MboxLock(fd: fd, dotLock: dotLock)
    }

    /// Drops the fcntl lock, closes the file, then removes the dotlock.
    func release() {
        guard held else { return }
        held = false
        _ = tern_ofd_lock(fd, 0, 0)
        close(fd)
        dotLock?.release()
        dotLock = nil
    }

    private static func lock(_ fd: Int32, type: Int32, path: String, timeout: Int) throws(MailboxError) {
        let deadline = time(nil) + timeout
        var waitMicros: UInt32 = 10_000
        while tern_ofd_lock(fd, type, 0) != 0 {
            guard errno == EAGAIN || errno == EACCES else { throw Posix.failure("fcntl", path) }
            if time(nil) >= deadline { throw MailboxError.lockTimeout(path: path) }
            usleep(waitMicros)
            waitMicros = min(waitMicros * 2, 500_000)
        }
    }
}
