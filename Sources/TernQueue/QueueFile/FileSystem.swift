import Glibc

/// Thin wrappers over the POSIX calls the queue needs, retrying EINTR and turning failures into QueueError.
enum FileSystem {
    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    static func failure(_ what: String, _ path: String, _ code: Int32 = Glibc.errno) -> QueueError {
        QueueError(.system(errno: code), path: path, message: "\(what): \(errorText(code))")
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o600) throws(QueueError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if Glibc.errno != EINTR { throw failure("open", path) }
        }
    }

    /// Writes all bytes at the current offset.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(QueueError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw failure("write", path)
            }
            done += n
        }
    }

    static func pwriteAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(QueueError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw failure("write", path)
            }
            done += n
        }
    }

    /// Reads exactly `count` bytes at `offset` (fewer only at end of file).
    static func pread(_ fd: Int32, count: Int, at offset: Int, path: String) throws(QueueError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw failure("read", path)
            }
            if n == 0 { break }
            done += n
        }
        buffer.removeLast(count - done)
        return buffer
    }

    static func fsync(_ fd: Int32, path: String) throws(QueueError) {
        while Glibc.fsync(fd) != 0 {
            if Glibc.errno != EINTR { throw failure("fsync", path) }
        }
    }

    /// fsync of a directory, so that a create, rename or unlink in it survives a crash.
    static func fsyncDirectory(_ path: String) throws(QueueError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(fd) }
        try fsync(fd, path: path)
    }

    static func size(_ fd: Int32, path: String) throws(QueueError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure("fstat", path) }
        return Int(st.st_size)
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir that accepts an existing directory, then sets the mode exactly (umask aside).
    static func makeDirectory(_ path: String, mode: UInt32) throws(QueueError) {
        if mkdir(path, mode_t(mode)) != 0 {
            let code = Glibc.errno
            guard code == EEXIST, isDirectory(path) else { throw failure("mkdir", path, code) }
        }
        // chmod only when needed (the umask, or an existing directory with another mode): a chmod changes
        // the directory's ctime, a journal write on every message that is deferred.
        var st = stat()
        guard stat(path, &st) == 0 else { throw failure("stat", path) }
        guard UInt32(st.st_mode) & 0o7777 != mode else { return }
        guard chmod(path, mode_t(mode)) == 0 else { throw failure("chmod", path) }
    }

    /// As root: gives `path` the owner and group of `parent` (a directory made for the mail_owner's daemon).
    static func inheritOwner(_ path: String, from parent: String) {
        guard geteuid() == 0 else { return }
        var owner = stat()
        guard stat(parent, &owner) == 0 else { return }
        _ = chown(path, owner.st_uid, owner.st_gid)
    }

    /// Names in a directory, without `.` and `..`; an absent directory is empty.
    static func entries(_ path: String) throws(QueueError) -> [String] {
        guard let dir = opendir(path) else {
            if Glibc.errno == ENOENT { return [] }
            throw failure("opendir", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
