import Glibc

/// An mbox mailbox's file and the places Tern keeps things beside it.
struct MboxLocation: Sendable {
    /// The mbox file (`~/mail/Sent`, `/var/mail/carla`).
    let path: String
    /// The mail root (`~/mail`): `.imap/dovecot-uidvalidity` and temporary files of APPEND live under it.
    let root: String
    /// Dovecot's index directory of the mailbox (`~/mail/.imap/INBOX`), where Tern keeps `tern.index`.
    let indexDirectory: String
    /// mail_privileged_group, for the dotlock and the rewrite in a spool directory the user cannot write.
    let privilegedGroup: UInt32?

    var controlDirectory: String { root + "/.imap" }

    /// A UIDVALIDITY for a file without X-IMAPbase, from `.imap/dovecot-uidvalidity` as Dovecot hands them out.
    func newUIDValidity() -> UInt32 {
        try? Posix.makeDirectories(controlDirectory)
        return UIDValidityAllocator.next(root: controlDirectory)
    }
}

/// A message of the file as a rewrite leaves it.
struct MboxPlanned {
    var entry: MboxEntry
    var uid: UInt32
    var flags: MessageFlags
    var keywords: [String]
    /// Status `O`.
    var old: Bool
    var keep = true
}

/// A message APPEND streamed to a temporary file (LF line ends), added at the end of the mbox.
struct MboxAppended {
    let fd: Int32
    let flags: MessageFlags
    let keywords: [String]
    let internalDate: Int
}

/// The whole-file operations: giving UIDs, and rewriting the file under the write locks.
enum MboxFile {
    /// The UIDs of the messages as Dovecot keeps them: each `X-UID` above the one before stays (an X-UID at or
    /// above X-IMAPbase's UIDNEXT raises UIDNEXT, as Dovecot's lazy writes leave files); from the first
    /// message without one on, messages get new UIDs from UIDNEXT.
    /// `needsWrite`: the file lacks UIDs, the mailbox header or keywords in it.
    static func plan(_ parsed: ParsedMbox, newUIDValidity: () -> UInt32) -> (
        base: MboxBase, messages: [MboxPlanned], needsWrite: Bool
    ) {
        var base = parsed.base ?? MboxBase(uidValidity: newUIDValidity(), nextUID: 1, keywords: [])
        var needsWrite = parsed.base == nil
        var previous: UInt32 = 0
        var renumbering = false
        var planned: [MboxPlanned] = []
        planned.reserveCapacity(parsed.entries.count)
        for entry in parsed.entries {
            var uid: UInt32
            if !renumbering, let found = entry.uid, found > previous, found < UInt32.max - 1 {
                uid = found
            } else {
                if !renumbering { base.nextUID = max(base.nextUID, previous + 1) }
                renumbering = true
                uid = base.nextUID
                base.nextUID += 1
                needsWrite = true
            }
            previous = uid
            for keyword in entry.keywords where !base.keywords.contains(keyword) {
                base.keywords.append(keyword)
                needsWrite = true
            }
            planned.append(
                MboxPlanned(entry: entry, uid: uid, flags: entry.flags, keywords: entry.keywords, old: entry.isOld))
        }
        base.nextUID = max(base.nextUID, previous + 1)
        return (base, planned, needsWrite)
    }

    /// Rewrites the mbox under the write locks: reads it again, lets `change` edit the plan (flags,
    /// expunges; `markOld` sets Status `O` on every message), adds `appending` at the end, writes the result to
    /// a temporary file beside it, syncs it and renames it over the old file, so a crash leaves the old or
    /// the new mailbox and readers that still have the old file open keep reading consistent messages.
    /// Returns the mailbox header written, the UIDs given to `appending`, and the UIDs of messages that were
    /// new (no Status `O`) before.
    @discardableResult
    static func rewrite(
        _ location: MboxLocation, markOld: Bool = false, appending: [MboxAppended] = [],
        change: (inout [MboxPlanned], inout MboxBase) throws(MailboxError) -> Void = { _, _ in }
    ) throws(MailboxError) -> (base: MboxBase, appended: [UInt32], wereNew: [UInt32]) {
        let lock = try MboxLock.write(location.path, privilegedGroup: location.privilegedGroup)
        defer { lock.release() }
        let source = MboxSource(fd: lock.fd)
        let parsed = try MboxParser.parse(source)
        var (base, planned, _) = plan(parsed, newUIDValidity: location.newUIDValidity)
        let wereNew = planned.filter { !$0.old }.map(\.uid)
        try change(&planned, &base)
        if markOld { for index in planned.indices { planned[index].old = true } }
        var appendedUIDs: [UInt32] = []
        for _ in appending {
            appendedUIDs.append(base.nextUID)
            base.nextUID += 1
        }
        for message in planned where message.keep {
            for keyword in message.keywords where !base.keywords.contains(keyword) { base.keywords.append(keyword) }
        }
        for message in appending {
            for keyword in message.keywords where !base.keywords.contains(keyword) { base.keywords.append(keyword) }
        }

        var st = stat()
        _ = fstat(lock.fd, &st)
        var output = try MboxOutput(replacing: location.path, mode: st.st_mode & 0o7777, location.privilegedGroup)
        do throws(MailboxError) {
            var first = true
            for message in planned where message.keep {
                try output.write(message, from: source, base: first ? base : nil)
                first = false
            }
            for (message, uid) in zip(appending, appendedUIDs) {
                try output.append(message, uid: uid, base: first ? base : nil)
                first = false
            }
            if first { try output.bytes(MboxHeaders.pseudoMessage(base, now: time(nil))) }
            try output.commit(owner: st.st_uid, group: st.st_gid, mode: st.st_mode & 0o7777)
        } catch {
            output.discard()
            throw error
        }
        return (base, appendedUIDs, wereNew)
    }
}

/// The new mbox file being written next to the old one (`.<name>.tern.tmp`), with a write buffer.
struct MboxOutput {
    let path: String
    let tmpPath: String
    let privilegedGroup: UInt32?
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(replacing path: String, mode: mode_t, _ privilegedGroup: UInt32?) throws(MailboxError) {
        self.path = path
        self.privilegedGroup = privilegedGroup
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let tmpPath = directory + "/." + name + ".tern.tmp"
        self.tmpPath = tmpPath
        unlink(tmpPath)
        var fd = open(tmpPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode == 0 ? 0o600 : mode)
        if fd < 0 && errno == EACCES, let privilegedGroup {
            fd = PrivilegedGroup.run(privilegedGroup) {
                open(tmpPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode == 0 ? 0o600 : mode)
            }
        }
        if fd < 0 { throw Posix.failure("open", tmpPath) }
        self.fd = fd
    }

    mutating func bytes(_ bytes: [UInt8]) throws(MailboxError) {
        buffer += bytes
        if buffer.count >= 1 << 18 { try flush() }
    }

    mutating func text(_ text: String) throws(MailboxError) { try bytes(Array(text.utf8)) }

    mutating func copy(_ range: Range<Int>, from source: MboxSource) throws(MailboxError) {
        var position = range.lowerBound
        while position < range.upperBound {
            let chunk = try source.read(at: position, count: min(65536, range.upperBound - position))
            if chunk.isEmpty { throw Posix.failure("read", path, EIO) }
            try bytes(chunk)
            position += chunk.count
        }
    }

    /// A message of the old file: From_ line, its header without the lines Dovecot manages, Tern's versions
    /// of those, then the empty line and the body as they were, and the empty line that separates messages.
    mutating func write(_ message: MboxPlanned, from source: MboxSource, base: MboxBase?) throws(MailboxError) {
        let entry = message.entry
        try copy(entry.fromOffset..<entry.headerStart, from: source)
        var position = entry.headerStart
        for range in entry.managed.sorted(by: { $0.lowerBound < $1.lowerBound }) where range.lowerBound >= position {
            try copy(position..<range.lowerBound, from: source)
            position = range.upperBound
        }
        try copy(position..<entry.headerEnd, from: source)
        if let base { try text(MboxHeaders.baseLine(base)) }
        try text(
            MboxHeaders.messageHeaders(
                uid: message.uid, flags: message.flags, keywords: message.keywords, old: message.old))
        if entry.headerEnd == entry.end {
            try text("\n")
        } else {
            try copy(entry.headerEnd..<entry.end, from: source)
        }
        let last = try entry.end > entry.headerEnd ? source.read(at: entry.end - 1, count: 1) : [0x0A]
        try text(last == [0x0A] ? "\n" : "\n\n")
    }

    /// An APPENDed message: a From_ line with its INTERNALDATE, its header without lines Dovecot manages,
    /// Tern's headers and Content-Length (Dovecot does not quote body lines that start with "From "), the body.
    mutating func append(_ message: MboxAppended, uid: UInt32, base: MboxBase?) throws(MailboxError) {
        let source = MboxSource(fd: message.fd)
        var reader = MboxLineReader(source: source)
        var kept: [Range<Int>] = []
        var skipping = false
        var bodyStart = source.size
        var blank: Range<Int>?
        while let line = try reader.next() {
            if line.isEmpty {
                blank = line.start..<line.end
                bodyStart = line.end
                break
            }
            if line.prefix.first == 0x20 || line.prefix.first == 0x09 {
                if !skipping { kept.append(line.start..<line.end) }
                continue
            }
            let name = HeaderField(line: line).name
            skipping = MboxOutput.managedNames.contains(name)
            if !skipping { kept.append(line.start..<line.end) }
        }
        try bytes(MboxHeaders.fromLine(date: message.internalDate))
        for range in kept { try copy(range, from: source) }
        if let base { try text(MboxHeaders.baseLine(base)) }
        try text(MboxHeaders.messageHeaders(uid: uid, flags: message.flags, keywords: message.keywords, old: false))
        var bodyLength = source.size - bodyStart
        let lastByte = try bodyLength == 0 ? [0x0A] : source.read(at: source.size - 1, count: 1)
        let endsWithNewline = lastByte == [0x0A]
        if !endsWithNewline { bodyLength += 1 }
        try text("Content-Length: \(bodyLength)\n")
        if let blank { try copy(blank, from: source) } else { try text("\n") }
        try copy(bodyStart..<source.size, from: source)
        try text(endsWithNewline ? "\n" : "\n\n")
    }

    static let managedNames: Set<String> = [
        "x-uid", "status", "x-status", "x-keywords", "x-imapbase", "x-imap", "content-length",
    ]

    private mutating func flush() throws(MailboxError) {
        try Posix.writeAll(fd, buffer, path: tmpPath)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Syncs the new file, gives it the old one's owner, group and mode where allowed, and renames it into
    /// place.
    mutating func commit(owner: uid_t, group: gid_t, mode: mode_t) throws(MailboxError) {
        try flush()
        _ = fchown(fd, owner, group)
        if mode != 0 { _ = fchmod(fd, mode) }
        if fsync(fd) != 0 { throw Posix.failure("fsync", tmpPath) }
        close(fd)
        fd = -1
        let (tmpPath, path) = (tmpPath, path)
        var renamed = rename(tmpPath, path) == 0
        if !renamed && errno == EACCES, let privilegedGroup {
            renamed = PrivilegedGroup.run(privilegedGroup) { rename(tmpPath, path) } == 0
        }
        if !renamed { throw Posix.failure("rename", path) }
        Posix.syncDirectory(Posix.parent(of: path))
    }

    /// Removes the unfinished new file (the old one stays).
    mutating func discard() {
        if fd >= 0 { close(fd) }
        fd = -1
        unlinkTemporary()
    }

    private func unlinkTemporary() {
        if unlink(tmpPath) != 0 && errno == EACCES, let privilegedGroup {
            let tmpPath = tmpPath
            _ = PrivilegedGroup.run(privilegedGroup) { unlink(tmpPath) }
        }
    }
}
