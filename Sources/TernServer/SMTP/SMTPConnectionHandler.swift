import NIOCore
import NIOPosix

/// Starts and stops SMTP sessions for a listener: the session runs as a handler on the connection's event
/// loop, started as soon as the connection is admitted.
enum SMTPConnectionHandler {
    static func sessions(runtime: MTARuntime, service: String) -> TCPListener.Sessions {
        TCPListener.Sessions(
            start: { channel in
                let settings = runtime.settings(service: service)
                let begin: @Sendable (ClientIdentity) -> Void = { client in
                    do {
                        try channel.pipeline.syncOperations.addHandler(
                            SMTPSession(runtime: runtime, settings: settings, client: client))
                    } catch {
                        channel.close(promise: nil)
                    }
                }
                if let client = ClientIdentity.cached(channel.remoteAddress) {
                    begin(client)
                } else {
                    BlockingIO.pool.runIfActive(eventLoop: channel.eventLoop) {
                        ClientIdentity.lookUp(channel.remoteAddress)
                    }.whenComplete { result in
                        guard case .success(let client) = result else { return channel.close(promise: nil) }
                        begin(client)
                    }
                }
            },
            shutdown: { channel in
                runtime.beginShutdown()
                channel.pipeline.fireUserInboundEventTriggered(SMTPSession.Shutdown())
            })
    }
}
