import Glibc

/// Reading .forward and :include: files on behalf of a user. Postfix opens them with the user's
/// effective uid (open_as); a multithreaded daemon cannot switch uids per thread, so the permission
/// bits are checked against the user's uid and groups instead, then the file is read as ourselves.
enum FileAccess {
    struct Failure: Error {
        let message: String
    }

    /// Files larger than this are not address lists; refusing them bounds memory use.
    static let maxFileSize = 4 << 20

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The strerror text when `path` cannot be stat()ed, nil when it can (require_home_directory).
    static func statError(_ path: String) -> String? {
        var st = stat()
        return stat(path, &st) == 0 ? nil : errorText(errno)
    }

    /// Would `user` (nil = root) be allowed to read a file with this owner and mode?
    static func mayRead(_ st: stat, as user: SystemUser?) -> Bool {
        guard let user, user.uid != 0 else { return true }
        if st.st_uid == user.uid { return st.st_mode & S_IRUSR != 0 }
        if user.groups.contains(st.st_gid) || user.gid == st.st_gid { return st.st_mode & S_IRGRP != 0 }
        return st.st_mode & S_IROTH != 0
    }

    /// The file's lines, each cut into pieces of at most `lineLimit` bytes (vstring_fgets_bound),
    /// read as `user` would see it.
    static func readLines(_ path: String, as user: SystemUser?, lineLimit: Int) -> Result<[String], Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { return .failure(Failure(message: errorText(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(Failure(message: errorText(errno))) }
        guard mayRead(st, as: user) else { return .failure(Failure(message: errorText(EACCES))) }
        guard Int(st.st_size) <= maxFileSize else { return .failure(Failure(message: errorText(EFBIG))) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while bytes.count <= maxFileSize {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Failure(message: errorText(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return .success(splitLines(bytes, limit: max(1, lineLimit)))
    }

    static func splitLines(_ bytes: [UInt8], limit: Int) -> [String] {
        var lines: [String] = []
        var current: [UInt8] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: current, as: UTF8.self))
                current = []
                continue
            }
            current.append(byte)
            if current.count >= limit {
                lines.append(String(decoding: current, as: UTF8.self))
                current = []
            }
        }
        if !current.isEmpty { lines.append(String(decoding: current, as: UTF8.self)) }
        return lines
    }
}
