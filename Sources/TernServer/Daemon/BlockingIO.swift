import NIOPosix

/// Threads for blocking file and name-service work: queue-file and directory fsyncs, DNS and passwd
/// lookups. NIO's shared pool has one thread per core; with it a queue-file commit (the 250 after DATA)
/// waited behind the queue manager's fsyncs. fsync is I/O, not CPU: more threads let the file system
/// batch the journal commits.
enum BlockingIO {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()
}
