import NIOCore
import ServiceLifecycle
import Synchronization

/// Entry point for an accepted SMTP connection.
enum SMTPConnectionHandler {
    static func serve(_ connection: TCPListener.Connection, runtime: MTARuntime, service: String) async {
        let settings = runtime.settings(service: service)
        let client = await ClientIdentity.resolve(connection.channel.remoteAddress)
        let activity = SessionActivity()
        var session = SMTPSession(
            runtime: runtime, settings: settings, client: client, connection: connection, activity: activity)
        let channel = connection.channel
        await withGracefulShutdownHandler {
            await session.run()
        } onGracefulShutdown: {
            runtime.beginShutdown()
            // An idle session is cut off (as Postfix's master stops smtpd); one receiving a message finishes
            // it and then says 421.
            if !activity.receivingMessage.load(ordering: .relaxed) { channel.close(mode: .all, promise: nil) }
        }
    }
}

/// Whether a session is in the middle of a message, for the shutdown decision above.
final class SessionActivity: Sendable {
    let receivingMessage = Atomic<Bool>(false)
}
