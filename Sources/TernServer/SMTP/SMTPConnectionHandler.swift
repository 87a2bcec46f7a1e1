import NIOCore
import NIOPosix
import TernPolicy

/// Starts and stops SMTP sessions for a listener: the session runs as a handler on the connection's event
/// loop, started as soon as the connection is admitted.
enum SMTPConnectionHandler {
    /// `service` is the master.cf service key (`name/type`); anvil and its log lines use the name.
    static func sessions(runtime: MTARuntime, service: String) -> TCPListener.Sessions {
        let name = String(service[..<(service.lastIndex(of: "/") ?? service.endIndex)])
        return TCPListener.Sessions(
            start: { channel in
                let settings = runtime.settings(service: service)
                let add: @Sendable (ClientIdentity, Bool) -> Void = { client, exempt in
                    let events = ClientEventControl(
                        anvil: runtime.anvil, service: name, client: client, limits: settings.clientLimits,
                        hostname: settings.hostname, exempt: exempt)
                    do {
                        try channel.pipeline.syncOperations.addHandler(
                            SMTPSession(runtime: runtime, settings: settings, client: client, events: events))
                    } catch {
                        channel.close(promise: nil)
                    }
                }
                // smtpd_client_event_limit_exceptions ($mynetworks): a table in it is looked up off the loop.
                let begin: @Sendable (ClientIdentity) -> Void = { client in
                    let exceptions = settings.clientLimits.exceptions
                    if let exempt = exceptions.matchWithoutLookups(name: client.name, address: client.address) {
                        return add(client, exempt)
                    }
                    channel.eventLoop.makeFutureWithLoopTask {
                        (try? await exceptions.contains(name: client.name, address: client.address)) ?? false
                    }.whenSuccess { add(client, $0) }
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
