import Glibc

/// Hands out UIDVALIDITY values for new mailboxes through `dovecot-uidvalidity` in the Maildir root, as
/// Dovecot's mailbox-uidvalidity.c does, so every mailbox of a user gets a distinct value even when Tern and
/// Dovecot create mailboxes in the same second. The file holds the last value in 8 hex digits; an empty marker
/// file `dovecot-uidvalidity.<hex>` is renamed to the next value, which makes the increment atomic.
enum UIDValidityAllocator {
    static func next(root: String) -> UInt32 {
        let path = root + "/dovecot-uidvalidity"
        if let bytes = try? Posix.readFile(path, limit: 64), let current = UInt32(hex: bytes), current != 0,
            let value = renameMarker(path, from: current)
        {
            write(path, value)
            return value
        }
        return rescan(path, root: root)
    }

    private static func renameMarker(_ path: String, from current: UInt32) -> UInt32? {
        var value = current
        for _ in 0..<10 {
            let source = "\(path).\(hex8(value))"
            value &+= 1
            if rename(source, "\(path).\(hex8(value))") == 0 { return value }
            if errno != ENOENT { return nil }
        }
        return nil
    }

    private static func rescan(_ path: String, root: String) -> UInt32 {
        let prefix = "dovecot-uidvalidity."
        let values = (Posix.directoryEntries(root) ?? []).filter { $0.hasPrefix(prefix) }.compactMap {
            UInt32(hex: Array($0.dropFirst(prefix.count).utf8))
        }
        guard let highest = values.max() else {
            let value = fallback()
            let fd = open("\(path).\(hex8(value))", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
            if fd >= 0 { close(fd) }
            write(path, value)
            return value
        }
        if let lowest = values.min(), lowest != highest { unlink("\(path).\(hex8(lowest))") }
        guard let value = renameMarker(path, from: highest) else { return fallback() }
        write(path, value)
        return value
    }

    private static func fallback() -> UInt32 { UInt32(truncatingIfNeeded: time(nil)) }

    private static func write(_ path: String, _ value: UInt32) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array(hex8(value).utf8)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        close(fd)
    }

    static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}

extension UInt32 {
    /// Parses up to 8 leading hex digits.
    init?(hex bytes: [UInt8]) {
        let text = String(decoding: bytes.prefix(8), as: UTF8.self)
        guard !text.isEmpty, let value = UInt32(text, radix: 16) else { return nil }
        self = value
    }
}
