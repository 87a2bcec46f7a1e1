/// Receives the DATA section (RFC 5321 §4.1.1.4, §4.5.2) incrementally, as Postfix 3.7's smtpd does:
/// - a line ends at LF, with or without CR (smtpd_forbid_bare_newline is off by default in 3.7), and
///   CRs before the LF are removed; so `.\n` also ends the data;
/// - a leading dot is removed (dot-stuffing), a line that is only `.` ends the data;
/// - lines longer than line_length_limit are split into records of that length; a record that
///   continues a split line is never treated as dot-stuffed or as the end;
/// - size counts each record plus 2 (its CRLF); once over message_size_limit nothing more is handed
///   out, but input is read to the end, then `sizeExceeded` is reported;
/// - content starting with a `From ` line becomes `X-Mailbox-Line: From …`, and content starting with
///   white space gets an empty first line, as Postfix writes it to the queue file.
/// Bytes after the terminating line are returned so the caller can go back to command mode.
public struct DataReceiver: Sendable {
    /// One queue-file record: a line without its end, or a piece of a split long line.
    public struct Record: Sendable, Hashable {
        public var bytes: [UInt8]
        /// True when the line goes on in the next record (Postfix REC_TYPE_CONT).
        public var continues: Bool
        public init(_ bytes: [UInt8], continues: Bool = false) {
            self.bytes = bytes
            self.continues = continues
        }
    }

    /// How the DATA section ended.
    public struct End: Sendable, Hashable {
        /// Content size as Postfix counts it (each record + 2).
        public var size: Int
        public var sizeExceeded: Bool
        /// Input after the terminating `.` line (pipelined commands).
        public var remaining: [UInt8]
    }

    public struct Output: Sendable, Hashable {
        public var records: [Record] = []
        /// Set once the terminating line was seen.
        public var end: End?

        /// The records as LF-terminated content, the way the queue stores it.
        public var content: [UInt8] {
            var out: [UInt8] = []
            for record in records {
                out.append(contentsOf: record.bytes)
                if !record.continues { out.append(0x0A) }
            }
            return out
        }
    }

    public let lineLengthLimit: Int
    public let messageSizeLimit: Int
    public private(set) var size = 0
    public private(set) var sizeExceeded = false
    public private(set) var isFinished = false
    private var current: [UInt8] = []
    private var limitHitOnCR = false
    private var previousContinues = false
    private var atContentStart = true

    /// - Parameters:
    ///   - lineLengthLimit: line_length_limit (default 2048).
    ///   - messageSizeLimit: message_size_limit in bytes, 0 for none.
    public init(lineLengthLimit: Int = 2048, messageSizeLimit: Int = 10_240_000) {
        self.lineLengthLimit = max(lineLengthLimit, 2)
        self.messageSizeLimit = messageSizeLimit
    }

    /// Feeds bytes; returns the complete records and, once the data ended, how it ended.
    /// After the end, further calls return all bytes as `remaining`.
    public mutating func receive<Bytes: Collection>(_ bytes: Bytes) -> Output where Bytes.Element == UInt8 {
        // The byte loop runs over contiguous memory: a generic Collection walk costs a witness call per byte.
        if let output = bytes.withContiguousStorageIfAvailable({ receive(buffer: $0) }) { return output }
        return Array(bytes).withUnsafeBufferPointer { receive(buffer: $0) }
    }

    private mutating func receive(buffer: UnsafeBufferPointer<UInt8>) -> Output {
        var output = Output()
        guard !isFinished else {
            output.end = End(size: size, sizeExceeded: sizeExceeded, remaining: Array(buffer))
            return output
        }
        var index = 0
        while index < buffer.count {
            if limitHitOnCR {
                limitHitOnCR = false
                let byte = buffer[index]
                if byte == 0x0A {
                    index += 1
                    if completeLine(into: &output.records) { return finish(&output, buffer, after: index) }
                    continue
                }
                let piece = current
                current.removeAll(keepingCapacity: true)
                if emit(piece, continues: true, into: &output.records) { return finish(&output, buffer, after: index) }
            }
            // Copy up to the next LF, or until the line reaches line_length_limit, in one go.
            let end = min(buffer.count, index + (lineLengthLimit - current.count))
            var newline = index
            while newline < end && buffer[newline] != 0x0A { newline += 1 }
            current.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<newline]))
            if newline < end {
                index = newline + 1
                if completeLine(into: &output.records) { return finish(&output, buffer, after: index) }
                continue
            }
            index = end
            if current.count == lineLengthLimit {
                if current.last == 0x0D {
                    limitHitOnCR = true
                } else {
                    let piece = current
                    current.removeAll(keepingCapacity: true)
                    if emit(piece, continues: true, into: &output.records) { return finish(&output, buffer, after: index) }
                }
            }
        }
        return output
    }

    private mutating func finish(
        _ output: inout Output, _ buffer: UnsafeBufferPointer<UInt8>, after index: Int
    ) -> Output {
        isFinished = true
        output.end = End(size: size, sizeExceeded: sizeExceeded, remaining: Array(buffer[index...]))
        return output
    }

    private mutating func completeLine(into records: inout [Record]) -> Bool {
        while current.last == 0x0D { current.removeLast() }
        let line = current
        current.removeAll(keepingCapacity: true)
        return emit(line, continues: false, into: &records)
    }

    /// Postfix data_cmd() per record. Returns true for the end-of-data line.
    private mutating func emit(_ record: [UInt8], continues: Bool, into records: inout [Record]) -> Bool {
        defer { previousContinues = continues }
        var record = record[...]
        if atContentStart {
            let afterQuotes = record.drop { $0 == UInt8(ascii: ">") }
            if afterQuotes.starts(with: "From ".utf8) {
                output(Array("X-Mailbox-Line: ".utf8) + record, continues: continues, into: &records)
                return false
            }
            atContentStart = false
            if let first = record.first, first == 0x20 || first == 0x09 {
                output([], continues: false, into: &records)
            }
        }
        if !previousContinues, record.first == UInt8(ascii: ".") {
            record = record.dropFirst()
            if record.isEmpty { return true }
        }
        if !sizeExceeded {
            if messageSizeLimit > 0 && messageSizeLimit - size < record.count + 2 {
                sizeExceeded = true
            } else {
                size += record.count + 2
                output(Array(record), continues: continues, into: &records)
            }
        }
        return false
    }

    private func output(_ bytes: [UInt8], continues: Bool, into records: inout [Record]) {
        records.append(Record(bytes, continues: continues))
    }
}
