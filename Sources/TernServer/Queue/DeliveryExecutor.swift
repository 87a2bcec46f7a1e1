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
        let fd = open(queueFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return .deferred("open queue file \(queueFile): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
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
