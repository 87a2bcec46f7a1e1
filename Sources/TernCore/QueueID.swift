import Foundation

/// A Postfix-style short queue ID: upper-case hex, e.g. `0C261A1F0F`.
/// Five hex digits of the arrival microseconds followed by five random hex digits (Postfix uses the inode);
/// uniqueness is finally guaranteed by creating the queue file with O_EXCL.
public struct QueueID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: String

    public init?(_ text: String) {
        guard text.count >= 6, text.count <= 20,
            text.allSatisfy({ $0.isASCII && ($0.isNumber || ("A"..."Z").contains($0)) })
        else { return nil }
        value = text
    }

    private init(unchecked: String) { value = unchecked }

    public static func generate() -> QueueID {
        var tv = timeval()
        gettimeofday(&tv, nil)
        let usec = Int(tv.tv_usec) & 0xFFFFF
        let random = UInt32.random(in: 0...0xFFFFF)
        let text = hex(usec, width: 5) + hex(Int(random), width: 5)
        return QueueID(unchecked: text)
    }

    /// The hashed subdirectory (first hex digit), as Postfix's hash_queue_depth = 1.
    public var hashDirectory: String { String(value.prefix(1)) }

    public var description: String { value }

    public static func < (lhs: QueueID, rhs: QueueID) -> Bool { lhs.value < rhs.value }

    private static func hex(_ n: Int, width: Int) -> String {
        let s = String(n, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
