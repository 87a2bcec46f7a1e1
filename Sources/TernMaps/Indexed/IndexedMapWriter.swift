import Foundation
import Glibc

/// Writes an `IndexedMapFile` atomically: a temporary file next to the target, fsync, rename, fsync of the
/// directory. A server that has the old file mapped keeps reading it until it notices the new inode.
public enum IndexedMapWriter {
    /// Key and value lengths are stored as UInt32; postmap's line bound keeps them far smaller.
    public static func write(
        _ records: [(key: String, value: String)], flags: IndexedMapFile.Flags, to path: String, mode: UInt32 = 0o644
    ) throws(IndexedMapError) {
        let sorted = records.map { (Array($0.key.utf8), Array($0.value.utf8)) }
            .sorted { $0.0.lexicographicallyPrecedes($1.0) }
        var bytes: [UInt8] = IndexedMapFile.magic
        append(UInt32(IndexedMapFile.version), to: &bytes)
        append(flags.rawValue, to: &bytes)
        append(UInt64(sorted.count), to: &bytes)
        append(UInt64(0), to: &bytes)
        var offset = UInt64(IndexedMapFile.headerSize + sorted.count * IndexedMapFile.indexEntrySize)
        for (key, value) in sorted {
            append(offset, to: &bytes)
            append(UInt32(key.count), to: &bytes)
            append(UInt32(value.count), to: &bytes)
            offset += UInt64(key.count + value.count)
        }
        for (key, value) in sorted {
            bytes += key
            bytes += value
        }
        try replaceFile(at: path, with: bytes, mode: mode)
    }

    static func replaceFile(at path: String, with bytes: [UInt8], mode: UInt32) throws(IndexedMapError) {
        let temporary = "\(path).tern-tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("open \(temporary)", path) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let error = failure("write \(temporary)", path)
                close(fd)
                unlink(temporary)
                throw error
            }
            written += result
        }
        _ = fchmod(fd, mode)  // the umask must not narrow what the source file allows
        if fsync(fd) != 0 {
            let error = failure("fsync \(temporary)", path)
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = failure("rename \(temporary) to \(path)", path)
            unlink(temporary)
            throw error
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }

    private static func failure(_ what: String, _ path: String) -> IndexedMapError {
        IndexedMapError(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
