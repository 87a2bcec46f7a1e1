import Glibc

/// A Dovecot dict-file (`file:PATH` of mail_attribute_dict, acl_shared_dict): key and value lines, each
/// tab-escaped as Dovecot's dict-file writes them. Changes are read-modify-write under the file's dotlock.
public struct DictFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The pairs in file order (none when the file does not exist).
    public func read() throws(MailboxError) -> [(key: String, value: [UInt8])] {
        guard let bytes = try Posix.readFile(path) else { return [] }
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        var pairs: [(key: String, value: [UInt8])] = []
        var index = 0
        while index + 1 < lines.count {
            pairs.append((String(decoding: Self.unescape(Array(lines[index])), as: UTF8.self), Self.unescape(Array(lines[index + 1]))))
            index += 2
        }
        return pairs
    }

    /// Changes the pairs under the dotlock and writes the file again when they changed, keeping its mode
    /// (new files get `mode`).
    public func update(mode: UInt32 = 0o600, _ change: (inout [(key: String, value: [UInt8])]) -> Void)
        throws(MailboxError)
    {
        let lock = try DotLock.acquire(for: path, timeout: DotLock.keywordsTimeout, staleTimeout: DotLock.keywordsStaleTimeout)
        defer { lock.release() }
        let current = try read()
        var pairs = current
        change(&pairs)
        guard !pairs.elementsEqual(current, by: { $0.key == $1.key && $0.value == $1.value }) else { return }
        var text: [UInt8] = []
        for pair in pairs { text += Self.escape(Array(pair.key.utf8)) + [0x0A] + Self.escape(pair.value) + [0x0A] }
        let existing = Posix.fileStat(path).map { $0.st_mode & 0o7777 }
        try Posix.replaceFile(path, with: text, mode: existing ?? mode_t(mode))
    }

    /// Dovecot's tab-escaping: 0x01 → 01 '1', TAB → 01 't', CR → 01 'r', LF → 01 'n'.
    static func escape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case 0x01: out += [0x01, UInt8(ascii: "1")]
            case 0x09: out += [0x01, UInt8(ascii: "t")]
            case 0x0D: out += [0x01, UInt8(ascii: "r")]
            case 0x0A: out += [0x01, UInt8(ascii: "n")]
            default: out.append(byte)
            }
        }
        return out
    }

    static func unescape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var escaped = false
        for byte in bytes {
            if escaped {
                switch byte {
                case UInt8(ascii: "1"): out.append(0x01)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "n"): out.append(0x0A)
                default: out.append(byte)
                }
                escaped = false
            } else if byte == 0x01 {
                escaped = true
            } else {
                out.append(byte)
            }
        }
        return out
    }
}
