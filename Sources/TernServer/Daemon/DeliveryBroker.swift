import Foundation
import Synchronization
import TernDelivery

/// The seam between the unprivileged MTA daemon and the root master (DESIGN.md §2): the daemon asks for a
/// delivery (a `DeliveryWorkRequest` plus where the content is in an active queue file), the master checks
/// the request, opens the queue file itself and runs the worker as the user. One JSON object per line over a
/// socketpair, answered out of order by `id`.
struct BrokerRequest: Codable, Sendable {
    var id: Int
    var queueFile: String
    var offset: Int
    var length: Int
    var request: DeliveryWorkRequest
}

struct BrokerResponse: Codable, Sendable {
    var id: Int
    var result: DeliveryWorkResult
}

/// Reads newline-terminated JSON values from a descriptor on a thread of its own.
enum LineReader {
    static func stream<Value: Decodable & Sendable>(_ type: Value.Type, fd: Int32, name: String) -> AsyncStream<Value> {
        let (stream, continuation) = AsyncStream.makeStream(of: Value.self)
        let thread = Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            let decoder = JSONDecoder()
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending += buffer[..<n]
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = Data(pending[..<newline])
                    pending.removeSubrange(...newline)
                    if let value = try? decoder.decode(Value.self, from: line) { continuation.yield(value) }
                }
                if pending.count > 16 << 20 { break }  // a peer that never ends a line
            }
            continuation.finish()
        }
        thread.name = name
        thread.start()
        return stream
    }

}

/// Writes newline-terminated JSON values to a descriptor, one whole line at a time.
final class LineWriter: Sendable {
    let fd: Int32
    private let lock = Mutex(())

    init(fd: Int32) {
        self.fd = fd
    }

    /// Writes one JSON line; a short write is retried, an error ends the attempt.
    func write<Value: Encodable>(_ value: Value) {
        guard var data = try? JSONEncoder().encode(value) else { return }
        data.append(0x0A)
        let fd = self.fd
        lock.withLock { _ in
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }
}

/// The daemon's side: deliveries go to the master.
final class BrokeredDeliveryExecutor: DeliveryExecutor, Sendable {
    private let fd: Int32
    private let writer: LineWriter
    private let state = Mutex<(next: Int, waiting: [Int: CheckedContinuation<DeliveryWorkResult, Never>], closed: Bool)>(
        (1, [:], false))

    init(fd: Int32) {
        self.fd = fd
        writer = LineWriter(fd: fd)
    }

    /// Delivers answers to waiting requests until the master goes away.
    func run() async {
        for await response in LineReader.stream(BrokerResponse.self, fd: fd, name: "tern-broker-client") {
            let waiter = state.withLock { $0.waiting.removeValue(forKey: response.id) }
            waiter?.resume(returning: response.result)
        }
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in waiters { waiter.resume(returning: .deferred("delivery broker is gone")) }
    }

    func execute(_ request: DeliveryWorkRequest, queueFile: String, contentOffset: Int, contentLength: Int) async
        -> DeliveryWorkResult
    {
        await withCheckedContinuation { continuation in
            let id: Int? = state.withLock { state in
                guard !state.closed else { return nil }
                let id = state.next
                state.next += 1
                state.waiting[id] = continuation
                return id
            }
            guard let id else {
                continuation.resume(returning: .deferred("delivery broker is gone"))
                return
            }
            writer.write(
                BrokerRequest(id: id, queueFile: queueFile, offset: contentOffset, length: contentLength, request: request))
        }
    }
}

/// The master's side: checks each request and has a worker running as the user carry it out.
struct DeliveryBrokerServer: Sendable {
    let fd: Int32
    let activeDirectory: String
    let queueOwner: UInt32
    let executor: UserDeliveryExecutor
    let log: MailLogSink

    func run() async {
        let writer = LineWriter(fd: fd)
        await withDiscardingTaskGroup { group in
            for await message in LineReader.stream(BrokerRequest.self, fd: fd, name: "tern-broker-server") {
                group.addTask {
                    let result = await handle(message)
                    writer.write(BrokerResponse(id: message.id, result: result))
                }
            }
        }
    }

    private func handle(_ message: BrokerRequest) async -> DeliveryWorkResult {
        let path = message.queueFile
        let name = (path as NSString).lastPathComponent
        guard (path as NSString).deletingLastPathComponent == activeDirectory, !name.hasPrefix("."), !name.isEmpty else {
            log("warning: refusing delivery request for \(path): not an active queue file")
            return .deferred("delivery request refused: not an active queue file")
        }
        // Mail is never delivered with root's privileges on the daemon's say-so: root's mail is aliased.
        guard message.request.uid != 0 else {
            log("warning: refusing delivery as root for \(message.request.recipient): alias root to a user")
            return .deferred("delivery with root privileges refused; alias root to a mail user")
        }
        return await executor.execute(
            message.request, queueFile: path, contentOffset: message.offset, contentLength: message.length,
            requiredOwner: queueOwner)
    }
}

typealias MailLogSink = @Sendable (String) -> Void
