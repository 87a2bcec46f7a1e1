import Synchronization

/// qmgr(8)'s per-destination concurrency: at most `limit` deliveries to one next hop at a time
/// (`transport_destination_concurrency_limit`, default_destination_concurrency_limit); the rest wait.
final class DestinationLimiter: Sendable {
    static let shared = DestinationLimiter()

    private struct Destination {
        var active = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let destinations = Mutex<[String: Destination]>([:])
    /// When a delivery to each destination last finished (monotonic seconds), for back-to-back deliveries.
    private let lastDone = Mutex<[String: Double]>([:])

    /// qmgr(8)'s test for on-demand connection caching: deliveries to the destination run concurrently or
    /// wait, or one finished within the last second (back-to-back deliveries).
    func hasBacklog(_ key: String, now: Double = SMTPConnectionPool.now) -> Bool {
        let busy = destinations.withLock { destinations in
            destinations[key].map { $0.active > 1 || !$0.waiting.isEmpty } ?? false
        }
        return busy || lastDone.withLock { $0[key].map { now - $0 <= 1 } ?? false }
    }

    func acquire(_ key: String, limit: Int) async {
        await withCheckedContinuation { continuation in
            let admitted = destinations.withLock { destinations in
                var destination = destinations[key, default: Destination()]
                defer { destinations[key] = destination }
                if destination.active < max(1, limit) {
                    destination.active += 1
                    return true
                }
                destination.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    func release(_ key: String) {
        let now = SMTPConnectionPool.now
        lastDone.withLock { lastDone in
            lastDone[key] = now
            // Forget destinations idle for a while, so the table stays as small as the active set.
            if lastDone.count > 1000 { lastDone = lastDone.filter { now - $0.value <= 1 } }
        }
        let next = destinations.withLock { destinations -> CheckedContinuation<Void, Never>? in
            guard var destination = destinations[key] else { return nil }
            if destination.waiting.isEmpty {
                destination.active -= 1
                destinations[key] = destination.active > 0 ? destination : nil
                return nil
            }
            let next = destination.waiting.removeFirst()
            destinations[key] = destination
            return next
        }
        next?.resume()
    }
}
