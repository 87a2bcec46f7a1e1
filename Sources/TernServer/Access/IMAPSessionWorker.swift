import TernIMAP
import TernMailbox

/// The IMAP half of the mail session worker: IMAPMailSession over the socket, re-scanning the mailbox every
/// few seconds while the client idles, logging out idle clients after 30 minutes (Dovecot's autologout).
struct IMAPSessionWorker {
    let request: MailSessionRequest
    let store: MailStore
    let log: DovecotLog

    static let idlePollMilliseconds: Int32 = 1000
    static let autologoutMilliseconds = 30 * 60 * 1000

    func run(_ socket: inout SessionSocket) {
        let session = IMAPMailSession(store: store, configuration: .init(user: request.user))
        var reason = "Connection closed"
        var quiet = 0
        do throws(SessionSocket.Failure) {
            try socket.write(session.loggedIn(tag: request.tag ?? "*"))
            while true {
                let timeout = session.isIdling ? Self.idlePollMilliseconds : Self.idlePollMilliseconds * 5
                guard let bytes = try socket.read(timeout: timeout) else {
                    quiet += Int(timeout)
                    if quiet >= Self.autologoutMilliseconds {
                        try socket.write("* BYE Disconnected for inactivity.\r\n")
                        reason = "Disconnected for inactivity"
                        break
                    }
                    try socket.write(session.poll())
                    continue
                }
                quiet = 0
                let output = session.receive(bytes)
                try socket.write(output.bytes)
                if output.close {
                    reason = "Logged out"
                    break
                }
            }
        } catch {
            reason = "Connection closed"
        }
        log.info(request.logPrefix, "Disconnected: \(reason) \(session.statistics.logoutText)")
    }
}
