public import Glibc
public import TernCore

/// The queue under `queue_directory` (Postfix QSHAPE_README): message queues, per-message log queues
/// and service directories. `deferred` and `defer` are hashed one level by the first queue-ID character
/// (hash_queue_names = deferred, defer; hash_queue_depth = 1).
///
/// Every state change is one `rename(2)` or `unlink(2)` followed by fsync of the directories involved,
/// so it is atomic with respect to the daemon: postsuper needs no lock (docs/queue-format.md, "Concurrency").
public struct QueueDirectory: Sendable {
    public let path: String
    public let hashedQueues: Set<QueueName>

    public init(path: String, hashedQueues: Set<QueueName> = QueueName.defaultHashed) {
        self.path = path
        self.hashedQueues = hashedQueues
    }

    /// Creates the directory tree with Postfix's modes; `owner` (mail_owner) and `setgidGroup`
    /// (postdrop, for maildrop and public) are applied when given.
    public func createLayout(owner: uid_t? = nil, ownerGroup: gid_t? = nil, setgidGroup: gid_t? = nil)
        throws(QueueError)
    {
        try FileSystem.makeDirectory(path, mode: 0o755)
        for queue in QueueName.allCases {
            let dir = "\(path)/\(queue.rawValue)"
            try FileSystem.makeDirectory(dir, mode: queue.mode)
            if let owner, queue != .pid {
                let group = (queue == .maildrop || queue == .public) ? (setgidGroup ?? ownerGroup) : ownerGroup
                guard chown(dir, owner, group ?? gid_t.max) == 0 else { throw FileSystem.failure("chown", dir) }
            }
        }
        try FileSystem.makeDirectory(spareDirectory, mode: 0o700)
        if let owner, chown(spareDirectory, owner, ownerGroup ?? gid_t.max) != 0 {
            throw FileSystem.failure("chown", spareDirectory)
        }
    }

    /// Tern's own directory of empty files made ahead of time (SpareQueueFiles); not a Postfix queue.
    public var spareDirectory: String { "\(path)/spare" }

    /// The directory a file for `id` lives in within `queue` (with its hash subdirectory when hashed).
    public func directoryPath(_ queue: QueueName, _ id: QueueID) -> String {
        hashedQueues.contains(queue) ? "\(path)/\(queue.rawValue)/\(id.hashDirectory)" : "\(path)/\(queue.rawValue)"
    }

    public func filePath(_ queue: QueueName, _ id: QueueID) -> String {
        "\(directoryPath(queue, id))/\(id.value)"
    }

    /// `queue/[hash/]ID` relative to the queue directory, as postcat prints it.
    public func relativePath(_ queue: QueueName, _ id: QueueID) -> String {
        hashedQueues.contains(queue) ? "\(queue.rawValue)/\(id.hashDirectory)/\(id.value)" : "\(queue.rawValue)/\(id.value)"
    }

    /// Creates a new empty file with a fresh queue ID (O_EXCL; a collision just draws another ID).
    func createUniqueFile(in queue: QueueName, mode: UInt32 = 0o600) throws(QueueError) -> (QueueID, String, Int32) {
        for _ in 0..<100 {
            let id = QueueID.generate()
            let dir = directoryPath(queue, id)
            if hashedQueues.contains(queue) { try FileSystem.makeDirectory(dir, mode: 0o700) }
            let file = "\(dir)/\(id.value)"
            do {
                let fd = try FileSystem.open(file, O_RDWR | O_CREAT | O_EXCL, mode_t(mode))
                if mode != 0o600 { fchmod(fd, mode_t(mode)) }
                return (id, file, fd)
            } catch where error.errno == EEXIST {
                continue
            }
        }
        throw QueueError(.system(errno: EEXIST), path: directoryPath(queue, QueueID.generate()),
                         message: "cannot create a unique queue file")
    }

    /// Moves a message between queues: rename, then (when `durable`) fsync of the target and source
    /// directories. The queue manager's own moves (incoming → active → deferred) need no fsync: after a crash
    /// the file is in one queue or the other, recovery puts active files back into incoming, and delivered
    /// recipients are marked in the file itself (docs/queue-format.md).
    /// Throws ENOENT when the file is not (or no longer) in `from`.
    public func move(_ id: QueueID, from: QueueName, to: QueueName, durable: Bool = true) throws(QueueError) {
        let source = filePath(from, id)
        let targetDir = directoryPath(to, id)
        if hashedQueues.contains(to) {
            try FileSystem.makeDirectory(targetDir, mode: 0o700)
            // postsuper run by root (-H, -r to deferred) must not leave a hash directory the daemon cannot read.
            FileSystem.inheritOwner(targetDir, from: "\(path)/\(to.rawValue)")
        }
        let target = "\(targetDir)/\(id.value)"
        guard rename(source, target) == 0 else { throw FileSystem.failure("rename \(target)", source) }
        guard durable else { return }
        try FileSystem.fsyncDirectory(targetDir)
        let sourceDir = directoryPath(from, id)
        if sourceDir != targetDir { try FileSystem.fsyncDirectory(sourceDir) }
    }

    /// The queue IDs of files in `queue`, in name order (hash subdirectories walked whatever the current
    /// hashing, as postsuper does, so a change of hash_queue_names loses nothing).
    public func list(_ queue: QueueName) throws(QueueError) -> [QueueID] {
        let top = "\(path)/\(queue.rawValue)"
        var ids: [QueueID] = []
        for name in try FileSystem.entries(top) {
            let full = "\(top)/\(name)"
            if name.count == 1, FileSystem.isDirectory(full) {
                ids += try FileSystem.entries(full).compactMap { QueueID($0) }
            } else if let id = QueueID(name) {
                ids.append(id)
            }
        }
        return ids
    }

    /// The path of `id` in `queue` if it exists there, hashed or flat.
    public func existingPath(_ queue: QueueName, _ id: QueueID) -> String? {
        let expected = filePath(queue, id)
        if FileSystem.exists(expected) { return expected }
        let other = hashedQueues.contains(queue)
            ? "\(path)/\(queue.rawValue)/\(id.value)" : "\(path)/\(queue.rawValue)/\(id.hashDirectory)/\(id.value)"
        return FileSystem.exists(other) ? other : nil
    }

    /// Which message queue holds `id` (searched in postcat's order).
    public func locate(_ id: QueueID, in queues: [QueueName] = QueueName.searchOrder) -> QueueName? {
        queues.first { existingPath($0, id) != nil }
    }

    /// Deletes a message and its defer/bounce/trace logs (logs first, as postsuper does, so an ID that is
    /// reused right away never inherits stale logs). Returns false when the message was not found.
    /// `durable: false` skips the directory fsync (the caller knows a resurrected file does no harm).
    @discardableResult
    public func delete(
        _ id: QueueID, in queues: [QueueName] = QueueName.searchOrder, durable: Bool = true
    ) throws(QueueError) -> Bool {
        guard let queue = locate(id, in: queues), let file = existingPath(queue, id) else { return false }
        for log in [QueueName.defer, .bounce, .trace] {
            if let logPath = existingPath(log, id) { unlink(logPath) }
        }
        guard unlink(file) == 0 else {
            if Glibc.errno == ENOENT { return false }
            throw FileSystem.failure("remove", file)
        }
        if durable { try FileSystem.fsyncDirectory(String(file[..<file.lastIndex(of: "/")!])) }
        return true
    }

    /// postsuper -h: incoming/active/deferred → hold. Returns false when not found there.
    @discardableResult
    public func hold(_ id: QueueID, from queues: [QueueName] = [.incoming, .active, .deferred]) throws(QueueError)
        -> Bool
    {
        try moveFirst(id, from: queues.filter { $0 != .maildrop && $0 != .hold && $0.holdsMessages }, to: .hold)
    }

    /// postsuper -H: hold → deferred (the queue manager then retries it like any deferred message).
    @discardableResult
    public func release(_ id: QueueID) throws(QueueError) -> Bool {
        try moveFirst(id, from: [.hold], to: .deferred)
    }

    /// postsuper -r: any message queue except maildrop → maildrop with the time stamps reset, so pickup
    /// runs it through cleanup again (new queue ID, rewriting applied anew). Defer logs are kept.
    @discardableResult
    public func requeue(_ id: QueueID, from queues: [QueueName] = QueueName.searchOrder) throws(QueueError) -> Bool {
        guard try moveFirst(id, from: queues.filter { $0 != .maildrop && $0.holdsMessages }, to: .maildrop) else {
            return false
        }
        utime(filePath(.maildrop, id), nil)
        return true
    }

    private func moveFirst(_ id: QueueID, from queues: [QueueName], to target: QueueName) throws(QueueError) -> Bool {
        for queue in queues where existingPath(queue, id) != nil {
            do {
                if existingPath(queue, id) != filePath(queue, id) {
                    // Sitting at another hash depth: rename from where it actually is.
                    guard let actual = existingPath(queue, id), rename(actual, filePath(queue, id)) == 0 else {
                        continue
                    }
                }
                try move(id, from: queue, to: target)
                return true
            } catch where error.errno == ENOENT {
                continue  // lost a race with the daemon; look elsewhere
            }
        }
        return false
    }

    /// The time of the next delivery attempt of a deferred message: like Postfix, the file's mtime.
    public func nextAttempt(_ id: QueueID, in queue: QueueName = .deferred) -> Int? {
        var st = stat()
        guard let file = existingPath(queue, id), stat(file, &st) == 0 else { return nil }
        return Int(st.st_mtim.tv_sec)
    }

    /// Sets the time of the next delivery attempt (mtime; atime is set to the same value).
    public func setNextAttempt(_ id: QueueID, in queue: QueueName = .deferred, epochSeconds: Int) throws(QueueError) {
        let file = filePath(queue, id)
        var times = utimbuf(actime: time_t(epochSeconds), modtime: time_t(epochSeconds))
        guard utime(file, &times) == 0 else { throw FileSystem.failure("utime", file) }
    }
}
