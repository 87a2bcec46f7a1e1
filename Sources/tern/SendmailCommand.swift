import Foundation
import TernServer
import TernConfig
import TernCore
import TernMIME
import TernQueue

/// sendmail(1) as Postfix has it, for scripts: the message on stdin goes into maildrop/ (fsynced) and the
/// pickup service queues it, also when the daemon was down at the time. Recipients come from the command
/// line or, with -t, from the To/Cc/Bcc headers; bare names get @$myorigin, in the envelope and in address
/// headers. The sender is -f, else the login name.
enum SendmailCommand {
    struct Options {
        var sender: String?
        var fullName: String?
        var extractRecipients = false
        var dotEndsInput = true
        var recipients: [String] = []
        var configDirectory: String?
        var notify: String?
        var ret: String?
        var envid: String?
        var mode = "m"
    }

    static func run(_ arguments: [String], environment: [String: String]) async -> Int32 {
        var options = Options()
        var index = 0
        func value() -> String? {
            index += 1
            return index < arguments.count ? arguments[index] : nil
        }
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                options.recipients += arguments[(index + 1)...]
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                options.recipients.append(argument)
                index += 1
                continue
            }
            let flag = argument.dropFirst()
            // Options with a value take it attached (-fuser) or as the next argument (-f user).
            func argumentValue(_ letters: Int) -> String? {
                flag.count > letters ? String(flag.dropFirst(letters)) : value()
            }
            switch flag.first {
            case "f", "r": options.sender = argumentValue(1)
            case "F": options.fullName = argumentValue(1)
            case "t": options.extractRecipients = true
            case "i": options.dotEndsInput = false
            case "C":
                // -C main.cf or -C directory
                options.configDirectory = argumentValue(1).map {
                    $0.hasSuffix(".cf") ? ($0 as NSString).deletingLastPathComponent : $0
                }
            case "N": options.notify = argumentValue(1)
            case "R": options.ret = argumentValue(1)
            case "V": options.envid = argumentValue(1)
            case "o":
                if flag == "oi" { options.dotEndsInput = false } else if flag.count == 2 && flag != "oi" { _ = value() }
            case "b":
                options.mode = String(flag.dropFirst())
            case "q":
                options.mode = "q"
            case "v", "n", "U", "X", "L", "B", "h", "m", "e", "d":
                if "XLBhe".contains(flag.first!) && flag.count == 1 { _ = value() }
            default:
                return Diagnostics.fatal("sendmail", "usage: sendmail [options] recipient...")
            }
            index += 1
        }
        switch options.mode {
        case "p": return await QueueTool.postqueue(["-p"], environment: environment)
        case "i": return await MapTool.newaliases([], environment: environment)
        case "q": return await QueueTool.postqueue(["-f"], environment: environment)
        case "s":
            guard let config = QueueTool.loadConfig(options.configDirectory, environment: environment, program: "sendmail")
            else { return 75 }
            return SendmailSMTP(config: config).run()
        case "m", "": break
        default: return Diagnostics.fatal("sendmail", "unsupported mode: -b\(options.mode)")
        }
        guard let config = QueueTool.loadConfig(options.configDirectory, environment: environment, program: "sendmail")
        else { return 75 }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        do {
            _ = try submit(Array(input), options: options, config: config)
            _ = QueueTrigger.send(.wakeup, queueDirectory: config.value("queue_directory"))
            return 0
        } catch let error as SubmitError {
            _ = Diagnostics.fatal("sendmail", error.text)
            return error.exitStatus
        } catch {
            _ = Diagnostics.fatal("sendmail", "\(error)")
            return 75
        }
    }

    struct SubmitError: Error {
        var text: String
        var exitStatus: Int32
    }

    /// Writes the message on stdin to maildrop/ as a queue file; returns its queue ID.
    static func submit(_ input: [UInt8], options: Options, config: MainConfig) throws -> QueueID {
        // Input lines: LF or CRLF ends; a lone "." ends the input unless -i.
        var lines: [[UInt8]] = []
        var start = 0
        while start < input.count {
            let end = input[start...].firstIndex(of: 0x0A) ?? input.count
            var line = Array(input[start..<end])
            if line.last == 0x0D { line.removeLast() }
            start = end + 1
            if options.dotEndsInput && line == [UInt8(ascii: ".")] { break }
            lines.append(line)
        }
        return try submit(lines: lines, options: options, config: config)
    }

    /// Writes a message (its lines without line ends) to maildrop/ as a queue file; returns its queue ID.
    static func submit(lines: [[UInt8]], options: Options, config: MainConfig) throws -> QueueID {
        let myorigin = config.value("myorigin")
        let myhostname = config.value("myhostname")
        func qualify(_ address: String) -> String {
            let trimmed = address.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.contains("@") { return trimmed }
            return "\(trimmed)@\(myorigin)"
        }
        let login = QueueTool.currentUserName()
        let sender = options.sender.map { $0 == "<>" ? "" : qualify($0.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))) }
            ?? qualify(login)

        // Header section (only when the input starts with a header): collect -t recipients, drop Bcc. Cleanup
        // qualifies bare addresses in the headers.
        var headerEnd = 0
        while headerEnd < lines.count, !lines[headerEnd].isEmpty {
            let line = lines[headerEnd]
            let isContinuation = line.first == 0x20 || line.first == 0x09
            if !isContinuation && HeaderField.name(of: line) == nil { break }
            headerEnd += 1
        }
        if headerEnd < lines.count && !lines[headerEnd].isEmpty { headerEnd = 0 }  // no header: all body
        var recipients = options.recipients.map(qualify)
        var output: [[UInt8]] = []
        var currentName = ""
        for (position, line) in lines.enumerated() {
            guard position < headerEnd else {
                output.append(line)
                continue
            }
            let text = String(decoding: line, as: UTF8.self)
            let continuation = line.first == 0x20 || line.first == 0x09
            if !continuation { currentName = text.prefix { $0 != ":" }.lowercased() }
            if options.extractRecipients && ["to", "cc", "bcc"].contains(currentName) {
                let value = Array(continuation ? Substring(text) : text.drop { $0 != ":" }.dropFirst())
                recipients += AddressHeader.spans(in: value).map { qualify(String(value[$0])) }
            }
            if currentName == "bcc" { continue }
            output.append(line)
        }
        guard !recipients.isEmpty else {
            throw SubmitError(text: "No recipient addresses found in message header", exitStatus: 64)
        }

        let queue = QueueDirectory(path: config.value("queue_directory"))
        let writer: QueueFileWriter
        do {
            writer = try QueueFileWriter.create(in: queue, queue: .maildrop, mode: 0o644)
        } catch {
            throw SubmitError(text: "queue file write error: \(error)", exitStatus: 75)
        }
        let now = Date()
        var notify: DSNNotify = []
        for word in (options.notify ?? "").uppercased().split(separator: ",") {
            switch word {
            case "SUCCESS": notify.insert(.success)
            case "FAILURE": notify.insert(.failure)
            case "DELAY": notify.insert(.delay)
            case "NEVER": notify = .never
            default: break
            }
        }
        let envelope = QueueEnvelope(
            arrivalMicroseconds: Int64(now.timeIntervalSince1970 * 1_000_000), sender: MailAddress(sender),
            senderFullName: options.fullName,
            recipients: recipients.map { QueueRecipient(MailAddress($0), notify: notify) },
            envid: options.envid, ret: options.ret.flatMap { DSNReturn(rawValue: $0.uppercased()) })
        do {
            try writer.writeEnvelope(envelope)
            let received = [
                "Received: by \(myhostname) (\(config.value("mail_name")), from userid \(getuid()))\n\tid \(writer.queueID.value); \(MailDate.rfc5322(epochSeconds: Int(now.timeIntervalSince1970)))"
            ]
            var cleanup = Cleanup(
                queueID: writer.queueID, sender: MailAddress(sender), arrivalSeconds: Int(now.timeIntervalSince1970),
                prepend: received, options: CleanupOptions(myHostname: myhostname, qualifyDomain: myorigin))
            var buffer: [UInt8] = []
            for line in output { cleanup.process(line: line, into: &buffer) }
            cleanup.finish(into: &buffer)
            try writer.append(buffer)
            writer.setSummary(ContentSummary(messageID: cleanup.messageID))
            try writer.commit()
        } catch {
            writer.abort()
            throw SubmitError(text: "queue file write error: \(error)", exitStatus: 75)
        }
        return writer.queueID
    }
}
