import Glibc

/// A lock file next to the file it protects, compatible with Dovecot's file-dotlock.c so Tern and Dovecot
/// exclude each other on the same Maildir: `<path>.lock` is created with O_EXCL (Dovecot's default
/// `dotlock_use_excl = yes`) and holds `<pid>:<hostname>`. A lock is stale, and removed, when its process on
/// this host is gone (checked once the lock is older than 2 seconds) or when neither the lock nor the protected
/// file changed for `staleTimeout` seconds. Waiting gives up after `timeout` seconds.
final class DotLock {
    /// dovecot-uidlist: MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT (2 minutes), waited for up to 2 seconds longer.
    static let uidlistStaleTimeout: Int = 120
    static let uidlistTimeout: Int = 122
    /// dovecot-keywords: maildir-keywords.c uses a 60 second stale timeout and waits as long.
    static let keywordsStaleTimeout: Int = 60
    static let keywordsTimeout: Int = 60
    /// Dovecot does not read the pid of a lock younger than this (STALE_PID_CHECK_SECS).
    static let pidCheckAge: Int = 2

    let lockPath: String
    private let privilegedGroup: UInt32?
    private var held = true

    private init(lockPath: String, privilegedGroup: UInt32?) {
        self.lockPath = lockPath
        self.privilegedGroup = privilegedGroup
    }

    /// Takes the lock for `path`, waiting up to `timeout` seconds (0: try once). `privilegedGroup`
    /// (mail_privileged_group) is switched to for creating and removing the lock file when the directory
    /// (/var/mail) does not let the user do that.
    static func acquire(for path: String, timeout: Int, staleTimeout: Int, privilegedGroup: UInt32? = nil)
        throws(MailboxError) -> DotLock
    {
        let lockPath = path + ".lock"
        let content = Array("\(getpid()):\(Posix.hostname())".utf8)
        let deadline = time(nil) + timeout
        var lastChange = 0
        var lastSeen: (ino: ino_t, mtime: Int, size: Int)?
        var waitMicros: UInt32 = 100_000
        while true {
            var fd = open(lockPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 && errno == EACCES, let privilegedGroup {
                fd = PrivilegedGroup.run(privilegedGroup) {
                    open(lockPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                }
            }
            if fd >= 0 {
                let written = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written != content.count { _ = ftruncate(fd, 0) }
                close(fd)
                return DotLock(lockPath: lockPath, privilegedGroup: privilegedGroup)
            }
            guard errno == EEXIST else { throw Posix.failure("open", lockPath) }

            let now = time(nil)
            var st = stat()
            if lstat(lockPath, &st) == 0 {
                let seen = (st.st_ino, st.st_mtim.tv_sec, Int(st.st_size))
                if lastSeen == nil || lastSeen! != seen {
                    // First look or a new holder: the change time is the lock's own mtime the first time.
                    lastChange = lastSeen == nil ? min(st.st_mtim.tv_sec, now) : now
                    lastSeen = seen
                }
                if now - st.st_mtim.tv_sec >= pidCheckAge, let pid = localPid(lockPath), pid != getpid(),
                    kill(pid, 0) != 0, errno == ESRCH
                {
                    override(lockPath)
                    continue
                }
                if now > lastChange + staleTimeout {
                    if let target = Posix.fileStat(path) {
                        lastChange = max(lastChange, min(target.st_mtim.tv_sec, now))
                    }
                    if now > lastChange + staleTimeout {
                        override(lockPath)
                        continue
                    }
                }
            }
            if now >= deadline { throw MailboxError.lockTimeout(path: lockPath) }
            usleep(waitMicros)
            waitMicros = min(waitMicros + waitMicros / 2, 1_000_000)
        }
    }

    /// Removes the lock file (once).
    func release() {
        if held, unlink(lockPath) != 0, errno == EACCES, let privilegedGroup {
            _ = PrivilegedGroup.run(privilegedGroup) { unlink(lockPath) }
        }
        held = false
    }

    deinit { release() }

    /// The pid in a lock file written on this host, as Dovecot's read_local_pid().
    private static func localPid(_ lockPath: String) -> pid_t? {
        guard let bytes = try? Posix.readFile(lockPath, limit: 512) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingTrailingNewline
        guard let colon = text.firstIndex(of: ":"), text[text.index(after: colon)...] == Posix.hostname(),
            let pid = pid_t(text[..<colon]), pid > 0
        else { return nil }
        return pid
    }

    private static func override(_ lockPath: String) {
        unlink(lockPath)
        // Dovecot sleeps 0.1-0.2 s after overriding so two overriders do not remove each other's new lock.
        usleep(UInt32.random(in: 100_000...200_000))
    }
}

extension String {
    var trimmingTrailingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}

/// mail_privileged_group: a group the session may switch to for a moment (its real gid), for lock
/// and temporary files in a mail spool directory the user cannot write (Dovecot's
/// restrict_access_use_priv_gid()).
enum PrivilegedGroup {
    static func run<T>(_ group: UInt32, _ body: () -> T) -> T {
        let previous = getegid()
        guard setegid(gid_t(group)) == 0 else { return body() }
        defer { _ = setegid(previous) }
        return body()
    }
}
