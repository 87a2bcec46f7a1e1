import TernMailbox
import TernPOP3

/// The POP3 transaction state in the session worker: the maildrop is INBOX as it was at login; QUIT
/// expunges what DELE marked. Logs Dovecot's `Disconnected: Logged out top=.., retr=.., del=.., size=..`.
/// `@unchecked Sendable`: MailSessionChannelHandler runs one step at a time, each on some pool thread.
final class POP3MailSession: MailProtocolSession, @unchecked Sendable {
    let request: MailSessionRequest
    let store: MailStore
    let uidlFormat: String
    let log: DovecotLog
    let tickMilliseconds: Int

    /// Bytes of a command line Dovecot accepts before `-ERR Input buffer full, aborting`.
    static let maxLineLength = 8192

    private var session = POP3Session(
        configuration: .init(greeting: "", mechanisms: [], tlsAvailable: false, plaintextAllowed: true))
    private var mailbox: (any Mailbox)?
    private var uids: [UInt32] = []
    private var buffer: [UInt8] = []
    private var reason: String?

    init(request: MailSessionRequest, store: MailStore, uidlFormat: String, log: DovecotLog, idleTimeout: Int) {
        self.request = request
        self.store = store
        self.uidlFormat = uidlFormat
        self.log = log
        tickMilliseconds = idleTimeout
    }

    func start(_ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        guard case .success(let (mailbox, uids, maildrop)) = openMaildrop() else {
            _ = try perform(session.maildropFailed(), output)
            return true
        }
        self.mailbox = mailbox
        self.uids = uids
        _ = session.loginSucceeded(user: request.user)
        return try perform(session.maildropOpened(maildrop), output)
    }

    func receive(_ bytes: [UInt8], _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        buffer += bytes
        while let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer[..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let text = String(decoding: line, as: UTF8.self)
            buffer.removeSubrange(...end)
            if try perform(session.received(line: text), output) {
                reason = "Logged out"
                return true
            }
        }
        if buffer.count > Self.maxLineLength {
            try output.write("-ERR Input buffer full, aborting\r\n")
            reason = "Input buffer full"
            return true
        }
        return false
    }

    func tick(quietMilliseconds: Int, _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        reason = "Disconnected for inactivity"
        try output.write("-ERR Disconnected for inactivity.\r\n")
        return true
    }

    func finish(clientClosed: Bool) {
        let s = session.statistics
        log.info(
            request.logPrefix,
            "Disconnected: \(reason ?? "Connection closed") top=\(s.topCount)/\(s.topBytes), retr=\(s.retrCount)/\(s.retrBytes), "
                + "del=\(s.deletedCount)/\(s.messageCount), size=\(s.totalSize)")
    }

    private func openMaildrop() -> Result<(any Mailbox, [UInt32], POP3Session.Maildrop), MailboxError> {
        do throws(MailboxError) {
            let mailbox = try store.openMailbox("INBOX")
            let uids = mailbox.messages.map(\.uid)
            let sizes = try uids.map { uid throws(MailboxError) in try mailbox.virtualSize(uid: uid) }
            let uidls = uids.map { mailbox.pop3UIDL(uid: $0, format: uidlFormat) ?? String($0) }
            // Sizes counted now go into dovecot-uidlist (W fields), so the next login does not count again.
            _ = try mailbox.sync()
            return .success((mailbox, uids, .init(sizes: sizes, uidls: uidls)))
        } catch {
            log.log(request.logPrefix, .error, "Couldn't open INBOX: \(error.logDescription)")
            return .failure(error)
        }
    }

    /// Carries out the state machine's actions; true once the session is to close.
    private func perform(_ actions: [POP3Session.Action], _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        var failedCommit = false
        for action in actions {
            switch action {
            case .send(let text):
                if failedCommit && text.hasPrefix("+OK") { continue }
                try output.write(text)
            case .sendMessage(let index, let bodyLines):
                guard let mailbox else { continue }
                try sendMessage(uids[index], bodyLines: bodyLines, mailbox, output)
            case .commit(let deleted):
                do throws(MailboxError) {
                    _ = try mailbox?.expunge(uids: deleted.map { uids[$0] })
                } catch {
                    log.log(request.logPrefix, .error, "Couldn't delete messages: \(error)")
                    try output.write(POP3Session.commitFailedReply)
                    failedCommit = true
                }
            case .close:
                return true
            case .checkPassword, .startSASL, .continueSASL, .abortSASL, .startTLS, .openMaildrop, .forward:
                continue  // login-side actions: the worker starts after them
            }
        }
        return false
    }

    private func sendMessage(
        _ uid: UInt32, bodyLines: Int?, _ mailbox: any Mailbox, _ output: SessionOutput
    ) throws(SessionOutput.Closed) {
        var encoder = POP3MessageEncoder(bodyLines: bodyLines)
        var reader: MessageReader?
        do throws(MailboxError) {
            reader = try mailbox.openMessage(uid: uid)
        } catch {
            log.log(request.logPrefix, .error, "Couldn't open message UID \(uid): \(error)")
        }
        while !encoder.isComplete, let piece = nextPiece(&reader, uid), !piece.isEmpty {
            try output.write(encoder.encode(piece))
        }
        try output.write(encoder.finish())
    }

    private func nextPiece(_ reader: inout MessageReader?, _ uid: UInt32) -> [UInt8]? {
        do throws(MailboxError) {
            return try reader?.read()
        } catch {
            log.log(request.logPrefix, .error, "Couldn't read message UID \(uid): \(error)")
            return nil
        }
    }
}
