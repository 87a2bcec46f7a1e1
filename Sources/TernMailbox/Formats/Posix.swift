import Glibc

/// The few POSIX file operations the store needs, with errno kept for `MailboxError.system`.
enum Posix {
    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    static func failure(_ operation: String, _ path: String, _ code: Int32 = errno) -> MailboxError {
        .system(operation: operation, path: path, errno: code)
    }

    /// The names in a directory except `.` and `..`, or nil with errno set. Reads entries one by one, so a
    /// directory of 100,000 messages costs their names and nothing else.
    static func directoryEntries(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func fileStat(_ path: String) -> stat? {
        var st = stat()
        return stat(path, &st) == 0 ? st : nil
    }

    static func isDirectory(_ path: String) -> Bool {
        guard let st = fileStat(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Reads a small control file completely; nil when it does not exist. Files larger than `limit` are
    /// refused (a uidlist of a million messages is about 60 MB; anything bigger is garbage).
    static func readFile(_ path: String, limit: Int = 256 << 20) throws(MailboxError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw failure("open", path)
        }
        defer { close(fd) }
        return try readAll(fd, path: path, limit: limit)
    }

    /// Reads from `fd`'s offset to the end (`readFile`'s limit).
    static func readAll(_ fd: Int32, path: String, limit: Int = 256 << 20) throws(MailboxError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read", path)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit { throw failure("read", path, EFBIG) }
        }
        return bytes
    }

    /// Up to `count` bytes at `offset` (fewer at the end of the file).
    static func read(_ fd: Int32, at offset: Int, count: Int, path: String) throws(MailboxError) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("pread", path)
            }
            if n == 0 { break }
            done += n
        }
        bytes.removeLast(count - done)
        return bytes
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(MailboxError) {
        let code: Int32 = bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return 0
        }
        if code != 0 { throw failure("write", path, code) }
    }

    /// Replaces `path` with `bytes` through `path.tmp` (write, fsync, rename, fsync of the directory), the way
    /// Dovecot recreates its control files, so a crash leaves either the old or the new file.
    /// Replaces `path` atomically (temporary file and rename). `durable`: synced to disk, file and directory,
    /// before returning; caches that can be rebuilt skip that, as Dovecot's mail_fsync = optimized does.
    static func replaceFile(_ path: String, with bytes: [UInt8], mode: mode_t = 0o600, durable: Bool = true)
        throws(MailboxError)
    {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        if fd < 0 { throw failure("open", tmp) }
        do throws(MailboxError) {
            try writeAll(fd, bytes, path: tmp)
            if durable && fdatasync(fd) != 0 { throw failure("fdatasync", tmp) }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        if rename(tmp, path) != 0 {
            let code = errno
            unlink(tmp)
            throw failure("rename", path, code)
        }
        if durable { syncDirectory(parent(of: path)) }
    }

    /// Appends `bytes` to an existing file and syncs it.
    static func appendToFile(_ path: String, _ bytes: [UInt8], durable: Bool = true) throws(MailboxError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        if fd < 0 { throw failure("open", path) }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        if durable && fdatasync(fd) != 0 { throw failure("fdatasync", path) }
    }

    /// fsync(2) of a directory, so created, renamed and removed entries survive a crash.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// mkdir(2) that treats an existing directory as success.
    /// mkdir that accepts an existing directory; true when it made one.
    @discardableResult
    static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(MailboxError) -> Bool {
        if mkdir(path, mode) == 0 { return true }
        if errno == EEXIST && isDirectory(path) { return false }
        throw failure("mkdir", path)
    }

    /// mkdir -p.
    static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(MailboxError) {
        if isDirectory(path) { return }
        let parent = parent(of: path)
        if parent != path && parent != "." { try makeDirectories(parent, mode: mode) }
        try makeDirectory(path, mode: mode)
    }

    /// Removes a directory tree (a deleted Maildir++ folder). Symbolic links are removed, not followed.
    static func removeTree(_ path: String) throws(MailboxError) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw failure("lstat", path)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in directoryEntries(path) ?? [] { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw failure("rmdir", path) }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw failure("unlink", path)
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? "localhost" : String(decoding: bytes, as: UTF8.self)
    }

    static func now() -> timespec {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts
    }
}
