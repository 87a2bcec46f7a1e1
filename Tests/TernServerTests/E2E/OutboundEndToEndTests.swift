import Foundation
import Testing

/// A next hop on 127.0.0.1: accepts one connection at a time, answers RCPT with `rcptReply`, records what
/// it was given. Blocking sockets on a thread of its own; every read has a timeout.
final class SMTPSink: @unchecked Sendable {
    struct Received {
        var helo = ""
        var sender = ""
        var recipients: [String] = []
        var data = ""
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var received: [Received] = []
    private let rcptReply: String
    private let lmtp: Bool
    /// How a connection-caching test wants the server to misbehave on a kept connection.
    enum Hangup {
        case never
        /// Closes without a reply when RSET arrives (the client reuses a connection the server gave up on).
        case atRSET
        /// Closes right after accepting a message (a kept connection dies while idle).
        case afterMessage
    }
    private var hangup = Hangup.never
    /// Serve each connection on its own thread (a kept connection does not hold up the others).
    private var concurrent = false
    /// Seconds to wait before accepting each message (deliveries then overlap).
    private var dataReplyDelay = 0.0
    private var accepted = 0
    /// Connections accepted so far.
    var connections: Int { lock.withLock { accepted } }

    /// An LMTP server on a UNIX-domain socket at `path` (LHLO, one reply per recipient after the content).
    init(lmtpSocket path: String) throws {
        rcptReply = "250 2.1.5 Ok"
        lmtp = true
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        _ = withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.utf8CString.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count - 1))) }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        chmod(path, 0o666)
        listener = fd
        port = 0
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    init(
        rcptReply: String = "250 2.1.5 Ok", concurrent: Bool = false, hangup: Hangup = .never, dataReplyDelay: Double = 0
    ) throws {
        self.rcptReply = rcptReply
        self.concurrent = concurrent
        self.hangup = hangup
        self.dataReplyDelay = dataReplyDelay
        lmtp = false
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// Wakes the accepting thread (accept fails) and ends it.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    var messages: [Received] { lock.withLock { received } }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            lock.withLock { accepted += 1 }
            if concurrent {
                Thread { [self] in
                    converse(connection)
                    close(connection)
                }.start()
                continue
            }
            converse(connection)
            close(connection)
        }
    }

    private func converse(_ fd: Int32) {
        var buffer: [UInt8] = []
        func send(_ text: String) { _ = Array((text + "\r\n").utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        func line() -> String? {
            while true {
                if let newline = buffer.firstIndex(of: 0x0A) {
                    let text = String(decoding: buffer[..<newline], as: UTF8.self)
                    buffer.removeSubrange(...newline)
                    return text.hasSuffix("\r") ? String(text.dropLast()) : text
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return nil }
                buffer += chunk[..<n]
            }
        }
        var current = Received()
        send("220 sink.test ESMTP")
        while let command = line() {
            let verb = command.prefix(4).uppercased()
            switch verb {
            case "EHLO", "LHLO":
                current.helo = String(command.dropFirst(5))
                send("250-sink.test\r\n250-PIPELINING\r\n250 8BITMIME")
            case "MAIL":
                current.sender = String(command.split(separator: "<").last?.split(separator: ">").first ?? "")
                send("250 2.1.0 Ok")
            case "RCPT":
                current.recipients.append(String(command.split(separator: "<").last?.split(separator: ">").first ?? ""))
                send(rcptReply)
            case "DATA":
                send("354 go ahead")
                while let data = line(), data != "." { current.data += data + "\n" }
                if dataReplyDelay > 0 { Thread.sleep(forTimeInterval: dataReplyDelay) }
                lock.withLock { received.append(current) }
                if lmtp {
                    for recipient in current.recipients { send("250 2.0.0 <\(recipient)> Saved") }
                } else {
                    send("250 2.0.0 Ok: queued as SINK1")
                }
                current = Received()
                if hangup == .afterMessage { return }
            case "QUIT":
                send("221 2.0.0 Bye")
                return
            case "RSET":
                if hangup == .atRSET { return }
                send("250 2.0.0 Ok")
            default:
                send("250 Ok")
            }
        }
    }
}

extension DaemonEndToEnd {
    /// The smtp client: relayhost on a loopback sink, and a non-delivery report when it refuses.
    @Suite struct Outbound {
        @Test func relayhostGetsTheMessageAndTheLogSaysSent() throws {
            let sink = try SMTPSink()
            defer { sink.stop() }
            try TernInstance.with(["relayhost": "[127.0.0.1]:\(sink.port)"]) { instance in
                let token = "out-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "alice@virt.test", to: ["far@remote.example"], content: "Subject: \(token)\n\n.dot line\nbody\n")
                #expect(end.code == 250, "\(end)")
                #expect(try client.command("QUIT").code == 221)
                let message = try instance.waitUntil("the sink got the message") {
                    sink.messages.first { $0.data.contains(token) }
                }
                #expect(message.sender == "alice@virt.test")
                #expect(message.recipients == ["far@remote.example"])
                #expect(message.helo == TernInstance.hostname)
                #expect(message.data.contains("\n..dot line\n"), "dot-stuffed on the wire")
                try instance.waitForLogLine(
                    #"postfix/smtp\[\d+\]: [0-9A-F]+: to=<far@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, "#
                        + #"delay=[\d.]+, delays=[\d./]+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as SINK1\)$"#)
            }
        }

        @Test func refusedRecipientComesBackAsANonDeliveryReport() throws {
            let sink = try SMTPSink(rcptReply: "550 5.1.1 <nobody@remote.example>: no such user")
            defer { sink.stop() }
            try TernInstance.with(["relayhost": "[127.0.0.1]:\(sink.port)"]) { instance in
                let token = "ndr-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "alice@virt.test", to: ["nobody@remote.example"],
                    content: "Subject: \(token)\nMessage-ID: <\(token)@virt.test>\n\noriginal\n")
                #expect(end.code == 250, "\(end)")
                #expect(try client.command("QUIT").code == 221)
                let report = try instance.waitForMessage("alice", containing: "Undelivered Mail Returned to Sender")
                #expect(report.content.hasPrefix("Return-Path: <>\n"), "\(report.content.prefix(200))")
                #expect(report.content.contains("report-type=delivery-status"))
                #expect(report.content.contains("Final-Recipient: rfc822; nobody@remote.example"))
                #expect(report.content.contains("Action: failed\nStatus: 5.1.1\n"))
                #expect(report.content.contains("Message-ID: <\(token)@virt.test>"), "the original is returned")
                try instance.waitForLogLine(#"postfix/bounce\[\d+\]: [0-9A-F]+: sender non-delivery notification: [0-9A-F]+$"#)
                try instance.waitForLogLine(
                    #"status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 <nobody@remote\.example>: no such user \(in reply to RCPT TO command\)\)$"#)
            }
        }

        /// defer_transports holds remote mail until `postfix flush`, which then sends all of it.
        @Test func flushSendsEveryMessageHeldByDeferTransports() throws {
            let sink = try SMTPSink()
            defer { sink.stop() }
            try TernInstance.with(["relayhost": "[127.0.0.1]:\(sink.port)", "defer_transports": "smtp"]) { instance in
                let token = "flush-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                for n in 1...3 {
                    let end = try client.sendMail(
                        from: "alice@virt.test", to: ["far\(n)@remote.example"], content: "Subject: \(token) \(n)\n\nx\n")
                    #expect(end.code == 250, "\(end)")
                }
                #expect(try client.command("QUIT").code == 221)
                _ = try instance.waitUntil("three messages deferred") { () -> Bool? in
                    let text = try instance.mailq()
                    return text.components(separatedBy: "(deferred transport)").count - 1 == 3 ? true : nil
                }
                #expect(sink.messages.isEmpty)
                let flush = try instance.tern(["postfix", "-c", instance.configDirectory, "flush"])
                #expect(flush.status == 0, "\(flush)")
                _ = try instance.waitUntil("the sink got all three") { () -> Bool? in
                    sink.messages.filter { $0.data.contains(token) }.count == 3 ? true : nil
                }
                _ = try instance.waitUntil("an empty queue") { () -> Bool? in
                    try instance.mailq().contains("Mail queue is empty") ? true : nil
                }
            }
        }

        /// virtual_transport = lmtp:unix:PATH, the usual hand-over to Dovecot: one LMTP transaction for
        /// both recipients over a UNIX-domain socket, a reply for each.
        @Test func virtualMailGoesToAnLMTPSocket() throws {
            let path = "/tmp/tern-lmtp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let sink = try SMTPSink(lmtpSocket: path)
            defer {
                sink.stop()
                unlink(path)
            }
            try TernInstance.with(["virtual_transport": "lmtp:unix:\(path)"]) { instance in
                let token = "lmtp-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "sender@remote.example", to: ["alice@virt.test", "bob@virt.test"],
                    content: "Subject: \(token)\n\nx\n")
                #expect(end.code == 250, "\(end)")
                #expect(try client.command("QUIT").code == 221)
                let message = try instance.waitUntil("the LMTP server got the message") {
                    sink.messages.first { $0.data.contains(token) }
                }
                #expect(message.recipients == ["alice@virt.test", "bob@virt.test"])
                try instance.waitForLogLine(
                    #"postfix/lmtp\[\d+\]: [0-9A-F]+: to=<bob@virt\.test>, relay=[^ ]+\[/tmp/tern-lmtp-[^\]]+\], "#
                        + #".* status=sent \(250 2\.0\.0 <bob@virt\.test> Saved\)$"#)
            }
        }

        /// NOTIFY=SUCCESS on a locally delivered recipient: the sender gets a success notice.
        @Test func notifySuccessSendsADeliveryReport() throws {
            try TernInstance.with { instance in
                let token = "dsn-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                #expect(try client.command("MAIL FROM:<bob@virt.test> RET=HDRS ENVID=\(token)").code == 250)
                #expect(try client.command("RCPT TO:<alice@virt.test> NOTIFY=SUCCESS,FAILURE").code == 250)
                #expect(try client.command("DATA").code == 354)
                #expect(try client.sendContent("Subject: \(token)\n\nhello\n").code == 250)
                #expect(try client.command("QUIT").code == 221)
                _ = try instance.waitForMessage("alice", containing: token)
                let report = try instance.waitForMessage("bob", containing: "Successful Mail Delivery Report")
                #expect(report.content.contains("Original-Envelope-Id: \(token)"))
                #expect(report.content.contains("Final-Recipient: rfc822; alice@virt.test\nAction: delivered\nStatus: 2.0.0"))
                #expect(report.content.contains("Content-Type: text/rfc822-headers"))
                try instance.waitForLogLine(#"postfix/bounce\[\d+\]: [0-9A-F]+: sender delivery status notification: [0-9A-F]+$"#)
            }
        }

        /// smtp_destination_recipient_limit splits a message's recipients for one next hop into transactions.
        @Test func recipientLimitSplitsTransactions() throws {
            let sink = try SMTPSink()
            defer { sink.stop() }
            try TernInstance.with(
                ["relayhost": "[127.0.0.1]:\(sink.port)", "smtp_destination_recipient_limit": "2"]
            ) { instance in
                let token = "limit-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "alice@virt.test", to: ["r1@remote.example", "r2@remote.example", "r3@remote.example"],
                    content: "Subject: \(token)\n\nx\n")
                #expect(end.code == 250, "\(end)")
                #expect(try client.command("QUIT").code == 221)
                let transactions = try instance.waitUntil("two transactions at the sink") { () -> [SMTPSink.Received]? in
                    let got = sink.messages.filter { $0.data.contains(token) }
                    return got.count == 2 ? got : nil
                }
                #expect(transactions.map(\.recipients) == [["r1@remote.example", "r2@remote.example"], ["r3@remote.example"]])
            }
        }

        /// `sendmail` and `sendmail -bs` submit through maildrop; pickup queues, local delivery delivers.
        @Test func sendmailAndSendmailBsSubmitThroughPickup() throws {
            try TernInstance.with { instance in
                let token = "sendmail-\(UUID().uuidString)"
                let plain = try instance.tern(
                    ["sendmail", "-f", "bob@virt.test", "alice@virt.test"], input: "Subject: \(token) plain\n\nbody\n")
                #expect(plain.status == 0, "\(plain)")
                let smtp = try instance.tern(
                    ["sendmail", "-bs"],
                    input: "EHLO local\r\nMAIL FROM:<bob@virt.test>\r\nRCPT TO:<alice@virt.test>\r\nDATA\r\n"
                        + "Subject: \(token) bs\r\n\r\n..dot\r\n.\r\nQUIT\r\n")
                #expect(smtp.status == 0, "\(smtp)")
                #expect(smtp.stdout.contains("250 2.0.0 Ok: queued as "), "\(smtp.stdout)")
                #expect(smtp.stdout.hasSuffix("221 2.0.0 Bye\r\n"), "\(smtp.stdout)")
                let first = try instance.waitForMessage("alice", containing: "\(token) plain")
                #expect(first.content.hasPrefix("Return-Path: <bob@virt.test>\n"))
                let second = try instance.waitForMessage("alice", containing: "\(token) bs")
                #expect(second.content.hasSuffix("\n\n.dot\n"), "\(second.content)")
                try instance.waitForLogLine(#"postfix/pickup\[\d+\]: [0-9A-F]+: uid=\d+ from=<bob@virt\.test>$"#)
            }
        }
    }
}
