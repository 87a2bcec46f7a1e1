import Foundation
public import TernDelivery

/// Carries out one mailbox, file or command delivery for a queue file's content. The in-process executor
/// spawns a `tern libexec deliver` worker with the target user's uid (DESIGN.md §2); when the network-facing
/// daemon runs unprivileged it asks the root master to do that (`BrokeredDeliveryExecutor`).
public protocol DeliveryExecutor: Sendable {
    func execute(_ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int) async
        -> DeliveryWorkResult
}

/// Spawns the worker directly: as root for any user, otherwise only for our own uid.
public struct WorkerDeliveryExecutor: DeliveryExecutor {
    let executable: String

    public init(executable: String) {
        self.executable = executable
    }

    public func execute(_ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int)
        async -> DeliveryWorkResult
    {
        await execute(request, queueFile: queueFile, contentOffset: contentOffset, contentLength: contentLength,
            requiredOwner: nil)
    }

    /// `requiredOwner`: the queue file must be a regular file of that owner (the master checks the
    /// unprivileged daemon's requests so it cannot make root read other files into a mailbox).
    func execute(
        _ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int,
        requiredOwner: UInt32?
    ) async -> DeliveryWorkResult {
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
        guard lseek(fd, off_t(contentOffset), SEEK_SET) == off_t(contentOffset) else {
            return .deferred("seek queue file \(queueFile): \(String(cString: strerror(errno)))")
        }
        do {
            return try await DeliveryWorker.spawn(
                request, content: fd, length: contentLength, executable: executable, arguments: ["libexec", "deliver"])
        } catch {
            return .deferred("delivery worker failed: \(error)")
        }
    }
}

extension DeliveryWorkResult {
    static func deferred(_ text: String) -> DeliveryWorkResult {
        DeliveryWorkResult(outcome: .deferred, dsn: "4.3.0", text: text)
    }
}
