import Foundation

/// The Postfix (and Dovecot, and postgrey) commands Tern answers to, by the name it is invoked as.
enum Tool: String, CaseIterable {
    case postfix, postconf, postmap, postalias, newaliases, postqueue, mailq, postcat, postsuper, sendmail, mail, mailx, doveconf
    case doveadm, dovecot, postgrey

    func run(_ arguments: [String]) async -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        switch self {
        case .postfix: return await PostfixCommand.run(arguments, environment: environment)
        case .postconf: return PostconfTool.run(arguments, environment: environment)
        case .postmap: return await MapTool.postmap(arguments, environment: environment)
        case .postalias: return await MapTool.postalias(arguments, environment: environment)
        case .newaliases: return await MapTool.newaliases(arguments, environment: environment)
        case .postqueue: return await QueueTool.postqueue(arguments, environment: environment)
        case .mailq: return await QueueTool.postqueue(["-p"] + arguments, environment: environment)
        case .postcat: return QueueTool.postcat(arguments, environment: environment)
        case .postsuper: return QueueTool.postsuper(arguments, environment: environment)
        case .sendmail: return await SendmailCommand.run(arguments, environment: environment)
        case .mail, .mailx: return await MailCommand.run(arguments, environment: environment)
        case .doveconf: return DoveconfTool.run(arguments, environment: environment)
        case .doveadm: return await DoveadmTool.run(arguments)
        case .dovecot: return await DovecotCommand.run(arguments, environment: environment)
        case .postgrey: return await PostgreyCommand.run(arguments)
        }
    }
}

/// Output of a tool as text for stdout, lines for stderr and an exit status.
struct ToolOutput {
    var stdout = ""
    var stderr: [String] = []
    var status: Int32 = 0

    /// Writes the output and returns the status.
    func emit() -> Int32 {
        if !stdout.isEmpty { FileHandle.standardOutput.write(Data(stdout.utf8)) }
        for line in stderr { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        return status
    }
}

/// Where a Postfix tool's diagnostics go: stderr when it is a terminal (and always for fatal errors a
/// script must see), like Postfix's msg_vstream; the mail log gets them too.
enum Diagnostics {
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    static func fatal(_ program: String, _ message: String) -> Int32 {
        FileHandle.standardError.write(Data("\(program): fatal: \(message)\n".utf8))
        return 1
    }

    static func warning(_ program: String, _ message: String) {
        FileHandle.standardError.write(Data("\(program): warning: \(message)\n".utf8))
    }
}
