import Foundation
import ServiceLifecycle
import Synchronization
import TernCore
import TernQueue

/// qmgr(8): moves committed mail from incoming/ to active/, has each recipient delivered, keeps the
/// per-recipient status in the queue file (so a restart neither loses nor repeats a delivery), and parks
/// what could not be delivered in deferred/ until its retry time, `postfix flush` or ETRN.
final class QueueManager: Service, Sendable {
    let queue: QueueDirectory
    let log: MailLog
    private let context: @Sendable () -> DeliveryContext
    /// A scan request, or a file that was just committed (delivered at once, without a directory scan).
    private enum Work: Sendable {
        case scan(QueueTrigger)
        case queued(QueueID)
        case finished
    }

    private let work: AsyncStream<Work>
    private let continuation: AsyncStream<Work>.Continuation
    private let inFlight = Mutex<Set<QueueID>>([])
    /// Messages delivered at once (qmgr_message_active_limit is far larger; this bounds worker processes).
    let concurrency: Int

    /// Messages that were being delivered when the daemon last died: their deliveries check for a copy
    /// already in the mailbox before writing again.
    private let recovered: Mutex<Set<QueueID>>

    init(
        queue: QueueDirectory, log: MailLog, concurrency: Int = 20, recovered: Set<QueueID> = [],
        context: @escaping @Sendable () -> DeliveryContext
    ) {
        self.recovered = Mutex(recovered)
        self.queue = queue
        self.log = log
        self.concurrency = concurrency
        self.context = context
        (work, continuation) = AsyncStream.makeStream(of: Work.self)
    }

    /// Asks for a queue scan: `.wakeup` for new mail, `.flush` to retry deferred mail now, `.flushSite` to
    /// retry that of one destination now.
    func trigger(_ trigger: QueueTrigger) {
        continuation.yield(.scan(trigger))
    }

    /// A queue file was just committed in incoming/: deliver it now.
    func queued(_ id: QueueID) {
        continuation.yield(.queued(id))
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { [self] in
                    // A periodic scan finds mail whose wakeup was lost and deferred mail that is due.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        trigger(.scanIncoming)
                    }
                }
                var lastDeferredScan = Date.distantPast
                var flushing = false
                var lastScan = Date.distantPast
                trigger(.wakeup)
                // Committed files that arrived while `concurrency` deliveries ran; started as those finish.
                var backlog: [QueueID] = []
                for await item in work {
                    let context = context()
                    switch item {
                    case .queued(let id):
                        backlog.append(id)
                    case .finished, .scan:
                        break
                    }
                    while !backlog.isEmpty, inFlight.withLock({ $0.count }) < concurrency {
                        let id = backlog.removeFirst()
                        if claim(id) { start(id, from: .incoming, context: context, flushing: false, in: &group) }
                    }
                    guard case .scan(let trigger) = item else { continue }
                    // A flush makes deferred mail due now; the scans that follow work through it (a message
                    // that fails again gets a new retry time and waits for it).
                    let flushRequested: Bool
                    switch trigger {
                    case .flush:
                        makeDeferredDue()
                        flushRequested = true
                    case .flushSite(let site):
                        makeDeferredDue(site: site)
                        flushRequested = true
                    case .flushMessage(let id):
                        if queue.existingPath(.deferred, id) != nil {
                            try? queue.setNextAttempt(id, epochSeconds: Int(time(nil)))
                        }
                        flushRequested = true
                    case .wakeup, .scanIncoming:
                        flushRequested = false
                    }
                    if flushRequested { flushing = true }
                    // Periodic ticks and the wakeups after each delivery coalesce into one scan a second.
                    if trigger == .scanIncoming && !flushing && Date().timeIntervalSince(lastScan) < 1 { continue }
                    lastScan = Date()
                    await Pickup(
                        queue: queue, log: log, rewriter: context.settings.addressRewriter,
                        checks: context.settings.contentChecks,
                        headerSizeLimit: context.settings.cleanup.headerSizeLimit
                    ).run()
                    var batch = ready(in: .incoming)
                    if flushing || Date().timeIntervalSince(lastDeferredScan) >= Double(context.settings.queueRunDelay) {
                        let room = concurrency - inFlight.withLock { $0.count } - batch.count
                        let due = ready(in: .deferred, limit: room)
                        if due.count < room { flushing = false }
                        batch += due
                        lastDeferredScan = Date()
                    }
                    let flushed = flushing || flushRequested
                    for (id, from) in batch where claim(id) {
                        start(id, from: from, context: context, flushing: flushed && from == .deferred, in: &group)
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    private func start(
        _ id: QueueID, from: QueueName, context: DeliveryContext, flushing: Bool, in group: inout DiscardingTaskGroup
    ) {
        group.addTask { [self] in
            let interrupted = recovered.withLock { $0.remove(id) != nil }
            await MessageDelivery(
                queue: queue, log: log, context: context, interrupted: interrupted, manager: self, flushing: flushing
            ).deliver(id, from: from)
            release(id)
        }
    }

    /// Queue files in `name` that are committed and due, at most `limit` (default: what fits in the
    /// concurrency limit).
    private func ready(in name: QueueName, limit: Int? = nil) -> [(QueueID, QueueName)] {
        let busy = inFlight.withLock { $0 }
        let room = limit ?? (concurrency - busy.count)
        guard room > 0, let ids = try? queue.list(name) else { return [] }
        let now = Int(time(nil))
        var result: [(QueueID, QueueName)] = []
        for id in ids where !busy.contains(id) {
            if name == .deferred, let next = queue.nextAttempt(id), next > now { continue }
            if name == .incoming, let path = queue.existingPath(.incoming, id),
                (try? QueueFile.open(path: path, writable: false)) == nil
            {
                continue  // still being written (no completion mark yet)
            }
            result.append((id, name))
            if result.count >= room { break }
        }
        return result
    }

    /// `postfix flush`: every deferred message's retry time becomes now; with `site` (ETRN, `postqueue -s`)
    /// only that of messages with a pending recipient in that domain.
    private func makeDeferredDue(site: String? = nil) {
        guard let ids = try? queue.list(.deferred) else { return }
        let now = Int(time(nil))
        for id in ids {
            if let site {
                guard let path = queue.existingPath(.deferred, id),
                    let file = try? QueueFile.open(path: path, writable: false),
                    file.pendingRecipients.contains(where: { file.envelope.recipients[$0].address.domain?.lowercased() == site })
                else { continue }
            }
            try? queue.setNextAttempt(id, epochSeconds: now)
        }
    }

    private func claim(_ id: QueueID) -> Bool {
        inFlight.withLock { $0.insert(id).inserted }
    }

    private func release(_ id: QueueID) {
        inFlight.withLock { _ = $0.remove(id) }
        continuation.yield(.finished)
    }
}
