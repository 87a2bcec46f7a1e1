import CTernSys
import Foundation
import NIOPosix
public import TernDelivery

/// Writes mailboxes and files in this process, on a thread that takes the recipient's filesystem identity
/// for the duration (`tern_thread_become`), as Postfix's local(8) does with seteuid() — no process per
/// delivery. Commands (mailbox_command, `|command`) still run in a worker process with the user's uids.
/// Without root, only deliveries for our own uid are possible.
public final class InProcessDeliveryExecutor: DeliveryExecutor {
    private let workers: WorkerDeliveryExecutor
    private let pool: NIOThreadPool
    private let asRoot: Bool

    public init(executable: String, threads: Int = 4) {
        workers = WorkerDeliveryExecutor(executable: executable)
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        asRoot = geteuid() == 0
    }

    public func execute(_ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int)
        async -> DeliveryWorkResult
    {
        await execute(
            request, queueFile: queueFile, contentOffset: contentOffset, contentLength: contentLength,
            requiredOwner: nil)
    }

    func execute(
        _ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int,
        requiredOwner: UInt32?
    ) async -> DeliveryWorkResult {
        if request.kind == .command || (!asRoot && request.uid != getuid()) {
            return await workers.execute(
                request, queueFile: queueFile, contentOffset: contentOffset, contentLength: contentLength,
                requiredOwner: requiredOwner)
        }
        let asRoot = self.asRoot
        do {
            return try await pool.runIfActive {
                let fd = open(queueFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
                guard fd >= 0 else {
                    return .deferred("open queue file \(queueFile): \(String(cString: strerror(errno)))")
                }
                defer { close(fd) }
                var info = stat()
                guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                    requiredOwner.map({ info.st_uid == $0 }) ?? true,
                    lseek(fd, off_t(contentOffset), SEEK_SET) == off_t(contentOffset)
                else {
                    return .deferred("queue file \(queueFile) is not a regular file of the mail owner")
                }
                guard asRoot else { return DeliveryWorker.perform(request, contentFD: fd, contentLength: contentLength) }
                let groups = request.groups.isEmpty ? [request.gid] : request.groups
                let switched = groups.withUnsafeBufferPointer {
                    tern_thread_become(request.uid, request.gid, $0.baseAddress, Int32($0.count))
                }
                defer {
                    // A thread that cannot return to root must not run another user's delivery.
                    if tern_thread_restore_root() != 0 { fatalError("cannot restore the delivery thread's identity") }
                }
                guard switched == 0 else { return .deferred("cannot switch to uid \(request.uid)") }
                return DeliveryWorker.perform(request, contentFD: fd, contentLength: contentLength)
            }
        } catch {
            return .deferred("delivery thread pool stopped: \(error)")
        }
    }
}
