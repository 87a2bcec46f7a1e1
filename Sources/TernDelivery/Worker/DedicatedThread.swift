import Foundation

/// Runs blocking work (a delivery, waiting for a worker's answer, waitpid) on a thread of its own, so that it
/// never holds one of the Swift concurrency pool's few threads.
public enum DedicatedThread {
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = name
            thread.start()
        }
    }
}
