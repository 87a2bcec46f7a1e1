import Glibc
public import TernCore
public import TernMIME

/// `postcat [-bdehq] [-c dir] [files...]`: a queue file in Postfix's postcat layout:
///
///     *** ENVELOPE RECORDS deferred/E/E93D0F786D2 ***
///     message_size:             309             762               2               0             309               0
///     message_arrival_time: Mon Nov 30 11:17:12 2026
///     sender: alice@client.example
///     named_attribute: client_name=localhost
///     ...
///     original_recipient: far@remote.example
///     recipient: far@remote.example
///     *** MESSAGE CONTENTS deferred/E/E93D0F786D2 ***
///     Received: ...
///     *** HEADER EXTRACTED deferred/E/E93D0F786D2 ***
///     *** MESSAGE FILE END deferred/E/E93D0F786D2 ***
///
/// Without -e/-h/-b everything is shown; -h shows headers up to the first non-header line, -b from there on.
/// Delivered or bounced recipients show as `done_recipient:` (Postfix marks them done in place too), and a
/// sent delay warning as `delay_warning_sent:`.
public enum PostCat {
    public struct Options: Sendable, Equatable {
        public var envelope = false
        public var headers = false
        public var body = false
        public var searchQueue = false
        public var names: [String] = []
        public init() {}
    }

    static let usage =
        "usage: postcat [-b (body text)] [-c config_dir] [-d (decimal record type)] [-e (envelope records)] "
        + "[-h (header text)] [-q (access queue)] [-v] [file(s)...]"

    /// Parses Postfix's options; `-c DIR` is accepted (the caller has already used it to find the queue)
    /// and `-v` is ignored. Record-level options (-d, -o, -r, -s) show Postfix record types and offsets,
    /// which Tern's format does not have: they are refused with the usage message.
    public static func parse(_ arguments: [String]) -> Result<Options, ToolFailure> {
        do {
            let (opts, operands) = try GetOpt.parse(arguments, spec: "bc:ehqv")
            var o = Options()
            for (letter, _) in opts {
                switch letter {
                case "b": o.body = true
                case "e": o.envelope = true
                case "h": o.headers = true
                case "q": o.searchQueue = true
                default: break
                }
            }
            if !o.envelope && !o.headers && !o.body { (o.envelope, o.headers, o.body) = (true, true, true) }
            o.names = operands
            return .success(o)
        } catch {
            return .failure(ToolFailure(result: ToolResult.fatal("postcat", usage, partial: ToolResult(stderr: GetOpt.message("postcat", error)))))
        }
    }

    public static func run(arguments: [String], queue: QueueDirectory, zone: MailTimeZone = .local) -> ToolResult {
        switch parse(arguments) {
        case .failure(let failure): return failure.result
        case .success(let options): return run(options, queue: queue, zone: zone)
        }
    }

    public static func run(_ options: Options, queue: QueueDirectory, zone: MailTimeZone = .local) -> ToolResult {
        var result = ToolResult()
        if options.names.isEmpty {
            return ToolResult.fatal("postcat", "reading a queue file from standard input is not supported; name the file or use -q", partial: result)
        }
        for name in options.names {
            let path: String
            let shownPath: String
            if options.searchQueue {
                guard let id = QueueID(name) else { return ToolResult.fatal("postcat", "bad mail queue ID: \(name)", partial: result) }
                guard let where_ = queue.locate(id), let found = queue.existingPath(where_, id) else {
                    return ToolResult.fatal("postcat", "open queue file \(name): No such file or directory", partial: result)
                }
                path = found
                shownPath = String(found.dropFirst(queue.path.count + 1))
            } else {
                path = name
                shownPath = name
            }
            let file: QueueFile
            do {
                file = try QueueFile.open(path: path, writable: false)
            } catch {
                if let code = error.errno {
                    return ToolResult.fatal("postcat", "open \(name): \(String(cString: strerror(code)))", partial: result)
                }
                result.stderr += "postcat: warning: \(shownPath): input is not a valid queue file\n"
                continue
            }
            do {
                try render(file, path: shownPath, options: options, zone: zone, into: &result)
            } catch {
                return ToolResult.fatal("postcat", "record read error", partial: result)
            }
        }
        return result
    }

    static func render(_ file: QueueFile, path: String, options: Options, zone: MailTimeZone, into result: inout ToolResult)
        throws(QueueError)
    {
        let env = file.envelope
        if options.envelope {
            result.out("*** ENVELOPE RECORDS \(path) ***\n")
            let fields = [file.contentLength, file.contentOffset, env.recipients.count, 0, file.contentLength, env.smtputf8 ? 1 : 0]
            result.out("message_size:" + fields.map { " " + QueueListing.right(String($0), 15) }.joined() + "\n")
            result.out("message_arrival_time: \(MailDate.asctime(epochSeconds: env.arrivalSeconds, zone: zone))\n")
            if env.delayWarningSent > 0 {
                // Postfix shows the time a warning is due (`warning_message_time:`); Tern records when it was sent.
                result.out("delay_warning_sent: \(MailDate.asctime(epochSeconds: env.delayWarningSent, zone: zone))\n")
            }
            if let name = env.senderFullName { result.out("sender_fullname: \(name)\n") }
            result.out("sender: \(env.sender.text)\n")
            for (name, value) in QueueFileFormat.attributes(of: env) { result.out("named_attribute: \(name)=\(value)\n") }
            for (i, r) in env.recipients.enumerated() {
                if let orcpt = r.orcpt { result.out("named_attribute: dsn_orig_rcpt=\(orcpt)\n") }
                if !r.notify.isEmpty { result.out("named_attribute: notify_flags=\(r.notify.rawValue)\n") }
                if let original = r.originalRecipient { result.out("original_recipient: \(original.text)\n") }
                result.out("\(file.status(of: i).isDone ? "done_recipient" : "recipient"): \(r.address.text)\n")
            }
            result.out("*** MESSAGE CONTENTS \(path) ***\n")
        }
        if options.headers || options.body { try content(file, options: options, into: &result) }
        if options.envelope {
            result.out("*** HEADER EXTRACTED \(path) ***\n")
            result.out("*** MESSAGE FILE END \(path) ***\n")
        }
    }

    /// Streams the content in chunks, switching from header to body at the first line that is neither a
    /// header nor a continuation (postcat's state machine).
    static func content(_ file: QueueFile, options: Options, into result: inout ToolResult) throws(QueueError) {
        var inHeaders = true
        var line: [UInt8] = []
        var offset = 0
        func emit(_ line: [UInt8], terminated: Bool) {
            if inHeaders && !(HeaderField.name(of: line) != nil || HeaderField.isContinuation(line)) { inHeaders = false }
            if inHeaders ? options.headers : options.body {
                result.stdout += line
                result.stdout.append(UInt8(ascii: "\n"))
            }
        }
        while offset < file.contentLength {
            let chunk = try file.readContent(offset: offset, count: 65536)
            offset += chunk.count
            for byte in chunk {
                if byte == UInt8(ascii: "\n") {
                    emit(line, terminated: true)
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(byte)
                }
            }
            if chunk.isEmpty { break }
        }
        if !line.isEmpty { emit(line, terminated: false) }
    }
}

/// A tool that stops before doing anything (bad usage), with what it printed.
public struct ToolFailure: Error, Sendable, Equatable {
    public let result: ToolResult
}
