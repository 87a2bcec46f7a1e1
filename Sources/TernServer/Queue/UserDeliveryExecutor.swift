import Foundation
import CoreFoundation
import CDispatch  // this module sees `struct stat` through CDispatch (MemberImportVisibility)
import TernDelivery

/// Delivers to mailboxes, files and commands as the recipient. As root (the privileged master) every delivery
/// goes to a persistent worker process running as the recipient's uid (`UserWorkerPool`); without root (the
/// demo, tests as a normal user) deliveries for our own uid run in this process, on a thread of their own, and
/// those for anyone else are deferred.
final class UserDeliveryExecutor: DeliveryExecutor {
    private let pool: UserWorkerPool?

    init(executable: String, limits: WorkerPoolLimits = WorkerPoolLimits(), log: MailLogSink? = nil) {
        pool = geteuid() == 0 ? UserWorkerPool(executable: executable, limits: limits, log: log) : nil
    }

    /// Looks after the workers until cancelled (see `UserWorkerPool.run`).
    func run() async {
        await pool?.run()
    }

    func execute(_ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int)
        async -> DeliveryWorkResult
    {
        await execute(
            request, queueFile: queueFile, contentOffset: contentOffset, contentLength: contentLength,
            requiredOwner: nil)
    }

    /// `requiredOwner`: the queue file must be a regular file of that owner (the master checks the
    /// unprivileged daemon's requests so that it cannot make a worker read other files into a mailbox).
    func execute(
        _ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int,
        requiredOwner: UInt32?
    ) async -> DeliveryWorkResult {
        guard pool != nil || request.uid == geteuid() else {
            return .deferred("cannot deliver as uid \(request.uid): mail system is not running as root")
        }
        let fd = open(queueFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            return .deferred("open queue file \(queueFile): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
            requiredOwner.map({ info.st_uid == $0 }) ?? true
        else {
            return .deferred("queue file \(queueFile) is not a regular file of the mail owner")
        }
        var positioned = request
        positioned.contentOffset = contentOffset
        positioned.contentLength = contentLength
        if let pool {
            return await pool.deliver(positioned, content: fd)
        }
        return await DeliveryThreads.run { [positioned] in
            guard lseek(fd, off_t(contentOffset), SEEK_SET) == off_t(contentOffset) else {
                return .deferred("seek queue file \(queueFile): \(String(cString: strerror(errno)))")
            }
            return DeliveryWorker.perform(positioned, contentFD: fd)
        }
    }
}
