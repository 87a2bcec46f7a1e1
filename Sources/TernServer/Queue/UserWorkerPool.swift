import Glibc
import NIOPosix
import TernDelivery

/// How many persistent delivery workers the master keeps, and for how long.
struct WorkerPoolLimits: Sendable {
    /// Workers for one uid/gid/groups: deliveries to one busy mailbox owner run this many at a time.
    var perUser = 4
    /// Workers in all; a request beyond it waits, or retires another user's idle worker.
    var total = 32
    /// An idle worker is stopped after this long (the worker itself gives up after
    /// `DeliveryWorker.defaultIdleTimeout`, later, so that the master never hands a request to a worker that
    /// is just leaving).
    var idleTimeout: Duration = .seconds(30)
    /// How often idle workers are checked.
    var sweepInterval: Duration = .seconds(5)
}

/// The root master's delivery workers (DESIGN.md §2, "Privilege"): `tern libexec deliver --serve` processes
/// that run as the recipient's uid, gid and groups and are reused across deliveries, so that a delivery costs
/// a request on a socket rather than a process (spawning one per delivery was several times slower than
/// Postfix). A request takes an idle worker of its user, else starts one (up to the limits), else waits.
/// A worker that turns out to be gone is replaced and the request retried once; whatever the workers report
/// as lost after that is a deferral. `run()` retires idle workers and, when cancelled, all of them.
actor UserWorkerPool {
    private enum Lease: Sendable {
        case reuse(WorkerProcess)
        /// Start a worker; first stop `retire`, an idle worker of another user given up to stay in `total`.
        case start(retire: WorkerProcess?)
    }

    private struct IdleWorker {
        let worker: WorkerProcess
        let since: ContinuousClock.Instant
    }

    private let executable: String
    private let arguments: [String]
    private let limits: WorkerPoolLimits
    /// Switch workers to the request's ids (needs root; without it workers run as ourselves, for tests).
    private let switchUser: Bool
    private let log: MailLogSink?

    private var idle: [WorkerProcess.Credentials: [IdleWorker]] = [:]
    /// Workers checked out (running a request or starting), per user.
    private var busy: [WorkerProcess.Credentials: Int] = [:]
    /// Idle and busy workers.
    private var total = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var stopped = false
    /// Workers started so far.
    private(set) var started = 0

    init(
        executable: String, arguments: [String] = ["libexec", "deliver", "--serve"],
        limits: WorkerPoolLimits = WorkerPoolLimits(), switchUser: Bool = geteuid() == 0, log: MailLogSink? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.limits = limits
        self.switchUser = switchUser
        self.log = log
    }

    /// Delivers `request` in a worker running as its user; the message is at `request.contentOffset` in
    /// `content`, which stays open until this returns. The worker moves the file offset of `content`, so
    /// concurrent calls need descriptors of their own open(2) (not dup(2)s of one).
    nonisolated func deliver(_ request: DeliveryWorkRequest, content: Int32) async -> DeliveryWorkResult {
        let credentials = WorkerProcess.Credentials(request)
        let timeLimit = request.kind == .command ? request.commandTimeLimit + 60 : 1000
        let start = (
            executable: executable, arguments: arguments, credentials: switchUser ? credentials : nil,
            environment: CommandEnvironment.build(attributes: [], export: request.exportEnvironment)
        )
        var lost = ""
        for _ in 0..<2 {
            guard let lease = await checkout(credentials) else {
                return .deferred("delivery worker pool is stopped")
            }
            let (worker, outcome) = await DeliveryThreads.run {
                () -> (WorkerProcess?, WorkerProcess.Outcome) in
                let worker: WorkerProcess
                switch lease {
                case .reuse(let idle):
                    worker = idle
                case .start(let retire):
                    retire?.stop()
                    do {
                        worker = try WorkerProcess.start(
                            executable: start.executable, arguments: start.arguments, credentials: start.credentials,
                            environment: start.environment)
                    } catch {
                        return (nil, .failed("\(error)"))
                    }
                }
                return (worker, worker.perform(request, content: content, timeLimit: timeLimit))
            }
            switch outcome {
            case .completed(let result):
                if let worker { await checkin(credentials, worker) }
                return result
            case .lost(let reason):
                await release(credentials)
                log?("warning: delivery worker pid \(worker?.pid ?? 0) for uid \(request.uid): \(reason)")
                lost = reason
            case .failed(let reason):
                await release(credentials)
                log?("warning: delivery worker pid \(worker?.pid ?? 0) for uid \(request.uid): \(reason)")
                return .deferred(reason)
            }
        }
        return .deferred(lost)
    }

    /// Retires workers idle for longer than the limit, and reaps idle ones that died, until cancelled; then
    /// stops every worker.
    func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: limits.sweepInterval)
            } catch {
                break
            }
            await retire(olderThan: limits.idleTimeout)
        }
        stopped = true
        wakeWaiters()
        await retire(olderThan: .zero)
    }

    /// The pids of idle workers of one user, most recently used last (for tests).
    func idleWorkers(for credentials: WorkerProcess.Credentials) -> [pid_t] {
        idle[credentials, default: []].map(\.worker.pid)
    }

    private func retire(olderThan age: Duration) async {
        let now = ContinuousClock.now
        var expired: [WorkerProcess] = []
        var died = 0
        for (credentials, workers) in idle {
            var kept: [IdleWorker] = []
            for entry in workers {
                if entry.since + age <= now {
                    expired.append(entry.worker)
                } else if entry.worker.hasExited() {
                    died += 1
                } else {
                    kept.append(entry)
                }
            }
            idle[credentials] = kept.isEmpty ? nil : kept
        }
        total -= expired.count + died
        if died > 0 { log?("warning: \(died) idle delivery worker(s) exited unexpectedly") }
        guard !expired.isEmpty || died > 0 else { return }
        wakeWaiters()
        guard !expired.isEmpty else { return }
        await DedicatedThread.run(name: "tern-delivery-retire") { [expired] in expired.forEach { $0.stop() } }
    }

    private func checkout(_ credentials: WorkerProcess.Credentials) async -> Lease? {
        while !stopped {
            if var workers = idle[credentials], let last = workers.popLast() {
                idle[credentials] = workers.isEmpty ? nil : workers
                busy[credentials, default: 0] += 1
                return .reuse(last.worker)
            }
            if busy[credentials, default: 0] < limits.perUser {
                var retire: WorkerProcess?
                if total >= limits.total { retire = takeOldestIdle() }
                if total < limits.total {
                    busy[credentials, default: 0] += 1
                    total += 1
                    started += 1
                    return .start(retire: retire)
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
        return nil
    }

    /// Removes the longest-idle worker of any user from the pool, for the caller to stop.
    private func takeOldestIdle() -> WorkerProcess? {
        var oldest: (credentials: WorkerProcess.Credentials, since: ContinuousClock.Instant)?
        for (credentials, workers) in idle {
            if let first = workers.first, oldest.map({ first.since < $0.since }) ?? true {
                oldest = (credentials, first.since)
            }
        }
        guard let credentials = oldest?.credentials, var workers = idle[credentials], !workers.isEmpty else {
            return nil
        }
        let worker = workers.removeFirst().worker
        idle[credentials] = workers.isEmpty ? nil : workers
        total -= 1
        return worker
    }

    private func checkin(_ credentials: WorkerProcess.Credentials, _ worker: WorkerProcess) async {
        guard !stopped else {
            release(credentials)
            await DedicatedThread.run(name: "tern-delivery-retire") { worker.stop() }
            return
        }
        busy[credentials, default: 0] -= 1
        if busy[credentials] == 0 { busy[credentials] = nil }
        idle[credentials, default: []].append(IdleWorker(worker: worker, since: .now))
        wakeWaiters()
    }

    /// A checked-out worker is gone (or was never started).
    private func release(_ credentials: WorkerProcess.Credentials) {
        busy[credentials, default: 0] -= 1
        if busy[credentials] == 0 { busy[credentials] = nil }
        total -= 1
        wakeWaiters()
    }

    /// Every waiter looks again: a worker of its user may be idle now, or there is room for a new one.
    private func wakeWaiters() {
        let woken = waiters
        waiters.removeAll()
        woken.forEach { $0.resume() }
    }
}

/// Threads for blocking delivery work (talking to a worker, a delivery in this process), kept rather than
/// started per delivery: a thread per delivery cost about as much as the delivery of a small message.
enum DeliveryThreads {
    /// Enough for every worker the pool may have checked out at once, plus in-process deliveries.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: WorkerPoolLimits().total + 8)
        pool.start()
        return pool
    }()

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        do {
            return try await pool.runIfActive(body)
        } catch {
            // The pool is never shut down; should it be, fall back to a thread of its own.
            return await DedicatedThread.run(name: "tern-delivery", body)
        }
    }
}
