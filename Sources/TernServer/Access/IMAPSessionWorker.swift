import TernIMAP
import TernMailbox

/// The IMAP half of the mail session worker: IMAPMailSession over the session's channel, re-scanning the
/// mailbox every second while the client idles (every five otherwise), logging out clients quiet for 30
/// minutes (Dovecot's autologout).
///
/// `@unchecked Sendable`: MailSessionChannelHandler runs one step at a time, each on some pool thread.
final class IMAPSessionWorker: MailProtocolSession, @unchecked Sendable {
    let request: MailSessionRequest
    let log: DovecotLog
    private let session: IMAPMailSession
    private var reason: String?

    static let idlePollMilliseconds = 1000
    static let autologoutMilliseconds = 30 * 60 * 1000

    init(request: MailSessionRequest, store: MailStore, log: DovecotLog) {
        self.request = request
        self.log = log
        session = IMAPMailSession(store: store, configuration: .init(user: request.user))
    }

    var tickMilliseconds: Int { session.isIdling ? Self.idlePollMilliseconds : Self.idlePollMilliseconds * 5 }

    func start(_ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        try output.write(session.loggedIn(tag: request.tag ?? "*"))
        return false
    }

    func receive(_ bytes: [UInt8], _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        let answer = session.receive(bytes)
        try output.write(answer.bytes)
        if answer.close { reason = "Logged out" }
        return answer.close
    }

    func tick(quietMilliseconds: Int, _ output: SessionOutput) throws(SessionOutput.Closed) -> Bool {
        if quietMilliseconds >= Self.autologoutMilliseconds {
            try output.write("* BYE Disconnected for inactivity.\r\n")
            reason = "Disconnected for inactivity"
            return true
        }
        try output.write(session.poll())
        return false
    }

    func finish(clientClosed: Bool) {
        log.info(request.logPrefix, "Disconnected: \(reason ?? "Connection closed") \(session.statistics.logoutText)")
    }
}
