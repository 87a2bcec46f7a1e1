import Foundation
import Testing

extension DaemonEndToEnd {
    /// smtp(8)'s connection cache: deliveries to a busy next hop share connections, and a cached connection
    /// that died is replaced by a new one without losing or repeating a message.
    @Suite struct ConnectionCache {
        /// Sends `count` messages through one SMTP session and waits until the sink has each exactly once; with
        /// `waves`, in that many groups, each sent when the sink has the one before.
        private func relay(_ count: Int, waves: Int = 1, through instance: TernInstance, sink: SMTPSink) throws -> String {
            let token = "cache-\(UUID().uuidString)"
            let client = try SMTPTestClient(port: instance.port)
            try client.greet()
            for n in 1...count {
                let end = try client.sendMail(
                    from: "alice@virt.test", to: ["far\(n)@remote.example"], content: "Subject: \(token) #\(n)#\n\nbody\n")
                #expect(end.code == 250, "\(end)")
                if n % (count / waves) == 0 && n < count {
                    _ = try instance.waitUntil("the sink got \(n) messages") { () -> Bool? in
                        sink.messages.filter { $0.data.contains(token) }.count >= n ? true : nil
                    }
                }
            }
            #expect(try client.command("QUIT").code == 221)
            _ = try instance.waitUntil("the sink got all \(count) messages") { () -> Bool? in
                sink.messages.filter { $0.data.contains(token) }.count >= count ? true : nil
            }
            try instance.waitForEmptyQueue()
            let got = sink.messages.filter { $0.data.contains(token) }
            for n in 1...count {
                #expect(got.filter { $0.data.contains("\(token) #\(n)#") }.count == 1, "message \(n) exactly once")
            }
            return token
        }

        /// smtp_connection_cache_on_demand (the default): deliveries to a next hop that has others running
        /// keep their connections, and the next messages reuse them (`conn_use=N`, each reuse starting with RSET).
        @Test func concurrentDeliveriesLeaveConnectionsForTheNextMessages() throws {
            let sink = try SMTPSink(concurrent: true, dataReplyDelay: 0.3)
            defer { sink.stop() }
            try TernInstance.with(["relayhost": "[127.0.0.1]:\(sink.port)"]) { instance in
                let count = 6
                _ = try relay(count, waves: 2, through: instance, sink: sink)
                #expect(sink.connections < count, "\(sink.connections) connections for \(count) messages")
                let line = try instance.waitForLogLine(
                    #"postfix/smtp\[\d+\]: [0-9A-F]+: to=<far\d@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, "#
                        + #"conn_use=[2-9], delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, status=sent "#)
                #expect(line.contains("status=sent (250 2.0.0 Ok: queued as SINK1)"))
                #expect(!instance.maillog().contains("status=deferred"))
            }
        }

        /// A cached connection the server closed while it was parked, or drops at the RSET that starts its
        /// reuse, is replaced by a new connection: every message arrives once, none is deferred.
        @Test(arguments: [SMTPSink.Hangup.atRSET, .afterMessage])
        func aDeadCachedConnectionFallsBackToANewOne(hangup: SMTPSink.Hangup) throws {
            let sink = try SMTPSink(concurrent: true, hangup: hangup)
            defer { sink.stop() }
            try TernInstance.with([
                "relayhost": "[127.0.0.1]:\(sink.port)",
                "smtp_connection_cache_destinations": "127.0.0.1",
            ]) { instance in
                let count = 4
                _ = try relay(count, waves: count, through: instance, sink: sink)
                #expect(sink.connections >= count, "no connection carried two messages")
                let log = instance.maillog()
                #expect(!log.contains("status=deferred"), "\(log)")
                #expect(!log.contains("conn_use="), "\(log)")
            }
        }

        /// smtp_connection_reuse_count_limit = 1: a connection carries at most two deliveries (one after the
        /// other, each message sent when the sink has the one before).
        @Test func reuseCountLimitBoundsTheUsesOfAConnection() throws {
            let sink = try SMTPSink(concurrent: true)
            defer { sink.stop() }
            try TernInstance.with([
                "relayhost": "[127.0.0.1]:\(sink.port)",
                "smtp_connection_cache_destinations": "127.0.0.1",
                "smtp_connection_reuse_count_limit": "1",
            ]) { instance in
                _ = try relay(6, waves: 6, through: instance, sink: sink)
                let log = instance.maillog()
                #expect(log.contains("conn_use=2"), "\(log)")
                #expect(!log.contains("conn_use=3"), "\(log)")
                #expect(sink.connections == 3, "two messages a connection")
            }
        }
    }
}
