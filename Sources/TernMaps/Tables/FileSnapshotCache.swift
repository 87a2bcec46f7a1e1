import Glibc
import Synchronization
import TernCore

/// What identifies one version of a file: a rebuild by postmap renames a new inode into place, an editor
/// may rewrite in place (new mtime or size).
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int

    static func of(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedSeconds: info.st_mtim.tv_sec, modifiedNanoseconds: info.st_mtim.tv_nsec)
    }
}

/// Holds the parsed form of a table file and re-reads it when the file changes, checking at most once per
/// `recheckInterval` so that a running server sees a table rebuilt by postmap without a restart.
final class FileSnapshotCache<Snapshot>: Sendable {
    private struct State {
        var snapshot: Snapshot
        var identity: FileIdentity?
        var lastCheck: ContinuousClock.Instant
    }

    let path: String
    private let recheckInterval: Duration
    private let load: @Sendable (String) throws(LookupError) -> Snapshot
    private let state: Mutex<State>

    /// Loads the file now, so that a missing or broken file is reported when the table is opened.
    init(
        path: String, recheckInterval: Duration, load: @escaping @Sendable (String) throws(LookupError) -> Snapshot
    ) throws(LookupError) {
        self.path = path
        self.recheckInterval = recheckInterval
        self.load = load
        let identity = FileIdentity.of(path)
        let snapshot = try load(path)
        state = Mutex(State(snapshot: snapshot, identity: identity, lastCheck: .now))
    }

    /// Runs `body` on the current snapshot, reloading it first when the file has changed.
    func withSnapshot<Result: Sendable>(_ body: (Snapshot) throws(LookupError) -> Result) throws(LookupError) -> Result {
        try state.withLock { (state: inout State) throws(LookupError) -> Result in
            let now = ContinuousClock.now
            if now - state.lastCheck >= recheckInterval {
                state.lastCheck = now
                let identity = FileIdentity.of(path)
                if identity != state.identity {
                    state.snapshot = try load(path)
                    state.identity = identity
                }
            }
            return try body(state.snapshot)
        }
    }
}
