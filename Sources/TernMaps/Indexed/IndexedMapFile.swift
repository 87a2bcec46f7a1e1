import Foundation
import Glibc

/// Tern's indexed map file, written by postmap(1)/postalias(1) as `FILE.db` (hash, btree) or `FILE.lmdb`.
/// Tern deliberately does not use Berkeley DB or LMDB; the file is a sorted, immutable index that lookups
/// binary-search in a memory map, so a lookup never re-reads the source text.
///
/// Layout (integers little-endian):
/// - header, 32 bytes: magic `TERNMAP\0`, version (UInt32), flags (UInt32), count (UInt64), reserved (UInt64)
/// - index, count × 16 bytes sorted by key bytes: offset of the record (UInt64), key length, value length (UInt32)
/// - records: key bytes immediately followed by value bytes
public struct IndexedMapFile: Sendable {
    public static let magic: [UInt8] = Array("TERNMAP".utf8) + [0]
    public static let version: UInt32 = 1
    static let headerSize = 32
    static let indexEntrySize = 16

    /// Header flags.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Keys were stored as given (`postmap -f`); otherwise they were folded to lower case.
        public static let caseSensitiveKeys = Flags(rawValue: 1 << 0)
    }

    public let path: String
    public let flags: Flags
    public let count: Int
    private let data: Data

    /// Maps `path` and checks the header and every index entry against the file size.
    public init(path: String) throws(IndexedMapError) {
        let mapped = try Self.map(path)
        guard mapped.count >= Self.headerSize, Array(mapped.prefix(8)) == Self.magic else {
            throw IndexedMapError(path: path, reason: "open database \(path): not a Tern indexed map file")
        }
        let version = mapped.readUInt32(at: 8)
        guard version == Self.version else {
            throw IndexedMapError(path: path, reason: "open database \(path): unsupported format version \(version)")
        }
        let count = mapped.readUInt64(at: 16)
        guard count <= UInt64((mapped.count - Self.headerSize) / Self.indexEntrySize) else {
            throw IndexedMapError(path: path, reason: "open database \(path): truncated index")
        }
        for slot in 0..<Int(count) {
            let base = Self.headerSize + slot * Self.indexEntrySize
            let offset = mapped.readUInt64(at: base)
            let length = UInt64(mapped.readUInt32(at: base + 8)) + UInt64(mapped.readUInt32(at: base + 12))
            guard offset <= UInt64(mapped.count), length <= UInt64(mapped.count) - offset else {
                throw IndexedMapError(path: path, reason: "open database \(path): record \(slot) out of bounds")
            }
        }
        self.path = path
        self.data = mapped
        self.flags = Flags(rawValue: mapped.readUInt32(at: 12))
        self.count = Int(count)
    }

    /// mmap(2)s the whole file read-only; the mapping stays valid after postmap renames a new file over it.
    private static func map(_ path: String) throws(IndexedMapError) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw IndexedMapError(path: path, reason: "open database \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw IndexedMapError(path: path, reason: "fstat \(path): \(String(cString: strerror(errno)))")
        }
        let size = Int(info.st_size)
        guard size >= headerSize else { return Data() }
        guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw IndexedMapError(path: path, reason: "mmap \(path): \(String(cString: strerror(errno)))")
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, length in
            munmap(pointer, length)
        })
    }

    /// The value stored under exactly these key bytes (callers fold case first when the table folds).
    public func value(forKey key: String) -> String? {
        let needle = Array(key.utf8)
        var low = 0
        var high = count - 1
        while low <= high {
            let middle = (low + high) / 2
            let (keyRange, valueRange) = ranges(of: middle)
            let order = compare(data[keyRange], needle)
            if order == 0 { return String(decoding: data[valueRange], as: UTF8.self) }
            if order < 0 { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    /// All records in key order (postmap -s, incremental updates).
    public func entries() -> [(key: String, value: String)] {
        (0..<count).map { slot in
            let (keyRange, valueRange) = ranges(of: slot)
            return (String(decoding: data[keyRange], as: UTF8.self), String(decoding: data[valueRange], as: UTF8.self))
        }
    }

    private func ranges(of slot: Int) -> (Range<Int>, Range<Int>) {
        let base = Self.headerSize + slot * Self.indexEntrySize
        let offset = Int(data.readUInt64(at: base))
        let keyLength = Int(data.readUInt32(at: base + 8))
        let valueLength = Int(data.readUInt32(at: base + 12))
        let start = data.startIndex + offset
        return (start..<start + keyLength, start + keyLength..<start + keyLength + valueLength)
    }

    private func compare(_ lhs: Data, _ rhs: [UInt8]) -> Int {
        var left = lhs.startIndex
        var right = 0
        while left < lhs.endIndex && right < rhs.count {
            if lhs[left] != rhs[right] { return lhs[left] < rhs[right] ? -1 : 1 }
            left += 1
            right += 1
        }
        return lhs.count == rhs.count ? 0 : (lhs.count < rhs.count ? -1 : 1)
    }
}

/// A map file that could not be opened or is corrupt; `reason` is worded like Postfix's fatal message.
public struct IndexedMapError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { reason }
}

extension Data {
    func readUInt32(at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for byte in 0..<4 { value |= UInt32(self[startIndex + offset + byte]) << (8 * byte) }
        return value
    }

    func readUInt64(at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for byte in 0..<8 { value |= UInt64(self[startIndex + offset + byte]) << (8 * byte) }
        return value
    }
}
