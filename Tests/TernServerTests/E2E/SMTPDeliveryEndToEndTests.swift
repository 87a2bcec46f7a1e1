import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// SMTP in, virtual(8) Maildir delivery out, and the mail log lines between, over a real socket.
    @Suite struct SMTPDelivery {
        @Test func fullTransactionIsDeliveredToVirtualMaildir() throws {
            try TernInstance.with { instance in
                let token = "full-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                let banner = try client.readReply()
                #expect(banner.code == 220)
                #expect(banner.last.hasPrefix("\(TernInstance.hostname) ESMTP"), "\(banner)")
                let ehlo = try client.command("EHLO client.e2e.test")
                #expect(ehlo.code == 250)
                #expect(ehlo.lines.first?.hasPrefix(TernInstance.hostname) == true, "\(ehlo)")
                #expect(ehlo.lines.contains("PIPELINING"), "\(ehlo)")
                #expect(ehlo.lines.contains { $0.hasPrefix("SIZE") }, "\(ehlo)")
                #expect(try client.command("MAIL FROM:<sender@remote.example>").code == 250)
                #expect(try client.command("RCPT TO:<alice@virt.test>").code == 250)
                let data = try client.command("DATA")
                #expect(data.code == 354, "\(data)")
                let content = """
                    From: Sender <sender@remote.example>
                    To: Alice <alice@virt.test>
                    Subject: e2e \(token)
                    Message-ID: <\(token)@remote.example>

                    body line with \(token)
                    .a line that starts with a dot
                    last line
                    """
                let end = try client.sendContent(content)
                #expect(end.code == 250, "\(end)")
                #expect(end.last.hasPrefix("2.0.0 Ok: queued as "), "\(end)")
                let queueID = try #require(end.queueID)
                let quit = try client.command("QUIT")
                #expect(quit.code == 221, "\(quit)")
                #expect(client.waitForClose())

                let message = try instance.waitForMessage("alice", containing: token)
                let lines = message.content.components(separatedBy: "\n")
                // virtual(8) prepends Return-Path, Delivered-To (the recipient) and X-Original-To.
                #expect(lines.first == "Return-Path: <sender@remote.example>", "\(lines.prefix(5))")
                #expect(lines.contains("Delivered-To: alice@virt.test"), "\(lines.prefix(8))")
                #expect(lines.contains("X-Original-To: alice@virt.test"), "\(lines.prefix(8))")
                let header = message.content.components(separatedBy: "\n\n").first ?? ""
                #expect(header.contains("Received: from client.e2e.test"), "\(header)")
                #expect(header.contains("by \(TernInstance.hostname)"), "\(header)")
                #expect(header.contains(queueID), "Received: should name the queue ID \(queueID): \(header)")
                #expect(header.contains("for <alice@virt.test>"), "\(header)")
                #expect(lines.contains("Subject: e2e \(token)"))
                #expect(lines.contains("Message-ID: <\(token)@remote.example>"))
                // The body arrives dot-unstuffed, with LF line ends in the Maildir file.
                #expect(lines.contains(".a line that starts with a dot"), "\(message.content)")
                #expect(!message.content.contains("\r"), "Maildir files use LF line ends")
                #expect(message.content.hasSuffix("last line\n"), "\(message.content)")
                #expect(message.path.contains("/new/"), "\(message.path)")
                #expect(instance.messages(for: "alice").count == 1)
                #expect(instance.messages(for: "bob").isEmpty)

                let owner = try #require(
                    FileManager.default.attributesOfItem(atPath: message.path)[.ownerAccountID] as? NSNumber)
                #expect(
                    owner.uint32Value == TernInstance.virtualOwner().uid,
                    "the Maildir file belongs to the virtual_uid_maps user")
                try instance.waitForEmptyQueue()
            }
        }

        /// RFC 2920: the client sends MAIL, RCPT... and DATA in one packet; the server answers each in order.
        /// An unknown recipient in the group is rejected without spoiling the others.
        @Test func pipelinedCommandsAreAnsweredInOrder() throws {
            try TernInstance.with { instance in
                let token = "pipe-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                let ehlo = try client.greet()
                #expect(ehlo.lines.contains("PIPELINING"))
                try client.send(
                    "MAIL FROM:<pipe@remote.example>\r\nRCPT TO:<alice@virt.test>\r\n"
                        + "RCPT TO:<nosuchuser@virt.test>\r\nRCPT TO:<bob@virt.test>\r\nDATA\r\n")
                let replies = try (0..<5).map { _ in try client.readReply() }
                #expect(replies.map(\.code) == [250, 250, 550, 250, 354], "\(replies)")
                #expect(replies[2].last.contains("5.1.1"), "\(replies[2])")
                #expect(replies[2].last.contains("<nosuchuser@virt.test>"), "\(replies[2])")
                // Content, end of data, a second whole transaction and QUIT, all in one write.
                let content = SMTPTestClient.encodeContent("Subject: \(token) one\n\nfirst \(token)\n")
                let second = SMTPTestClient.encodeContent("Subject: \(token) two\n\nsecond \(token)\n")
                try client.send(content + "RSET\r\nMAIL FROM:<pipe@remote.example>\r\nRCPT TO:<bob@virt.test>\r\n")
                let firstEnd = try client.readReply()
                let more = try (0..<3).map { _ in try client.readReply() }
                #expect(firstEnd.queueID != nil, "\(firstEnd)")
                #expect(more.map(\.code) == [250, 250, 250], "\(more)")
                let data = try client.command("DATA")
                #expect(data.code == 354)
                try client.send(second + "QUIT\r\n")
                let secondEnd = try client.readReply()
                let quit = try client.readReply()
                #expect(secondEnd.queueID != nil, "\(secondEnd)")
                #expect(secondEnd.queueID != firstEnd.queueID)
                #expect(quit.code == 221)

                let alice = try instance.waitForMessage("alice", containing: "first \(token)")
                _ = try instance.waitForMessage("bob", containing: "first \(token)")
                _ = try instance.waitForMessage("bob", containing: "second \(token)")
                try instance.waitForEmptyQueue()
                #expect(instance.messages(for: "alice").count == 1)
                #expect(instance.messages(for: "bob").count == 2)
                #expect(!alice.content.contains("second \(token)"))
                let log = instance.maillog()
                #expect(log.contains("nrcpt=2 (queue active)"), "two accepted recipients for the first message")
            }
        }

        /// An unknown local user is rejected at RCPT time (local_recipient_maps = the passwd database; no root
        /// needed to look it up).
        @Test func unknownLocalUserIsRejected() throws {
            try TernInstance.with { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                #expect(try client.command("MAIL FROM:<sender@remote.example>").code == 250)
                let reply = try client.command("RCPT TO:<no-such-user-e2e@\(TernInstance.hostname)>")
                #expect(reply.code == 550, "\(reply)")
                #expect(reply.last.contains("5.1.1"), "\(reply)")
                #expect(reply.last.contains("User unknown in local recipient table"), "\(reply)")
            }
        }

        /// virtual(8) refuses gid 0 (and a uid below virtual_minimum_uid): the mail is deferred with
        /// "mail system configuration error" and, as in Postfix, a warning names the cause.
        @Test func badVirtualGidDefersWithWarning() throws {
            try TernInstance.with(["virtual_gid_maps": "static:0"]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "sender@remote.example", to: ["alice@virt.test"], content: "Subject: gid\n\nbad gid\n")
                let id = try #require(end.queueID, "\(end)")
                try instance.waitForLogLine(
                    #"postfix/virtual\[\d+\]: \#(id): to=<alice@virt\.test>, relay=virtual, .*dsn=4\.3\.5, "#
                        + #"status=deferred \(mail system configuration error\)$"#)
                #expect(instance.messages(for: "alice").isEmpty)
                let warning = try NSRegularExpression(
                    pattern: #"postfix/virtual\[\d+\]: warning: recipient alice@virt\.test: bad gid 0 in "#)
                #expect(
                    !TernInstance.lines(of: instance.maillog(), matching: warning).isEmpty,
                    "no warning about the bad gid:\n\(instance.maillog())")
                #expect(try instance.mailq().contains("(mail system configuration error)"))
            }
        }

        /// The Postfix log lines pflogsumm and admins grep for, for one message, in their order.
        @Test func mailLogHasPostfixLinesForOneMessage() throws {
            try TernInstance.with { instance in
                let token = "log-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet("logclient.e2e.test")
                let end = try client.sendMail(
                    from: "logger@remote.example", to: ["alice@virt.test"],
                    content: "Message-ID: <\(token)@remote.example>\nSubject: log\n\n\(token)\n")
                let id = try #require(end.queueID, "\(end)")
                #expect(try client.command("QUIT").code == 221)
                client.close()
                _ = try instance.waitForMessage("alice", containing: token)
                try instance.waitForLogLine(#"postfix/qmgr\[\d+\]: \#(id): removed$"#)
                try instance.waitForLogLine(#"postfix/smtpd\[\d+\]: disconnect from "#)

                let log = instance.maillog()
                let prefix = #"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d mail "#
                let client_ = #"[^\s\[]+\[127\.0\.0\.1\]"#
                let expected: [(String, String)] = [
                    ("connect", #"postfix/smtpd\[\d+\]: connect from \#(client_)$"#),
                    ("client=", #"postfix/smtpd\[\d+\]: \#(id): client=\#(client_)$"#),
                    ("message-id", #"postfix/cleanup\[\d+\]: \#(id): message-id=<\#(token)@remote\.example>$"#),
                    (
                        "from=",
                        #"postfix/qmgr\[\d+\]: \#(id): from=<logger@remote\.example>, size=\d+, "#
                            + #"nrcpt=1 \(queue active\)$"#
                    ),
                    (
                        "to=",
                        #"postfix/virtual\[\d+\]: \#(id): to=<alice@virt\.test>, relay=virtual, delay=[\d.]+, "#
                            + #"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, status=sent \(delivered to maildir\)$"#
                    ),
                    ("removed", #"postfix/qmgr\[\d+\]: \#(id): removed$"#),
                ]
                var lastIndex = -1
                let lines = log.split(separator: "\n").map(String.init)
                for (name, pattern) in expected {
                    let regex = try NSRegularExpression(pattern: prefix + pattern)
                    let index = lines.firstIndex {
                        regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil
                    }
                    #expect(index != nil, "no \(name) line matching /\(pattern)/ in:\n\(log)")
                    if let index {
                        #expect(index > lastIndex, "\(name) line out of order in:\n\(log)")
                        lastIndex = index
                    }
                }
                let disconnect = try NSRegularExpression(
                    pattern: prefix
                        + #"postfix/smtpd\[\d+\]: disconnect from \#(client_) "#
                        + #"ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5$"#)
                #expect(!TernInstance.lines(of: log, matching: disconnect).isEmpty, "\(log)")
                // Same smtpd pid on connect, client= and disconnect (one session).
                let pids = try NSRegularExpression(pattern: #"postfix/smtpd\[(\d+)\]"#)
                let smtpdPids = Set(
                    lines.compactMap { line -> String? in
                        guard let match = pids.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                            let range = Range(match.range(at: 1), in: line)
                        else { return nil }
                        return String(line[range])
                    })
                #expect(smtpdPids.count == 1, "\(smtpdPids)")
                #expect(!log.contains("warning:"), "unexpected warnings:\n\(log)")
            }
        }
    }
}
