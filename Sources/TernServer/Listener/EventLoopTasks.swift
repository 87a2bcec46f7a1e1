import NIOCore

/// Runs a task's jobs on one event loop (SE-0417 task executor preference). A session's restriction
/// checks and table lookups then run on the thread that serves its connection: most finish without ever
/// suspending, and the reply goes out without two thread wake-ups per command. Work that blocks (DNS,
/// policy servers, fsync) still goes to `BlockingIO.pool` and resumes here.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

extension EventLoop {
    /// `makeFutureWithTask`, with the task's jobs run on this event loop rather than the global pool.
    func makeFutureWithLoopTask<Value: Sendable>(_ body: @escaping @Sendable () async -> Value) -> EventLoopFuture<Value> {
        let promise = makePromise(of: Value.self)
        Task(executorPreference: EventLoopTaskExecutor(self)) { promise.succeed(await body()) }
        return promise.futureResult
    }
}
