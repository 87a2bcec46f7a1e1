import Glibc

/// One message of a folder opened by mail(1): where its bytes are and the header fields its summary line
/// needs. Offsets are relative to the message file (the mbox, or the Maildir file).
public struct FolderMessage: Sendable, Equatable {
    /// The `From sender date` line without its newline (made up for Maildir from Return-Path and mtime).
    public var fromLine: String
    /// mbox: offset of the `From ` line; Maildir: 0.
    public var offset: Int
    /// Bytes up to the next message (mbox: from the `From ` line through the blank line before the next one).
    public var size: Int
    public var lines: Int
    /// Where the content after the `From ` line starts (mbox: after that line; Maildir: `offset`).
    public var contentStart: Int
    /// Where the header ends: the offset of the empty line, or the message end when there is none.
    public var headerEnd: Int
    public var from: String?
    public var sender: String?
    public var subject: String?
    /// The `Status:` value (`R` read, `O` seen before), as mail(1) and Postfix-era readers keep it.
    public var status: String?
    /// Maildir: the message file, relative to the folder (`new/...` or `cur/...`); nil in an mbox.
    public var maildirFile: String?

    public var end: Int { offset + size }
}

/// A mailbox read for mail(1): an mbox file or a Maildir directory.
public struct MailFolder: Sendable, Equatable {
    public enum Format: Sendable, Equatable { case mbox, maildir }

    public var path: String
    public var format: Format
    public var messages: [FolderMessage]
    /// mbox: the bytes before the first `From ` line, kept as they are when the file is rewritten.
    public var preambleLength: Int
    /// mbox: the size that was read; mail arriving later lies past it.
    public var scannedSize: Int

    /// Longest header value kept for the summary; the rest is ignored (RFC 5322 §2.1.1 allows 998 per line).
    static let maxValue = 1000

    /// Whether `path` is a Maildir (a directory with `cur`, `new` and `tmp`), the way s-nail decides.
    public static func isMaildir(_ path: String) -> Bool {
        ["cur", "new", "tmp"].allSatisfy { name in
            var st = stat()
            return stat(path + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// Reads the folder at `path`: a Maildir, or an mbox scanned under the delivery locks (so that a message
    /// being delivered is not read half-way) when it is writable, else as it is.
    public static func read(path: String, lockPolicy: MailboxLockPolicy) throws(FolderError) -> MailFolder {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .system(path, errno) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            guard isMaildir(path) else { throw .system(path, EISDIR) }
            return scanMaildir(path: path)
        }
        var warnings: [String] = []
        if let mailbox = try? LockedMailbox.open(
            path, mode: 0o600, createOwnership: nil, policy: lockPolicy, defaultDSN: "5.2.0", dotLockMayFail: true,
            warnings: &warnings, access: .readWrite)
        {
            defer { mailbox.release() }
            return scanMbox(path: path, fd: mailbox.fd, size: Int(mailbox.status.st_size))
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path, errno) }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { throw .system(path, errno) }
        return scanMbox(path: path, fd: fd, size: Int(st.st_size))
    }

    /// Scans the mbox read from `fd` up to `size` bytes. A message starts at a `From ` line at the start of
    /// the file or after an empty line (Postfix writes `>From ` for any other); anything else is content.
    public static func scanMbox(path: String, fd: Int32, size: Int) -> MailFolder {
        var reader = FolderLineReader(fd: fd, end: size)
        var messages: [FolderMessage] = []
        var current: FolderMessage?
        var header = HeaderSummary()
        var preambleLength = size
        var previousBlank = true
        func finish(at end: Int) {
            guard var message = current else { return }
            message.size = end - message.offset
            header.apply(to: &message, end: end)
            messages.append(message)
        }
        while let piece = reader.next() {
            if previousBlank && piece.starts(with: "From ") {
                finish(at: piece.offset)
                if messages.isEmpty { preambleLength = piece.offset }
                let line = String(decoding: piece.bytes.prefix(maxValue), as: UTF8.self)
                current = FolderMessage(
                    fromLine: String(line.prefix { $0 != "\n" && $0 != "\r" }), offset: piece.offset, size: 0,
                    lines: 1, contentStart: piece.offset + piece.bytes.count, headerEnd: 0)
                header = HeaderSummary()
            } else if current != nil {
                if piece.atLineStart { current!.lines += 1 }
                header.feed(piece)
            }
            previousBlank = piece.isBlankLine
        }
        finish(at: size)
        return MailFolder(
            path: path, format: .mbox, messages: messages, preambleLength: messages.isEmpty ? size : preambleLength,
            scannedSize: size)
    }

    /// Lists a Maildir: `new/` then `cur/` messages ordered by modification time and name. Files in `new/`
    /// are unread; in `cur/` the `:2,` flags say S (seen → `Status: RO`), otherwise `Status: O`.
    public static func scanMaildir(path: String) -> MailFolder {
        var entries: [(time: Int, name: String)] = []
        for sub in ["new", "cur"] {
            guard let dir = opendir(path + "/" + sub) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard !name.hasPrefix(".") else { continue }
                var st = stat()
                guard stat(path + "/" + sub + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                entries.append((st.st_mtim.tv_sec, sub + "/" + name))
            }
        }
        entries.sort { ($0.time, $0.name) < ($1.time, $1.name) }
        let messages = entries.compactMap { entry -> FolderMessage? in
            let file = path + "/" + entry.name
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { return nil }
            var reader = FolderLineReader(fd: fd, end: Int(st.st_size))
            var header = HeaderSummary()
            var message = FolderMessage(
                fromLine: "", offset: 0, size: Int(st.st_size), lines: 0, contentStart: 0, headerEnd: 0,
                maildirFile: entry.name)
            while let piece = reader.next() {
                if piece.atLineStart { message.lines += 1 }
                header.feed(piece)
            }
            header.apply(to: &message, end: message.size)
            let flags = entry.name.hasPrefix("cur/") ? String(entry.name.split(separator: ":2,").last ?? "") : nil
            message.status = flags.map { $0.contains("S") ? "RO" : "O" }
            let sender = header.returnPath.map(MailAddressText.skin).flatMap { $0.isEmpty ? nil : $0 }
            message.fromLine = String(DeliveredHeaders.fromLine(sender: sender ?? "", date: entry.time).dropLast())
            return message
        }
        return MailFolder(path: path, format: .maildir, messages: messages, preambleLength: 0, scannedSize: 0)
    }
}

/// Collects the header fields a summary line needs while a message streams past.
struct HeaderSummary {
    var from: String?
    var sender: String?
    var subject: String?
    var status: String?
    var returnPath: String?
    private var inHeader = true
    private var headerEnd: Int?
    /// The field folded lines are added to (nil: a field the summary does not keep).
    private var target: WritableKeyPath<HeaderSummary, String?>?

    mutating func feed(_ piece: FolderLineReader.Piece) {
        guard inHeader else { return }
        if piece.isBlankLine {
            inHeader = false
            headerEnd = piece.offset
            return
        }
        let text = String(decoding: piece.bytes.prefix(MailFolder.maxValue), as: UTF8.self)
        if piece.atLineStart, let first = text.first, first != " " && first != "\t" {
            target = nil
            guard let colon = text.firstIndex(of: ":") else { return }
            // The first occurrence of a field counts, like mail(1)'s hfield().
            let name = text[..<colon].trimmingSpaces().lowercased()
            target = Self.field(name).flatMap { self[keyPath: $0] == nil ? $0 : nil }
            if let target { self[keyPath: target] = String(text[text.index(after: colon)...]).trimmingSpaces() }
        } else if let target, let old = self[keyPath: target] {
            // A folded line, or the rest of a line longer than one piece.
            let value = text.trimmingSpaces()
            self[keyPath: target] = String((old + (old.isEmpty ? "" : " ") + value).prefix(MailFolder.maxValue))
        }
    }

    private static func field(_ name: String) -> WritableKeyPath<HeaderSummary, String?>? {
        switch name {
        case "from": \.from
        case "sender": \.sender
        case "subject": \.subject
        case "status": \.status
        case "return-path": \.returnPath
        default: nil
        }
    }

    func apply(to message: inout FolderMessage, end: Int) {
        message.from = from
        message.sender = sender
        message.subject = subject
        message.status = status
        message.headerEnd = headerEnd ?? end
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
