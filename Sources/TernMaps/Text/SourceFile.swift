import Glibc

/// Reads table and alias source files with POSIX calls so that errors carry errno text as Postfix prints it.
enum SourceFile {
    /// Source files larger than this are refused: Postfix tables are text edited by hand or generated,
    /// and the whole file is held in memory while it is parsed.
    static let maximumSize = 512 * 1024 * 1024

    struct Failure: Error, Sendable {
        let reason: String
    }

    static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(reason: "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: "read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
            if bytes.count > maximumSize { throw Failure(reason: "\(path): file too large") }
        }
        return bytes
    }

    /// Permission bits of `path`, or nil when it cannot be stat'ed.
    static func mode(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }
}
