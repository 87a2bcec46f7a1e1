import Foundation
public import TernDelivery

/// Carries out one mailbox, file or command delivery for a queue file's content: `UserDeliveryExecutor` in the
/// daemon that delivers, or `BrokeredDeliveryExecutor` when the network-facing daemon runs unprivileged and
/// asks the root master to (DESIGN.md §2).
public protocol DeliveryExecutor: Sendable {
    func execute(_ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int) async
        -> DeliveryWorkResult
}

extension DeliveryWorkResult {
    static func deferred(_ text: String) -> DeliveryWorkResult {
        DeliveryWorkResult(outcome: .deferred, dsn: "4.3.0", text: text)
    }
}
