import CTernSys
public import Glibc
public import TernCore

/// What the startup scan did (see `QueueDirectory.recover`).
public struct RecoveryReport: Sendable, Equatable {
    /// Uncommitted files removed from incoming (a crash or kill before commit).
    public var removed: [QueueID] = []
    /// Committed files moved from active back to incoming, to be scheduled again.
    public var requeued: [QueueID] = []
    /// Committed files left in incoming for the queue manager (with those recovered from spare/).
    public var kept: [QueueID] = []
    /// Files whose records do not parse, moved to corrupt/.
    public var corrupt: [QueueID] = []

    public init() {}
}

extension QueueDirectory {
    /// The startup recovery scan, run by the daemon before it accepts mail or schedules delivery
    /// (docs/queue-format.md, "Recovery"):
    ///
    /// - incoming: a file without its completion mark was never acknowledged with 250, so it is removed
    ///   (only when older than `minimumAge` seconds, so a scan never races a writer); a committed file stays
    ///   for the queue manager to pick up.
    /// - active: every file goes back to incoming, as Postfix's qmgr does at start; recipients already
    ///   marked delivered or bounced are skipped when it is scheduled again, so nothing is lost or repeated.
    /// - either queue: a file whose records do not parse goes to corrupt/.
    /// - spare: a committed file is a message whose move into incoming/ did not reach the disk before a
    ///   crash (smtpd does not fsync incoming/ for a spare, see `SpareQueueFiles`); it goes to incoming/.
    ///   Other spares are left to `SpareQueueFiles`, which removes them.
    public func recover(minimumAge: Int = 0, now: Int = Int(time(nil))) throws(QueueError) -> RecoveryReport {
        var report = RecoveryReport()
        try recoverSpares()
        for id in try list(.incoming) {
            guard let file = existingPath(.incoming, id) else { continue }
            switch Self.check(file) {
            case .ok: report.kept.append(id)
            case .incomplete:
                var st = stat()
                guard stat(file, &st) == 0, now - Int(st.st_mtim.tv_sec) >= minimumAge else { continue }
                if unlink(file) == 0 { report.removed.append(id) }
            case .corrupt:
                try move(id, from: .incoming, to: .corrupt)
                report.corrupt.append(id)
            }
        }
        for id in try list(.active) {
            guard let file = existingPath(.active, id) else { continue }
            switch Self.check(file) {
            case .ok:
                try move(id, from: .active, to: .incoming)
                report.requeued.append(id)
            case .incomplete, .corrupt:
                try move(id, from: .active, to: .corrupt)
                report.corrupt.append(id)
            }
        }
        if !report.removed.isEmpty { try FileSystem.fsyncDirectory("\(path)/\(QueueName.incoming.rawValue)") }
        return report
    }

    /// Moves committed files in spare/ to incoming/ under their own name (a new ID if that is taken), where
    /// the scan of incoming/ finds them.
    private func recoverSpares() throws(QueueError) {
        var moved: [QueueID] = []
        for name in (try? FileSystem.entries(spareDirectory)) ?? [] {
            let spare = "\(spareDirectory)/\(name)"
            guard case .ok = Self.check(spare) else { continue }
            var id = QueueID(name) ?? QueueID.generate()
            while tern_rename_noreplace(spare, filePath(.incoming, id)) != 0 {
                guard errno == EEXIST else { throw FileSystem.failure("rename", spare) }
                id = QueueID.generate()
            }
            moved.append(id)
        }
        if !moved.isEmpty { try FileSystem.fsyncDirectory("\(path)/\(QueueName.incoming.rawValue)") }
    }

    private enum FileCheck { case ok, incomplete, corrupt }

    private static func check(_ file: String) -> FileCheck {
        do {
            _ = try QueueFile.open(path: file, writable: false)
            return .ok
        } catch {
            switch error.kind {
            case .incomplete: return .incomplete
            case .corrupt: return .corrupt
            default: return .ok  // unreadable for another reason (vanished, EACCES): leave it alone
            }
        }
    }
}
