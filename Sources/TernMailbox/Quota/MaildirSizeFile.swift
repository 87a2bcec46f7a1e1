import Glibc

/// Maildir++'s `maildirsize` in the Maildir root, as Dovecot's `quota = maildir` backend keeps it: a limits line
/// (`1073741824S,1000C`), then `bytes count` lines whose sums are the usage. Whoever adds or removes messages
/// appends a line; the file is rewritten with one total line when it is missing, larger than 5120 bytes, has
/// other limits than the configured ones, or is over quota with more than one line or older than 15 minutes.
public enum MaildirSizeFile {
    static let fileName = "maildirsize"
    /// Dovecot reads at most this much; a larger file is recalculated.
    static let maxSize = 5120
    /// An over-quota total older than this is recounted (MAILDIRSIZE_STALE_SECS).
    static let staleSeconds = 15 * 60

    /// The parsed file.
    public struct Contents: Sendable, Equatable {
        public var limits: QuotaAmount
        public var usage: QuotaAmount
        /// Lines after the limits line.
        public var lineCount: Int
    }

    public static func path(root: String) -> String { root + "/" + fileName }

    /// Parses the file's bytes; nil when it is broken (Dovecot then recalculates).
    public static func parse(_ bytes: [UInt8]) -> Contents? {
        guard bytes.count < maxSize, !bytes.contains(0) else { return nil }
        // A last line without LF is still being written: it is not counted.
        let complete = bytes.lastIndex(of: UInt8(ascii: "\n")).map { bytes[...$0] } ?? []
        let lines = String(decoding: complete, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast()
        guard let header = lines.first else { return nil }
        var limits = QuotaAmount()
        for item in header.split(separator: ",") {
            guard let value = UInt64(item.dropLast()) else { continue }
            switch item.last {
            case "S": limits.bytes = value
            case "C": limits.messages = value
            default: continue
            }
        }
        var bytesTotal: Int64 = 0
        var countTotal: Int64 = 0
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let bytes = Int64(fields[0]), let count = Int64(fields[1]) else { return nil }
            bytesTotal += bytes
            countTotal += count
        }
        guard bytesTotal >= 0, countTotal >= 0 else { return nil }
        return Contents(
            limits: limits, usage: QuotaAmount(bytes: UInt64(bytesTotal), messages: UInt64(countTotal)),
            lineCount: lines.count - 1)
    }

    /// The usage the file records under `limits`, or nil when it has to be recalculated.
    static func read(root: String, limits: QuotaAmount, now: Int) -> QuotaAmount? {
        let path = path(root: root)
        guard let bytes = try? Posix.readFile(path, limit: maxSize + 1), let contents = parse(bytes),
            contents.limits == limits
        else {
            return nil
        }
        let usage = contents.usage
        let over = (limits.bytes > 0 && usage.bytes > limits.bytes) || (limits.messages > 0 && usage.messages > limits.messages)
        if over {
            guard contents.lineCount <= 1, let status = Posix.fileStat(path),
                Int(status.st_mtim.tv_sec) >= now - staleSeconds
            else {
                return nil
            }
        }
        return usage
    }

    /// The file's text for a fresh total: `0S` when there are no limits at all.
    public static func text(limits: QuotaAmount, usage: QuotaAmount) -> String {
        var header: [String] = []
        if limits.bytes != 0 || limits.messages == 0 { header.append("\(limits.bytes)S") }
        if limits.messages != 0 { header.append("\(limits.messages)C") }
        return header.joined(separator: ",") + "\n\(usage.bytes) \(usage.messages)\n"
    }

    /// Counts every message of the Maildir (INBOX and the `.Folder` directories, new/ and cur/) and rewrites
    /// the file with the total.
    static func recalculate(root: String, limits: QuotaAmount, skipping: Set<String> = []) throws(MailboxError)
        -> QuotaAmount
    {
        let usage = count(root: root, skipping: skipping)
        try Posix.replaceFile(path(root: root), with: Array(text(limits: limits, usage: usage).utf8), durable: false)
        return usage
    }

    /// The sizes of the Maildir's messages: `,S=` in the file name, else the file's size. `skipping` holds the
    /// folders of mailboxes an `ignore` rule leaves out.
    public static func count(root: String, skipping: Set<String> = []) -> QuotaAmount {
        var usage = QuotaAmount()
        var folders = [root]
        for entry in Posix.directoryEntries(root) ?? [] where entry.hasPrefix(".") && entry != "." && entry != ".."
            && entry != ".DOVECOT-TRASH" && Posix.isDirectory(root + "/" + entry)
        {
            folders.append(root + "/" + entry)
        }
        for folder in folders where !skipping.contains(folder) {
            for sub in ["/new", "/cur"] {
                let directory = folder + sub
                for name in Posix.directoryEntries(directory) ?? [] where !name.hasPrefix(".") {
                    if let size = MaildirFileName(name).size {
                        usage.bytes += UInt64(size)
                        usage.messages += 1
                    } else if let status = Posix.fileStat(directory + "/" + name) {
                        usage.bytes += UInt64(status.st_size)
                        usage.messages += 1
                    }
                }
            }
        }
        return usage
    }

    /// Records a change: appends `bytes count` (Maildir++: whoever adds or removes mail updates the file). A
    /// missing file is left missing: the next quota check counts the Maildir.
    public static func record(root: String, bytes: Int64, count: Int64) {
        guard bytes != 0 || count != 0 else { return }
        let fd = open(path(root: root), O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        // One write(2) with O_APPEND, so concurrent writers' lines do not interleave.
        try? Posix.writeAll(fd, Array("\(bytes) \(count)\n".utf8), path: path(root: root))
    }
}
