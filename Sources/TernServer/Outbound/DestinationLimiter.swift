import Synchronization

/// qmgr(8)'s per-destination concurrency: at most `limit` deliveries to one next hop at a time
/// (`transport_destination_concurrency_limit`, default_destination_concurrency_limit); the rest wait.
final class DestinationLimiter: Sendable {
    static let shared = DestinationLimiter()

    private struct Destination {
        var active = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        /// When a delivery last finished while others were active or waiting (monotonic seconds). Forgotten
        /// with the destination when it goes idle, as qmgr(8) frees an empty queue.
        var lastDone: Double?
    }
    private let destinations = Mutex<[String: Destination]>([:])

    /// qmgr(8)'s test for on-demand connection caching: deliveries to the destination run concurrently or
    /// wait, or one finished within the last second while this one was queued (back-to-back deliveries).
    func hasBacklog(_ key: String, now: Double = SMTPConnectionPool.now) -> Bool {
        destinations.withLock { destinations in
            guard let destination = destinations[key] else { return false }
            if destination.active > 1 || !destination.waiting.isEmpty { return true }
            return destination.lastDone.map { now - $0 <= 1 } ?? false
        }
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
        let next = destinations.withLock { destinations -> CheckedContinuation<Void, Never>? in
            guard var destination = destinations[key] else { return nil }
            destination.lastDone = now
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
