import Foundation
import Glibc

/// The byte format between the daemon and a delivery worker:
///
///     daemon → worker stdin:   <DeliveryWorkRequest as one JSON line> LF <message bytes>
///     worker → daemon stdout:  <DeliveryWorkResult as one JSON line> LF
///
/// JSON never contains a raw newline (strings escape it), so the first LF ends the request exactly and
/// the message follows unframed. The request line is read byte by byte so that not one message byte is
/// consumed before the writer reads it.
enum WorkerWire {
    /// Longest request line accepted; real requests are a few kilobytes (header lines, paths, environment).
    static let maximumLineLength = 1 << 20

    static func encode(_ request: DeliveryWorkRequest) throws -> [UInt8] {
        try line(for: request)
    }

    static func encode(_ result: DeliveryWorkResult) -> [UInt8] {
        if let bytes = try? line(for: result) { return bytes }
        // Encoding a struct of strings cannot fail in practice; answer with something the daemon can parse.
        return Array(
            "{\"dsn\":\"4.3.0\",\"outcome\":\"deferred\",\"text\":\"cannot encode result\",\"warnings\":[]}\n".utf8)
    }

    private static func line(for value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(value))
        bytes.append(10)
        return bytes
    }

    static func decodeRequest(_ line: [UInt8]) -> Result<DeliveryWorkRequest, DeliveryFailure> {
        do {
            return .success(try JSONDecoder().decode(DeliveryWorkRequest.self, from: Data(line)))
        } catch {
            return .failure(DeliveryFailure(dsn: "4.3.0", text: "malformed delivery request: \(error)"))
        }
    }

    static func decodeResult(_ line: some Collection<UInt8>) -> DeliveryWorkResult? {
        try? JSONDecoder().decode(DeliveryWorkResult.self, from: Data(line))
    }

    /// Reads up to and excluding the first LF, one byte at a time.
    static func readLine(from fd: Int32) -> Result<[UInt8], DeliveryFailure> {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(SystemError.readFailure(errno))
            }
            if n == 0 {
                return .failure(DeliveryFailure(dsn: "4.3.0", text: "delivery request ended before its end of line"))
            }
            if byte == 10 { return .success(line) }
            line.append(byte)
            if line.count > maximumLineLength {
                return .failure(DeliveryFailure(dsn: "4.3.0", text: "delivery request line too long"))
            }
        }
    }
}
