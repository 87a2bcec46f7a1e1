import Foundation
import TernConfig
import TernMailbox

/// `tern libexec mail-session REQUEST`: one logged-in user's POP3 or IMAP session, as that user, on the
/// socket it gets as stdin/stdout (the login side proxies the client to it). Logs go to stderr, which is the
/// daemon's log file (or syslog when log_path is syslog).
public enum MailSessionWorker {
    public static func run(_ argument: String) -> Int32 {
        guard let (request, settings, log) = setUp(argument) else { return 64 }
        var socket = SessionSocket(fd: 0)
        guard let store = openStore(request, settings, log) else {
            try? socket.write(
                request.protocolName == "imap"
                    ? "\(request.tag ?? "*") NO [SERVERBUG] Internal error occurred. Refer to server log for more information.\r\n"
                    : "-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.\r\n")
            return 75
        }
        let protocolSettings = settings.settings(protocol: request.protocolName)
        switch request.protocolName {
        case "pop3":
            POP3MailSession(
                request: request, store: store, uidlFormat: protocolSettings.pop3UIDLFormat, log: log
            ).run(&socket, idleTimeout: 10 * 60 * 1000)
        default:
            IMAPSessionWorker(request: request, store: store, log: log).run(&socket)
        }
        return 0
    }

    /// `tern libexec mail-deliver REQUEST`: LMTP's save of the message on stdin into the user's INBOX, as
    /// the user. Exit status 0 once it is saved (written, fsynced, in new/), 75 (EX_TEMPFAIL) otherwise.
    public static func deliver(_ argument: String) -> Int32 {
        guard let (request, settings, log) = setUp(argument), let store = openStore(request, settings, log) else {
            return 75
        }
        do throws(MailboxError) {
            let appender = try store.beginAppend(to: "INBOX")
            if let headers = request.deliveryHeaders { try appender.write(Array(headers.utf8)) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else {
                    appender.abort()
                    log.log(request.logPrefix, .error, "read(message) failed: \(String(cString: strerror(errno)))")
                    return 75
                }
                if n == 0 { break }
                try appender.write(Array(buffer[..<n]))
            }
            let uid = try appender.commit()
            log.info(request.logPrefix, "saved mail to INBOX (uid \(uid))")
            return 0
        } catch {
            log.log(request.logPrefix, .error, "msgid=?: save failed to INBOX: \(error.logDescription)")
            return 75
        }
    }

    private static func setUp(_ argument: String) -> (MailSessionRequest, AccessSettings, DovecotLog)? {
        guard let request = MailSessionRequest.decode(argument) else {
            FileHandle.standardError.write(Data("mail-session: Fatal: invalid request\n".utf8))
            return nil
        }
        do {
            let settings = try AccessSettings.load(path: request.configPath, readingTLSFiles: false)
            let log = settings.global.logPath == "syslog" ? DovecotLog(path: "syslog") : DovecotLog(descriptor: 2)
            return (request, settings, log)
        } catch {
            FileHandle.standardError.write(Data("\(request.logPrefix): Fatal: \(error)\n".utf8))
            return nil
        }
    }

    /// The user's mail store with the namespace's auto mailboxes; nil (logged) when it cannot be opened.
    private static func openStore(_ request: MailSessionRequest, _ settings: AccessSettings, _ log: DovecotLog)
        -> MailStore?
    {
        do {
            let storeSettings = try settings.mailStore(
                user: request.user, home: request.home, mailLocation: request.mailLocation)
            // Like Dovecot, create the mail root (and missing parents) on first use.
            try FileManager.default.createDirectory(
                atPath: storeSettings.root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let store = MailStore(settings: storeSettings)
            try store.applyAutoSettings()
            return store
        } catch {
            log.log(request.logPrefix, .error, (error as? MailboxError)?.logDescription ?? "\(error)")
            return nil
        }
    }
}
