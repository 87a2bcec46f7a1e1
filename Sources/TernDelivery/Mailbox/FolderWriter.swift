import Glibc

/// A mail(1) folder operation that failed, with the text to show.
public struct FolderError: Error, Equatable, Sendable {
    public var text: String

    public init(_ text: String) { self.text = text }

    static func system(_ what: String, _ code: Int32) -> FolderError {
        FolderError("\(what): \(SystemError.text(code))")
    }
}

/// Writes messages of a folder the way mail(1) does: appended to an mbox (`save`, `write`, ~/mbox), and the
/// folder itself rewritten on `quit`. mbox files are locked like local delivery locks them (`LockedMailbox`:
/// dot-lock when the directory allows it, then fcntl), so Postfix or Tern delivering at the same time waits.
public struct FolderWriter: Sendable {
    public var lockPolicy: MailboxLockPolicy

    public init(lockPolicy: MailboxLockPolicy = MailboxLockPolicy()) {
        self.lockPolicy = lockPolicy
    }

    /// One message to write and its new `Status:` value (nil: leave the header as it is).
    public struct Item: Sendable {
        public var message: FolderMessage
        public var status: String?

        public init(_ message: FolderMessage, status: String?) {
            self.message = message
            self.status = status
        }
    }

    /// Appends messages in mbox format to `target` (created 0600 when missing); `bodyOnly` writes just the
    /// bodies as mailx's `write` does. Returns whether the file existed before.
    @discardableResult
    public func append(_ items: [Item], of folder: MailFolder, to target: String, bodyOnly: Bool = false)
        throws(FolderError) -> Bool
    {
        var before = stat()
        let existed = stat(target, &before) == 0
        var warnings: [String] = []
        let mailbox: LockedMailbox
        do {
            mailbox = try LockedMailbox.open(
                target, mode: 0o600, createOwnership: nil, policy: lockPolicy, defaultDSN: "5.2.0",
                dotLockMayFail: true, warnings: &warnings)
        } catch {
            throw FolderError("\(target): \(error.text)")
        }
        let start = Int(lseek(mailbox.fd, 0, SEEK_END))
        var output = BufferedOutput(fd: mailbox.fd)
        var failure: FolderError?
        for item in items where failure == nil {
            let source = sourceFD(item.message, of: folder)
            guard source >= 0 else {
                failure = .system(folder.path, errno)
                break
            }
            write(item, of: folder, from: source, bodyOnly: bodyOnly, to: &output)
            close(source)
        }
        if failure == nil, let code = output.finish() ?? (fsync(mailbox.fd) != 0 ? errno : nil) {
            failure = .system(target, code)
        }
        if failure != nil && start >= 0 { _ = ftruncate(mailbox.fd, off_t(start)) }
        mailbox.release()
        if let failure { throw failure }
        return existed
    }

    /// Rewrites an mbox folder with only `kept` (new Status values in place), under the delivery locks. Mail
    /// appended since the folder was scanned is copied after them unchanged. The new content goes to a
    /// temporary file first, so a failure while copying it back loses nothing: that file stays and is named.
    /// Returns whether new mail had arrived.
    public func rewrite(_ folder: MailFolder, keeping kept: [Item]) throws(FolderError) -> Bool {
        var warnings: [String] = []
        let mailbox: LockedMailbox
        do {
            mailbox = try LockedMailbox.open(
                folder.path, mode: 0o600, createOwnership: nil, policy: lockPolicy, defaultDSN: "5.2.0",
                dotLockMayFail: true, warnings: &warnings, access: .readWrite)
        } catch {
            throw FolderError("\(folder.path): \(error.text)")
        }
        defer { mailbox.release() }
        let currentSize = Int(mailbox.status.st_size)
        // Someone else rewrote the file since we read it: our offsets mean nothing now.
        guard currentSize >= folder.scannedSize else {
            throw FolderError("\(folder.path): mailbox changed by another program; not rewritten")
        }
        let (tempPath, tempFD) = try temporaryFile()
        var temp = BufferedOutput(fd: tempFD)
        temp.copy(from: mailbox.fd, range: 0..<folder.preambleLength)
        for item in kept { write(item, of: folder, from: mailbox.fd, bodyOnly: false, to: &temp) }
        temp.copy(from: mailbox.fd, range: folder.scannedSize..<currentSize)
        if let code = temp.finish() ?? (fsync(tempFD) != 0 ? errno : nil) {
            close(tempFD)
            unlink(tempPath)
            throw .system(tempPath, code)
        }
        // Rewritten in place rather than renamed: users cannot create files in a mail spool directory.
        var back = BufferedOutput(fd: mailbox.fd)
        var code: Int32? = ftruncate(mailbox.fd, 0) != 0 || lseek(mailbox.fd, 0, SEEK_SET) != 0 ? errno : nil
        if code == nil {
            back.copy(from: tempFD, range: 0..<temp.written)
            code = back.finish() ?? (fsync(mailbox.fd) != 0 ? errno : nil)
        }
        close(tempFD)
        if let code {
            throw FolderError("\(folder.path): \(SystemError.text(code)); its new content is in \(tempPath)")
        }
        unlink(tempPath)
        return currentSize > folder.scannedSize
    }

    /// Applies a quit to a Maildir: messages not kept are removed, kept ones move to `cur/` with the `S` flag
    /// when read (Maildir's Status). Mail delivered meanwhile is simply not touched.
    public func rewriteMaildir(_ folder: MailFolder, keeping kept: [Item]) throws(FolderError) {
        let keptFiles = Set(kept.compactMap(\.message.maildirFile))
        for message in folder.messages {
            guard let file = message.maildirFile else { continue }
            let path = folder.path + "/" + file
            guard keptFiles.contains(file) else {
                if unlink(path) != 0 && errno != ENOENT { throw .system(path, errno) }
                continue
            }
            let status = kept.first { $0.message.maildirFile == file }?.status ?? ""
            let name = file.split(separator: "/").last.map(String.init) ?? file
            var base = name
            var flags = ""
            if let range = name.firstRange(of: ":2,") {
                base = String(name[..<range.lowerBound])
                flags = String(name[range.upperBound...])
            }
            flags = flags.filter { $0 != "S" } + (status.contains("R") ? "S" : "")
            let newFile = "cur/" + base + ":2," + String(flags.sorted())
            if newFile != file && rename(path, folder.path + "/" + newFile) != 0 { throw .system(path, errno) }
        }
    }

    private func sourceFD(_ message: FolderMessage, of folder: MailFolder) -> Int32 {
        open(folder.path + (message.maildirFile.map { "/" + $0 } ?? ""), O_RDONLY | O_CLOEXEC)
    }

    private func temporaryFile() throws(FolderError) -> (String, Int32) {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((directory + "/mail.RsXXXXXXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .system(directory, errno) }
        return (String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self), fd)
    }

    /// One message in mbox form: `From ` line, header without Status lines, the new Status, body. A Maildir
    /// message gets its body's `From ` lines quoted and the blank line an mbox message ends with.
    private func write(
        _ item: Item, of folder: MailFolder, from fd: Int32, bodyOnly: Bool, to output: inout BufferedOutput
    ) {
        let message = item.message
        let isMaildir = message.maildirFile != nil
        if !bodyOnly {
            output.append(Array((message.fromLine + "\n").utf8))
            var reader = FolderLineReader(fd: fd, start: message.contentStart, end: message.headerEnd)
            var skipping = false
            while let piece = reader.next() {
                let continues = !piece.atLineStart || piece.bytes.first == 0x20 || piece.bytes.first == 0x09
                if !continues { skipping = item.status != nil && Self.fieldName(piece.bytes) == "status" }
                if !skipping { output.append(piece.bytes) }
            }
            if let status = item.status {
                if output.lastByte != 0x0A { output.append([0x0A]) }
                output.append(Array("Status: \(status)\n".utf8))
            }
        }
        var reader = FolderLineReader(fd: fd, start: message.headerEnd, end: message.end)
        var pendingBlank: ArraySlice<UInt8>?
        var first = true
        while let piece = reader.next() {
            // `write` leaves out the empty line that ends the header and the one that ends an mbox message.
            if bodyOnly && first && piece.isBlankLine {
                first = false
                continue
            }
            first = false
            if let blank = pendingBlank { output.append(blank) }
            pendingBlank = nil
            if bodyOnly && !isMaildir && piece.isBlankLine {
                pendingBlank = piece.bytes
                continue
            }
            if isMaildir && piece.starts(with: "From ") { output.append([0x3E]) }
            output.append(piece.bytes)
        }
        if isMaildir && !bodyOnly {
            if output.lastByte != 0x0A { output.append([0x0A]) }
            output.append([0x0A])
        }
    }

    /// The lowercased name of a header line, nil when it has no colon.
    static func fieldName(_ line: ArraySlice<UInt8>) -> String? {
        let name = line.prefix { $0 != 0x3A }
        return name.count < line.count ? String(decoding: name, as: UTF8.self).trimmingSpaces().lowercased() : nil
    }
}

/// Buffered writes to a descriptor that remember the first error instead of throwing at every call.
struct BufferedOutput {
    let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var written = 0
    private(set) var lastByte: UInt8?
    private var error: Int32?

    init(fd: Int32) { self.fd = fd }

    mutating func append(_ bytes: some BidirectionalCollection<UInt8>) {
        buffer.append(contentsOf: bytes)
        if let last = bytes.last { lastByte = last }
        if buffer.count >= FolderLineReader.maxPiece { flush() }
    }

    /// Copies a byte range of another file.
    mutating func copy(from source: Int32, range: Range<Int>) {
        var reader = FolderLineReader(fd: source, start: range.lowerBound, end: range.upperBound)
        while let piece = reader.next() { append(piece.bytes) }
    }

    /// Writes what is buffered; returns the first errno seen, if any.
    mutating func finish() -> Int32? {
        flush()
        return error
    }

    private mutating func flush() {
        guard error == nil, !buffer.isEmpty else {
            buffer.removeAll(keepingCapacity: true)
            return
        }
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                error = errno
                break
            }
            offset += n
        }
        written += offset
        buffer.removeAll(keepingCapacity: true)
    }
}

extension MailFolder {
    /// Streams a message as mail(1) shows it: the `From ` line, the header without the `ignoring` fields
    /// (lowercased names), then the body unchanged.
    public func display(
        _ message: FolderMessage, ignoring: Set<String>, _ emit: (ArraySlice<UInt8>) -> Void
    ) throws(FolderError) {
        let file = path + (message.maildirFile.map { "/" + $0 } ?? "")
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(file, errno) }
        defer { close(fd) }
        emit(ArraySlice(Array((message.fromLine + "\n").utf8)))
        var header = FolderLineReader(fd: fd, start: message.contentStart, end: message.headerEnd)
        var skipping = false
        while let piece = header.next() {
            let continues = !piece.atLineStart || piece.bytes.first == 0x20 || piece.bytes.first == 0x09
            if !continues { skipping = FolderWriter.fieldName(piece.bytes).map(ignoring.contains) ?? false }
            if !skipping { emit(piece.bytes) }
        }
        var body = FolderLineReader(fd: fd, start: message.headerEnd, end: message.end)
        while let piece = body.next() { emit(piece.bytes) }
    }
}
