import Glibc

extension DeliveryWorker {
    /// How long a worker waits for its next request before exiting. The master retires idle workers sooner
    /// (`WorkerPoolLimits.idleTimeout`); this only ends workers whose master stopped asking.
    public static let defaultIdleTimeout = 60

    /// The `tern libexec deliver --serve` entry point: a worker that already runs as the recipient's uid
    /// answers requests on its stdin (a socket, see `WorkerWire`) until EOF or `idleTimeout` seconds without
    /// a request, then exits with status 0.
    public static func runServerMain(idleTimeout: Int = defaultIdleTimeout) -> Never {
        serve(socket: 0, idleTimeout: idleTimeout, changeDirectory: true)
        exit(0)
    }

    /// The worker loop: one request line with the message's descriptor in, one result line out. A line that
    /// is not a request, or comes without a descriptor, is answered with a deferral; a line longer than
    /// `WorkerWire.maximumRequestLength` ends the loop, since the stream cannot be resynchronised.
    /// `changeDirectory`: run each delivery in the user's home directory (or `/`), as a freshly spawned
    /// worker used to; a test calling this in-process leaves its working directory alone.
    static func serve(socket: Int32, idleTimeout: Int, changeDirectory: Bool = false) {
        var reader = WireReader(socket: socket, maximumLineLength: WorkerWire.maximumRequestLength)
        defer { reader.closeDescriptors() }
        while true {
            switch reader.next(until: Deadline(secondsFromNow: idleTimeout)) {
            case .line(let line, let descriptor):
                let result = handle(line, descriptor: descriptor, changeDirectory: changeDirectory)
                if let descriptor { close(descriptor) }
                guard WorkerWire.send(WorkerWire.encode(result), over: socket) == 0 else { return }
            case .tooLong:
                let failure = DeliveryFailure(dsn: "4.3.0", text: "delivery request line too long")
                _ = WorkerWire.send(WorkerWire.encode(.failed(failure)), over: socket)
                return
            case .end, .timedOut, .failed:
                return
            }
        }
    }

    /// Performs one request against the descriptor that came with it.
    static func handle(_ line: [UInt8], descriptor: Int32?, changeDirectory: Bool) -> DeliveryWorkResult {
        let request: DeliveryWorkRequest
        switch WorkerWire.decodeRequest(line) {
        case .success(let decoded): request = decoded
        case .failure(let failure): return .failed(failure)
        }
        guard let descriptor else {
            return .failed(DeliveryFailure(dsn: "4.3.0", text: "delivery request without message descriptor"))
        }
        // The master picks the worker by uid; a mismatch is a bug there, and must not write as the wrong user.
        guard geteuid() == 0 || geteuid() == uid_t(request.uid) else {
            let text = "delivery worker for uid \(geteuid()) asked to deliver as uid \(request.uid)"
            return .failed(DeliveryFailure(dsn: "4.3.0", text: text))
        }
        if let offset = request.contentOffset, lseek(descriptor, off_t(offset), SEEK_SET) != off_t(offset) {
            return .failed(SystemError.readFailure(errno))
        }
        if changeDirectory && (request.home.isEmpty || chdir(request.home) != 0) {
            _ = chdir("/")
        }
        return perform(request, contentFD: descriptor)
    }
}
