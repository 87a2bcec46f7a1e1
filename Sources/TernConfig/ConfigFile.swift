import Glibc
public import TernCore

/// Reading and replacing configuration files, with errors worded like Postfix's
/// (`open /etc/postfix/main.cf: No such file or directory`).
public enum ConfigFile {
    /// Config files larger than this are refused: main.cf and master.cf are a few kilobytes, and
    /// everything downstream holds them in memory.
    public static let maximumSize = 16 << 20

    public static func read(_ path: String) throws(FileError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(file: path, message: "open \(path): \(errnoText())") }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(file: path, message: "read \(path): \(errnoText())")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
            if data.count > maximumSize { throw FileError(file: path, message: "read \(path): file too large") }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Replaces `path` atomically (write a temporary file beside it, fsync, rename), keeping the old
    /// file's permission bits, as `postconf -e` does.
    public static func replace(_ path: String, with text: String) throws(FileError) {
        var st = stat()
        let mode: mode_t = stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0o644
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(file: temp, message: "open \(temp): \(errnoText())") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errnoText()
                close(fd)
                unlink(temp)
                throw FileError(file: temp, message: "write \(temp): \(reason)")
            }
            offset += n
        }
        fchmod(fd, mode)
        fsync(fd)
        close(fd)
        guard rename(temp, path) == 0 else {
            let reason = errnoText()
            unlink(temp)
            throw FileError(file: path, message: "rename \(temp) to \(path): \(reason)")
        }
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
