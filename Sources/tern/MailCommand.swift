import Foundation
import TernConfig
import TernServer

/// mail(1) / mailx for scripts (the s-nail options they use): `mail -s SUBJECT [-r FROM] [-c CC] [-b BCC]
/// [-a HEADER:VALUE] ADDRESS...` reads the body from stdin and sends it with sendmail. Without recipients
/// (`mail`, `mail -f [FILE]`) it reads a mailbox instead (`MailReader`).
enum MailCommand {
    static func run(_ arguments: [String], environment: [String: String]) async -> Int32 {
        if let reading = MailReader.Options(arguments) { return MailReader.run(reading, environment: environment) }
        var subject: String?
        var from: String?
        var cc: [String] = []
        var bcc: [String] = []
        var extraHeaders: [String] = []
        var recipients: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            func value() -> String? {
                index += 1
                return index < arguments.count ? arguments[index] : nil
            }
            switch argument {
            case "-s": subject = value()
            case "-r": from = value()
            case "-c": cc += (value() ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case "-b": bcc += (value() ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case "-a", "-C": if let header = value(), header.contains(":") { extraHeaders.append(header) }
            case "-n", "-N", "-E", "-v", "-d", "-~", "-#": break
            case "--": recipients += arguments[(index + 1)...]; index = arguments.count
            default:
                if argument.hasPrefix("-") && argument.count > 1 {
                    FileHandle.standardError.write(Data("mail: unsupported option \(argument)\n".utf8))
                    return 64
                }
                recipients.append(argument)
            }
            index += 1
        }
        guard !recipients.isEmpty else {
            FileHandle.standardError.write(Data("mail: no recipients given\n".utf8))
            return 64
        }
        let body = FileHandle.standardInput.readDataToEndOfFile()
        var header = ""
        if let from { header += "From: \(from)\n" }
        header += "To: \(recipients.joined(separator: ", "))\n"
        if !cc.isEmpty { header += "Cc: \(cc.joined(separator: ", "))\n" }
        if let subject { header += "Subject: \(subject)\n" }
        for line in extraHeaders { header += line + "\n" }
        header += "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        var message = Array(header.utf8) + Array(body)
        if message.last != 0x0A { message.append(0x0A) }
        var options = SendmailCommand.Options()
        options.dotEndsInput = false
        options.recipients = recipients + cc + bcc
        if let from {
            let address = from.lastIndex(of: "<").flatMap { open in
                from[from.index(after: open)...].firstIndex(of: ">").map { String(from[from.index(after: open)..<$0]) }
            } ?? from
            options.sender = address
        }
        guard let config = QueueTool.loadConfig(nil, environment: environment, program: "mail") else { return 75 }
        do {
            _ = try SendmailCommand.submit(message, options: options, config: config)
            _ = QueueTrigger.send(.wakeup, queueDirectory: config.value("queue_directory"))
            return 0
        } catch let error as SendmailCommand.SubmitError {
            FileHandle.standardError.write(Data("mail: \(error.text)\n".utf8))
            return error.exitStatus
        } catch {
            FileHandle.standardError.write(Data("mail: \(error)\n".utf8))
            return 75
        }
    }
}
