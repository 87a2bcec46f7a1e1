import Glibc

struct ScannedFile: Sendable, Equatable {
    var directory: MaildirDirectory
    var name: String
}

struct DirectoryScan {
    /// Files by base name.
    var files: [String: ScannedFile] = [:]
    /// Neither new/ nor cur/ changed while they were read, so a file missing from `files` is really gone
    /// (a rename in cur/ during readdir may otherwise hide a message for one scan).
    var isStable = true
}

/// Identity of a control file, to skip re-reading it when it did not change.
struct FileStamp: Equatable {
    var inode: UInt
    var size: Int
    var seconds: Int
    var nanoseconds: Int

    init?(_ path: String) {
        guard let st = Posix.fileStat(path) else { return nil }
        self.init(st)
    }

    init?(fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        self.init(st)
    }

    private init(_ st: stat) {
        inode = UInt(st.st_ino)
        size = Int(st.st_size)
        seconds = st.st_mtim.tv_sec
        nanoseconds = st.st_mtim.tv_nsec
    }

    /// Older than a second: a later change within the file system's timestamp granularity cannot hide
    /// behind the same mtime.
    var isSettled: Bool { seconds < Posix.now().tv_sec - 1 }

    /// This stamp for a file read only up to `size` bytes: it differs from the file's own until read further.
    func truncated(to size: Int) -> FileStamp {
        var stamp = self
        stamp.size = size
        return stamp
    }
}

/// What `sync()` depends on: new/, cur/ and the control files. When none changed since the last sync, the
/// directories need not be read again (Dovecot skips its Maildir scan the same way). A change less than a
/// second old is not trusted: a second change within the file system's timestamp granularity would leave
/// the mtime as it was.
struct SyncFingerprint: Equatable {
    var new, cur, uidlist, keywords, index: FileStamp?

    init(_ folder: MaildirFolder, indexPath: String) {
        new = FileStamp(folder.new)
        cur = FileStamp(folder.cur)
        uidlist = FileStamp(folder.uidlistPath)
        keywords = FileStamp(folder.keywordsPath)
        index = FileStamp(indexPath)
    }

    var isSettled: Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let newest = [new, cur].compactMap { $0?.seconds }.max() ?? 0
        return newest < now.tv_sec - 1
    }
}

struct LoadState {
    var changed: Bool
    var needsRewrite: Bool
}

extension MaildirMailbox {
    /// Reads new/ then cur/ (a file moving from new/ to cur/ meanwhile is seen in one of them), skipping
    /// dot files and names with CR or LF (Dovecot ignores those too). Repeated up to three times while a
    /// directory's mtime changes under it.
    func scanDirectories() throws(MailboxError) -> DirectoryScan {
        var scan = DirectoryScan()
        for _ in 0..<3 {
            scan = DirectoryScan()
            let before = (FileStamp(folder.new), FileStamp(folder.cur))
            for (directory, path) in [(MaildirDirectory.new, folder.new), (.cur, folder.cur)] {
                guard let names = Posix.directoryEntries(path) else {
                    if errno == ENOENT { continue }
                    throw Posix.failure("opendir", path)
                }
                scan.files.reserveCapacity(scan.files.count + names.count)
                // Bytes, not Characters: this runs for every file of the mailbox at every full sync.
                for name in names where name.utf8.first != UInt8(ascii: ".")
                    && !name.utf8.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") })
                {
                    let base = MaildirFileName.base(of: name)
                    if directory == .new && scan.files[base] != nil { continue }
                    scan.files[base] = ScannedFile(directory: directory, name: name)
                }
            }
            let after = (FileStamp(folder.new), FileStamp(folder.cur))
            scan.isStable = before.0 == after.0 && before.1 == after.1
            if scan.isStable { break }
        }
        return scan
    }

    /// Re-reads dovecot-uidlist when its inode, size or mtime changed.
    func loadUIDListIfChanged() throws(MailboxError) -> LoadState {
        let stamp = FileStamp(folder.uidlistPath)
        if let stamp, stamp == uidlistStamp { return LoadState(changed: false, needsRewrite: false) }
        let loaded = try folder.loadUIDList()
        if let list = loaded.list { adopt(list) }
        uidlistStamp = loaded.list == nil ? nil : stamp
        return LoadState(changed: true, needsRewrite: loaded.needsRewrite)
    }

    /// Takes over header and records of a uidlist read or written just now.
    func adopt(_ list: UIDList) {
        if uidValidity != 0 && list.uidValidity != uidValidity { uidValidityChangedSinceSync = true }
        uidValidity = list.uidValidity
        nextUID = list.nextUID
        guid = list.guid
        var byBase: [String: UIDList.Record] = [:]
        byBase.reserveCapacity(list.records.count)
        for record in list.records { byBase[record.base] = record }
        records = byBase
    }

    /// Under the uidlist lock: gives the next UIDs to files the uidlist does not have, oldest first, with
    /// an `S` field when the name has no `,S=` (Dovecot does the same), stores computed CRLF sizes as `W`,
    /// and drops records of vanished files when more than a quarter of the records are stale.
    func assignUIDs(scan: DirectoryScan, pruneMissing: Bool) throws(MailboxError) {
        let folder = folder
        let pending = pendingVirtualSizes
        let list = try folder.updateUIDList { (list: inout UIDList, rewrite: inout Bool) throws(MailboxError) in
            var files = scan.files
            let known = Set(list.records.map(\.base))
            let stale = list.records.count - list.records.reduce(0) { $0 + (files[$1.base] == nil ? 0 : 1) }
            if pruneMissing && stale > 0 && stale * 4 >= list.records.count {
                // Rescan now that writers that add records are locked out, then drop what is really gone.
                let fresh = try self.scanDirectories()
                if fresh.isStable {
                    files = fresh.files
                    list.records.removeAll { files[$0.base] == nil }
                    rewrite = true
                }
            }
            for index in list.records.indices {
                if let vsize = pending[list.records[index].base], list.records[index].value("W") == nil {
                    list.records[index].set("W", String(vsize))
                    rewrite = true
                }
            }
            let unknown = files.filter { !known.contains($0.key) }
                .map { (key: MaildirFileName.ArrivalKey($0.value.name), base: $0.key, file: $0.value) }
                .sorted { $0.key < $1.key }
            for (_, base, file) in unknown {
                guard list.nextUID < UInt32.max - 1 else { break }
                var record = UIDList.Record(uid: list.nextUID, base: base)
                if MaildirFileName.field("S", in: base) == nil {
                    let dir = file.directory == .cur ? folder.cur : folder.new
                    if let st = Posix.fileStat(dir + "/" + file.name) { record.set("S", String(st.st_size)) }
                }
                list.records.append(record)
                list.nextUID += 1
            }
            return list
        }
        pendingVirtualSizes = [:]
        adopt(list)
        uidlistStamp = FileStamp(folder.uidlistPath)
    }
}
