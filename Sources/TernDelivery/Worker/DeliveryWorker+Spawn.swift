import Foundation
import Glibc

/// A worker that could not be started at all (no pipes, fork failed).
public struct DeliveryWorkerError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public var description: String { "delivery worker: \(operation): \(SystemError.text(code))" }
}

extension DeliveryWorker {
    /// Runs the request in a new worker process (`executable arguments...`, e.g. `/proc/self/exe libexec
    /// deliver`) as the recipient: when this process is root the child switches to the request's uid, gid
    /// and groups before exec; otherwise it can only deliver for the current uid and reports a temporary
    /// failure for anyone else. The request line and then `length` bytes read from `content` (positioned at
    /// the message start) are streamed into the child's stdin; its stdout carries the result line.
    ///
    /// All blocking I/O happens on a dedicated thread, never on the caller's executor. A worker that
    /// overruns `timeLimit` seconds (default: `command_time_limit` + 60 for commands, 1000 otherwise) is
    /// killed with its process group and the recipient is deferred.
    public static func spawn(
        _ request: DeliveryWorkRequest, content: Int32, length: Int, executable: String, arguments: [String],
        timeLimit: Int? = nil
    ) async throws -> DeliveryWorkResult {
        let limit = timeLimit ?? (request.kind == .command ? request.commandTimeLimit + 60 : 1000)
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    let result = try spawnBlocking(
                        request, content: content, length: length, executable: executable,
                        arguments: arguments, timeLimit: limit)
                    continuation.resume(returning: result)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "tern-delivery-worker"
            thread.start()
        }
    }

    /// The blocking body of `spawn`.
    static func spawnBlocking(
        _ request: DeliveryWorkRequest, content: Int32, length: Int, executable: String, arguments: [String],
        timeLimit: Int
    ) throws -> DeliveryWorkResult {
        var credentials: SpawnCredentials?
        if geteuid() == 0 {
            credentials = SpawnCredentials(uid: request.uid, gid: request.gid, groups: request.groups)
        } else if geteuid() != uid_t(request.uid) {
            return .failed(
                DeliveryFailure(
                    dsn: "4.3.0",
                    text: "cannot deliver as uid \(request.uid): mail system is not running as root"))
        }
        var wireRequest = request
        wireRequest.contentLength = length
        let requestLine = try WorkerWire.encode(wireRequest)

        var pipes: [(read: Int32, write: Int32)] = []
        for _ in 0..<3 {
            guard let pipe = PipeIO.makePipe() else {
                let code = errno
                pipes.forEach {
                    close($0.read)
                    close($0.write)
                }
                throw DeliveryWorkerError(operation: "pipe", code: code)
            }
            pipes.append(pipe)
        }
        let (stdin, stdout, stderr) = (pipes[0], pipes[1], pipes[2])
        let environment = CommandEnvironment.build(attributes: [], export: request.exportEnvironment)
        let child = ChildProcess.spawn(
            path: executable, argv: [executable] + arguments, environment: environment, stdin: stdin.read,
            stdout: stdout.write, stderr: stderr.write, credentials: credentials,
            workingDirectory: request.home.isEmpty ? "/" : request.home)
        let spawnError = errno
        // The child has its own copies; keeping ours open would hide its EOF.
        close(stdin.read)
        close(stdout.write)
        close(stderr.write)
        guard let child else {
            close(stdin.write)
            close(stdout.read)
            close(stderr.read)
            throw DeliveryWorkerError(operation: "fork", code: spawnError)
        }

        var pump = ProcessPump(
            input: stdin.write, outputs: [(stdout.read, 64 * 1024), (stderr.read, 4096)],
            deadline: Deadline(secondsFromNow: timeLimit))
        defer { pump.closeAll() }
        var readFailure: DeliveryFailure?
        do {
            let written: Result<Void, SinkError> = requestLine.withUnsafeBytes { raw in
                do throws(SinkError) {
                    try pump.write(raw)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try written.get()
            readFailure = try streamContent(from: content, length: length, into: &pump)
        } catch {
            // EPIPE: the worker answered without reading everything (e.g. a bounce); its result still counts.
        }
        if readFailure != nil { child.kill() }
        pump.closeInput()
        if !pump.timedOut { _ = pump.drainOutputs() }
        if pump.timedOut { child.kill() }
        let (status, waitTimedOut) = child.wait(until: pump.deadline)
        if let readFailure { return .failed(readFailure) }
        if pump.timedOut || waitTimedOut {
            return .failed(DeliveryFailure(dsn: "4.3.0", text: "delivery worker time limit exceeded"))
        }
        return interpret(status: status, stdout: pump.collected[0], stderr: pump.collected[1], request: request)
    }

    /// Copies `length` bytes of message into the pump. Returns a failure when the message cannot be read
    /// (the worker is then killed so that it cannot deliver a truncated copy); throws when the pump refuses.
    private static func streamContent(from fd: Int32, length: Int, into pump: inout ProcessPump)
        throws(SinkError) -> DeliveryFailure?
    {
        var buffer = [UInt8](repeating: 0, count: MessageCopier.chunkSize)
        var remaining = length
        while remaining > 0 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, remaining)) }
            if n < 0 {
                if errno == EINTR { continue }
                return SystemError.readFailure(errno)
            }
            if n == 0 {
                return DeliveryFailure(dsn: "4.3.0", text: "error reading message: unexpected end of message content")
            }
            let written: Result<Void, SinkError> = buffer.withUnsafeBytes { raw in
                do throws(SinkError) {
                    try pump.write(UnsafeRawBufferPointer(rebasing: raw[..<n]))
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try written.get()
            remaining -= n
        }
        return nil
    }

    /// Turns the worker's exit status and output into a result.
    static func interpret(status: Int32, stdout: [UInt8], stderr: [UInt8], request: DeliveryWorkRequest)
        -> DeliveryWorkResult
    {
        let signal = status & 0x7f
        let exitCode = (status >> 8) & 0xff
        if signal == 0 && exitCode == 0,
            let end = stdout.firstIndex(of: 10), let result = WorkerWire.decodeResult(stdout[..<end])
        {
            return result
        }
        var reason: String
        if signal != 0 {
            reason = "delivery worker killed by signal \(signal)"
        } else if exitCode == 126 {
            reason = "delivery worker cannot switch to uid \(request.uid) gid \(request.gid)"
        } else if exitCode == 127 {
            reason = "delivery worker cannot be executed"
        } else {
            reason = "delivery worker exit status \(exitCode) without a result"
        }
        let diagnostics = CommandDelivery.printable(stderr).trimmingCharacters(in: .whitespaces)
        if !diagnostics.isEmpty { reason += ": \(diagnostics)" }
        return .failed(DeliveryFailure(dsn: "4.3.0", text: reason))
    }
}
