import Glibc
import Synchronization

/// APPEND into a Maildir folder, streamed: bytes go to `tmp/` as they arrive; `commit()` syncs the file, sets
/// the internal date as its mtime, moves it to `new/` (flags in its name) under the uidlist lock
/// and records its UID, the order Dovecot's maildir_save uses, so a crash leaves either nothing or a complete
/// message that the next sync finds. The file name is Dovecot's:
/// `<seconds>.M<microseconds>P<pid>.<host>,S=<size>,W=<CRLF size>[:2,<flags>]`.
public final class MessageAppender: MailboxAppender {
    let folder: MaildirFolder
    let flags: MessageFlags
    let keywords: [String]
    let internalDate: Int?
    let tmpPath: String
    let base: String
    private var fd: Int32
    private var counter = CRLFCounter()
    /// Committed or aborted: the file in `tmp/` is gone.
    private var finished = false
    /// Written, synced and closed, waiting in `tmp/` under its final base name.
    private var prepared = false
    private var finalBase = ""
    /// The bytes written so far.
    public private(set) var size = 0
    /// A shared mailbox with INDEXPVT: the `\Seen` asked for goes to the saving user's private flags here.
    var privateSeen: PrivateFlagsFile?

    init(folder: MaildirFolder, flags: MessageFlags, keywords: [String], internalDate: Int?) throws(MailboxError) {
        self.folder = folder
        self.flags = flags
        self.keywords = keywords
        self.internalDate = internalDate
        base = MessageAppender.uniqueBase()
        tmpPath = folder.tmp + "/" + base
        if !Posix.isDirectory(folder.tmp) { try Posix.makeDirectory(folder.tmp) }
        fd = open(tmpPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw Posix.failure("open", tmpPath) }
    }

    deinit { abort() }

    /// Appends the next piece of the message.
    public func write(_ bytes: [UInt8]) throws(MailboxError) {
        precondition(!finished && !prepared, "write after prepare, commit or abort")
        do {
            try Posix.writeAll(fd, bytes, path: tmpPath)
        } catch {
            abort()
            throw error
        }
        counter.add(bytes)
        size += bytes.count
    }

    /// Makes the message durable and visible; returns its UID (APPENDUID, RFC 4315).
    public func commit() throws(MailboxError) -> UInt32 {
        try MessageAppender.commitAll([self])[0]
    }

    /// Syncs the file in `tmp/` and closes it (the message stays invisible); MULTIAPPEND prepares each message
    /// as it ends so that a long command holds no more than one open file.
    public func prepare() throws(MailboxError) {
        guard !prepared else { return }
        precondition(!finished, "prepare after abort")
        if let internalDate {
            var times = [timespec(tv_sec: internalDate, tv_nsec: 0), timespec(tv_sec: internalDate, tv_nsec: 0)]
            _ = futimens(fd, &times)
        }
        if fsync(fd) != 0 {
            let code = errno
            abort()
            throw Posix.failure("fsync", tmpPath, code)
        }
        close(fd)
        fd = -1
        prepared = true
        finalBase = "\(base),S=\(size),W=\(counter.size)"
    }

    /// Makes several messages of one mailbox visible together, under one uidlist lock, so that MULTIAPPEND
    /// (RFC 3502) keeps all of them or none; returns their UIDs in order.
    public static func commitAll(_ appenders: [MessageAppender]) throws(MailboxError) -> [UInt32] {
        guard let folder = appenders.first?.folder else { return [] }
        do throws(MailboxError) {
            for appender in appenders { try appender.prepare() }
            let files = appenders.map {
                Delivery(source: $0.tmpPath, base: $0.finalBase, flags: $0.flags, keywords: $0.keywords)
            }
            let uids = try deliver(files, into: folder)
            for appender in appenders { appender.finished = true }
            try recordPrivateSeen(zip(appenders, uids).compactMap { $0.privateSeen == nil ? nil : $1 }, appenders)
            return uids
        } catch {
            for appender in appenders { appender.abort() }
            throw error
        }
    }

    /// Adds `uids` to the private `\Seen` of the appenders' mailbox (one mailbox for all of them).
    private static func recordPrivateSeen(_ uids: [UInt32], _ appenders: [MessageAppender]) throws(MailboxError) {
        guard let file = appenders.lazy.compactMap(\.privateSeen).first, let last = uids.last,
            let validity = try appenders[0].folder.loadUIDList().list?.uidValidity
        else { return }
        let seen = try file.read(uidValidity: validity, nextUID: last + 1)
        try file.write(seen.union(uids), uidValidity: validity)
    }

    /// Drops the message (the client aborted the APPEND).
    public func abort() {
        guard !finished else { return }
        finished = true
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(tmpPath)
    }

    /// A file in tmp/ to move into the mailbox under a new UID.
    struct Delivery {
        var source: String
        var base: String
        var flags: MessageFlags
        var keywords: [String]
        /// A copy's source GUID, kept in the uidlist's `G` field as Dovecot's maildir copy does.
        var guid: String? = nil
    }

    /// Moves finished files from `tmp/` (or anywhere on the same file system) into the folder and gives them
    /// UIDs, all under one uidlist lock, and counts them in `maildirsize`. Returns the UIDs in order.
    static func deliver(_ files: [Delivery], into folder: MaildirFolder) throws(MailboxError) -> [UInt32] {
        var known = try folder.loadKeywords()
        var targets: [(source: String, destination: String, base: String, guid: String?)] = []
        for file in files {
            let indexes = file.keywords.isEmpty ? [] : try folder.keywordIndexes(for: file.keywords, known: &known)
            // Into new/ even with flags (in the name): \Recent goes to the session that moves a file from new/
            // to cur/ (Dovecot puts flagged saves in cur/ and marks them recent in its own index; Dovecot, as
            // Tern, keeps the flags of a name in new/ when it moves the file).
            if file.flags.isEmpty && indexes.isEmpty {
                targets.append((file.source, folder.new + "/" + file.base, file.base, file.guid))
            } else {
                let name = MaildirFileName(base: file.base, flagLetters: "").with(
                    flags: file.flags, keywordIndexes: indexes)
                targets.append((file.source, folder.new + "/" + name.name, file.base, file.guid))
            }
        }
        var uidValidity: UInt32 = 0
        let uids = try folder.updateUIDList { (list: inout UIDList, _: inout Bool) throws(MailboxError) in
            uidValidity = list.uidValidity
            var uids: [UInt32] = []
            for target in targets {
                if rename(target.source, target.destination) != 0 {
                    throw Posix.failure("rename", target.destination)
                }
                var record = UIDList.Record(uid: list.nextUID, base: target.base)
                if let guid = target.guid, guid != target.base { record.set("G", guid) }
                list.records.append(record)
                uids.append(list.nextUID)
                list.nextUID += 1
            }
            return uids
        }
        Posix.syncDirectory(folder.new)
        Posix.syncDirectory(folder.cur)
        var saved: [UInt32: MailboxIndex.Entry] = [:]
        for (uid, target) in zip(uids, targets) {
            var info = stat()
            guard stat(target.destination, &info) == 0 else { continue }
            let name = MaildirFileName(String(target.destination.split(separator: "/").last ?? ""))
            saved[uid] = MailboxIndex.Entry(
                modSeq: 0, flags: name.flags, keywords: name.keywordIndexes.compactMap { known.name(at: $0) },
                size: Int(info.st_size), internalDate: info.st_mtim.tv_sec)
        }
        if saved.count == uids.count { MaildirMailbox.recordSaved(saved, uidValidity: uidValidity, in: folder) }
        let bytes = files.reduce(0) { $0 + (MaildirFileName($1.base).size ?? 0) }
        if folder.recordsQuota { MaildirSizeFile.record(root: folder.root, bytes: Int64(bytes), count: Int64(files.count)) }
        return uids
    }

    private static let lastStamp = Mutex<(seconds: Int, micros: Int)>((0, 0))
    private static let host = Posix.hostname().replacingSlashesAndColons

    /// `<seconds>.M<microseconds>P<pid>.<host>`, unique within this process by never repeating a time stamp
    /// (Dovecot's maildir_filename_generate does the same).
    static func uniqueBase() -> String {
        let now = Posix.now()
        let stamp = lastStamp.withLock { last in
            var next = (seconds: now.tv_sec, micros: now.tv_nsec / 1000)
            if next.seconds < last.seconds || (next.seconds == last.seconds && next.micros <= last.micros) {
                next = last.micros >= 999_999 ? (last.seconds + 1, 0) : (last.seconds, last.micros + 1)
            }
            last = next
            return next
        }
        return "\(stamp.seconds).M\(stamp.micros)P\(getpid()).\(host)"
    }
}

extension String {
    /// maildir(5): `/` becomes `\057` and `:` becomes `\072` in host names.
    var replacingSlashesAndColons: String {
        var out = ""
        for char in self {
            switch char {
            case "/": out += "\\057"
            case ":": out += "\\072"
            default: out.append(char)
            }
        }
        return out
    }
}
