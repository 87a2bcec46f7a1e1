import TernMailbox
import TernPOP3

/// The POP3 transaction state in the session worker: the maildrop is INBOX as it was at login; QUIT
/// expunges what DELE marked. Logs Dovecot's `Disconnected: Logged out top=.., retr=.., del=.., size=..`.
struct POP3MailSession {
    let request: MailSessionRequest
    let store: MailStore
    let uidlFormat: String
    let log: DovecotLog

    /// Bytes of a command line Dovecot accepts before `-ERR Input buffer full, aborting`.
    static let maxLineLength = 8192

    func run(_ socket: inout SessionSocket, idleTimeout: Int32) {
        var session = POP3Session(
            configuration: .init(greeting: "", mechanisms: [], tlsAvailable: false, plaintextAllowed: true))
        var reason = "Connection closed"
        do throws(SessionSocket.Failure) {
            guard case .success(let (mailbox, uids, maildrop)) = openMaildrop() else {
                _ = try perform(session.maildropFailed(), &socket, nil, [])
                return
            }
            _ = session.loginSucceeded(user: request.user)
            _ = try perform(session.maildropOpened(maildrop), &socket, mailbox, uids)
            var buffer: [UInt8] = []
            loop: while true {
                guard let bytes = try socket.read(timeout: idleTimeout) else {
                    reason = "Disconnected for inactivity"
                    try? socket.write("-ERR Disconnected for inactivity.\r\n")
                    break
                }
                buffer += bytes
                while let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    var line = buffer[..<end]
                    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                    buffer.removeSubrange(...end)
                    let actions = session.received(line: String(decoding: line, as: UTF8.self))
                    if try perform(actions, &socket, mailbox, uids) {
                        reason = "Logged out"
                        break loop
                    }
                }
                if buffer.count > Self.maxLineLength {
                    try socket.write("-ERR Input buffer full, aborting\r\n")
                    reason = "Input buffer full"
                    break
                }
            }
        } catch {
            reason = "Connection closed"
        }
        let s = session.statistics
        log.info(
            request.logPrefix,
            "Disconnected: \(reason) top=\(s.topCount)/\(s.topBytes), retr=\(s.retrCount)/\(s.retrBytes), "
                + "del=\(s.deletedCount)/\(s.messageCount), size=\(s.totalSize)")
    }

    private func openMaildrop() -> Result<(MaildirMailbox, [UInt32], POP3Session.Maildrop), MailboxError> {
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
    private func perform(
        _ actions: [POP3Session.Action], _ socket: inout SessionSocket, _ mailbox: MaildirMailbox?, _ uids: [UInt32]
    ) throws(SessionSocket.Failure) -> Bool {
        var failedCommit = false
        for action in actions {
            switch action {
            case .send(let text):
                if failedCommit && text.hasPrefix("+OK") { continue }
                try socket.write(text)
            case .sendMessage(let index, let bodyLines):
                guard let mailbox else { continue }
                try sendMessage(uids[index], bodyLines: bodyLines, mailbox, &socket)
            case .commit(let deleted):
                do throws(MailboxError) {
                    _ = try mailbox?.expunge(uids: deleted.map { uids[$0] })
                } catch {
                    log.log(request.logPrefix, .error, "Couldn't delete messages: \(error)")
                    try socket.write(POP3Session.commitFailedReply)
                    failedCommit = true
                }
            case .close:
                return true
            case .checkPassword, .startSASL, .continueSASL, .abortSASL, .startTLS, .openMaildrop:
                continue  // login-side actions: the worker starts after them
            }
        }
        return false
    }

    private func sendMessage(
        _ uid: UInt32, bodyLines: Int?, _ mailbox: MaildirMailbox, _ socket: inout SessionSocket
    ) throws(SessionSocket.Failure) {
        var encoder = POP3MessageEncoder(bodyLines: bodyLines)
        var reader: MessageReader?
        do throws(MailboxError) {
            reader = try mailbox.openMessage(uid: uid)
        } catch {
            log.log(request.logPrefix, .error, "Couldn't open message UID \(uid): \(error)")
        }
        while !encoder.isComplete, let piece = nextPiece(&reader, uid), !piece.isEmpty {
            try socket.write(encoder.encode(piece))
        }
        try socket.write(encoder.finish())
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
