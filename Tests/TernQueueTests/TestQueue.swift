import Foundation
import Glibc
import TernCore
@testable import TernQueue

/// A fresh queue directory under /tmp for one test, removed afterwards by `cleanup()`.
struct TestQueue {
    let queue: QueueDirectory

    init() throws {
        var template = Array("/tmp/tern-queue-test-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        queue = QueueDirectory(path: dir)
        try queue.createLayout()
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: queue.path)
    }

    static let arrival: Int64 = 1_796_037_432_000_000

    static func envelope(recipients: [String] = ["far@remote.example", "two@remote.example"]) -> QueueEnvelope {
        QueueEnvelope(
            arrivalMicroseconds: arrival, sender: MailAddress("alice@client.example"),
            recipients: recipients.map {
                QueueRecipient(MailAddress($0), originalRecipient: MailAddress($0), orcpt: "rfc822;\($0)")
            },
            client: ClientInfo(name: "localhost", address: "127.0.0.1", port: 55278, heloName: "client.example", protocolName: "ESMTP"))
    }

    /// Writes and commits a message; returns its ID.
    @discardableResult
    func write(_ content: String = "Subject: hello\n\nbody line\n", envelope: QueueEnvelope = TestQueue.envelope(),
               messageID: String? = "<m1@client.example>") throws -> QueueID {
        let writer = try QueueFileWriter.create(in: queue)
        try writer.writeEnvelope(envelope)
        try writer.append(Array(content.utf8))
        writer.setSummary(ContentSummary(messageID: messageID))
        try writer.commit()
        return writer.queueID
    }

    func readFile(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[..<n]
        }
        return out
    }

    func writeFile(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
