import Foundation
import Synchronization
import Testing

extension DaemonEndToEnd {
    /// smtpd's restriction lists against a running daemon: access maps, a real policy server on 127.0.0.1,
    /// and access actions that change the queued message.
    @Suite struct Restrictions {
        @Test func accessMapsRejectWithPostfixTexts() throws {
            try TernInstance.with([
                "mynetworks": "127.0.0.0/8",
                "smtpd_client_restrictions": "check_client_access inline:{127.0.0.1=DUNNO}",
                "smtpd_sender_restrictions": "check_sender_access inline:{example.com=REJECT}",
                "smtpd_recipient_restrictions":
                    "check_recipient_access inline:{{closed@virt.test=550 5.7.1 This mailbox is closed}}, permit_auth_destination, reject",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet("client.e2e.test")
                #expect(try client.command("MAIL FROM:<someone@example.com>").code == 250)
                let sender = try client.command("RCPT TO:<alice@virt.test>")
                #expect(sender.last == "5.7.1 <someone@example.com>: Sender address rejected: Access denied", "\(sender)")
                #expect(try client.command("RSET").code == 250)
                #expect(try client.command("MAIL FROM:<friend@client.e2e.test>").code == 250)
                let closed = try client.command("RCPT TO:<closed@virt.test>")
                #expect(closed.code == 550)
                #expect(closed.last == "5.7.1 <closed@virt.test>: Recipient address rejected: This mailbox is closed")
                let remote = try client.command("RCPT TO:<haha@example.org>")
                #expect(remote.last == "5.7.1 <haha@example.org>: Recipient address rejected: Access denied", "\(remote)")
                #expect(try client.command("RCPT TO:<alice@virt.test>").code == 250)
                #expect(try client.command("QUIT").code == 221)
                try instance.waitForLogLine(
                    #"NOQUEUE: reject: RCPT from [^\s\[]+\[127\.0\.0\.1\]: 554 5\.7\.1 <someone@example\.com>: "#
                        + #"Sender address rejected: Access denied; from=<someone@example\.com> to=<alice@virt\.test> "#
                        + #"proto=ESMTP helo=<client\.e2e\.test>$"#)
            }
        }

        @Test func policyServerGreylistsAndIsReused() throws {
            let seen = SeenKeys()
            let server = try PolicyTestServer { request in
                let key = "\(request["sender"] ?? "")/\(request["recipient"] ?? "")"
                let first = seen.keys.withLock { $0.insert(key).inserted }
                return first ? "DEFER_IF_PERMIT 4.2.0 Greylisted, try again" : "DUNNO"
            }
            defer { server.stop() }
            try TernInstance.with([
                "smtpd_recipient_restrictions":
                    "reject_unauth_destination, check_policy_service inet:127.0.0.1:\(server.port), permit_mynetworks",
            ]) { instance in
                for attempt in 0..<2 {
                    let client = try SMTPTestClient(port: instance.port)
                    try client.greet("grey.e2e.test")
                    #expect(try client.command("MAIL FROM:<grey@client.e2e.test> SIZE=123").code == 250)
                    let reply = try client.command("RCPT TO:<alice@virt.test>")
                    if attempt == 0 {
                        #expect(reply.code == 450, "\(reply)")
                        #expect(reply.last == "4.2.0 <alice@virt.test>: Recipient address rejected: Greylisted, try again")
                    } else {
                        #expect(reply.code == 250, "\(reply)")
                    }
                    #expect(try client.command("QUIT").code == 221)
                }
                let request = try #require(server.requests.first)
                #expect(request["request"] == "smtpd_access_policy")
                #expect(request["protocol_state"] == "RCPT")
                #expect(request["protocol_name"] == "ESMTP")
                #expect(request["client_address"] == "127.0.0.1")
                #expect(request["helo_name"] == "grey.e2e.test")
                #expect(request["sender"] == "grey@client.e2e.test")
                #expect(request["recipient"] == "alice@virt.test")
                #expect(request["size"] == "123")
                #expect(request["server_port"] == String(instance.port))
                #expect(request["instance"]?.isEmpty == false)
                // Both sessions went over one kept connection (smtpd_policy_service_max_idle).
                #expect(server.requests.count == 2)
                #expect(server.connections == 1)
            }
        }

        @Test func unreachablePolicyServerUsesTheDefaultAction() throws {
            try TernInstance.with([
                "smtpd_recipient_restrictions": "check_policy_service inet:127.0.0.1:1, permit_mynetworks",
                "smtpd_policy_service_try_limit": "1",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                #expect(try client.command("MAIL FROM:<a@client.e2e.test>").code == 250)
                let reply = try client.command("RCPT TO:<alice@virt.test>")
                #expect(reply.code == 451, "\(reply)")
                #expect(reply.last == "4.3.5 <alice@virt.test>: Recipient address rejected: Server configuration problem")
                try instance.waitForLogLine(#"warning: problem talking to server 127\.0\.0\.1:1: "#)
            }
        }

        @Test func unknownRestrictionIsAServerConfigurationError() throws {
            try TernInstance.with(["smtpd_recipient_restrictions": "permit_mynetworks_typo"]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                #expect(try client.command("MAIL FROM:<a@client.e2e.test>").code == 250)
                let reply = try client.command("RCPT TO:<alice@virt.test>")
                #expect(reply.code == 451 && reply.last == "4.3.5 Server configuration error", "\(reply)")
                try instance.waitForLogLine(#"warning: unknown smtpd restriction: "permit_mynetworks_typo"$"#)
            }
        }

        @Test func holdActionPutsTheMessageOnHold() throws {
            try TernInstance.with([
                "smtpd_sender_restrictions": "check_sender_access inline:{held@client.e2e.test=HOLD}",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "held@client.e2e.test", to: ["alice@virt.test"], content: "Subject: hold\n\nwait\n")
                let id = try #require(end.queueID, "\(end)")
                #expect(try client.command("QUIT").code == 221)
                let listing = try instance.waitUntil("the message on hold") { () -> String? in
                    let text = try instance.mailq()
                    return text.contains("\(id)!") ? text : nil
                }
                #expect(listing.contains("held@client.e2e.test"))
                try instance.waitForLogLine(
                    #"NOQUEUE: hold: RCPT from .*: <held@client\.e2e\.test>: Sender address triggers HOLD action; "#)
            }
        }

        /// PREPEND puts its header above smtpd's Received: line; REDIRECT replaces the recipients; DISCARD
        /// is answered with 250 and nothing is delivered.
        @Test func prependRedirectAndDiscardReachTheMessage() throws {
            try TernInstance.with([
                "smtpd_sender_restrictions":
                    "check_sender_access inline:{{redir@client.e2e.test=REDIRECT bob@virt.test},{gone@client.e2e.test=DISCARD}}",
                "smtpd_recipient_restrictions":
                    "check_recipient_access inline:{{alice@virt.test=PREPEND X-Policy: tagged}}, permit_mynetworks, reject_unauth_destination",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let tagged = try client.sendMail(
                    from: "plain@client.e2e.test", to: ["alice@virt.test"], content: "Subject: tag\n\nprepend-token\n")
                #expect(tagged.queueID != nil, "\(tagged)")
                let redirected = try client.sendMail(
                    from: "redir@client.e2e.test", to: ["alice@virt.test"], content: "Subject: redirect\n\nredirect-token\n")
                #expect(redirected.queueID != nil, "\(redirected)")
                let discarded = try client.sendMail(
                    from: "gone@client.e2e.test", to: ["alice@virt.test"], content: "Subject: gone\n\ndiscard-token\n")
                #expect(discarded.queueID != nil, "\(discarded)")
                #expect(try client.command("QUIT").code == 221)

                let message = try instance.waitForMessage("alice", containing: "prepend-token")
                let policy = try #require(message.content.range(of: "X-Policy: tagged\n"), "\(message.content)")
                let received = try #require(message.content.range(of: "Received: "))
                #expect(policy.lowerBound < received.lowerBound)
                _ = try instance.waitForMessage("bob", containing: "redirect-token")
                #expect(!instance.messages(for: "alice").contains { $0.content.contains("redirect-token") })
                try instance.waitForEmptyQueue()
                #expect(!instance.messages(for: "alice").contains { $0.content.contains("discard-token") })
                #expect(!instance.messages(for: "bob").contains { $0.content.contains("discard-token") })
            }
        }

        @Test func delayRejectNoRefusesAtConnect() throws {
            try TernInstance.with([
                "smtpd_delay_reject": "no",
                "smtpd_client_restrictions": "check_client_access inline:{{127.0.0.1=REJECT Go away}}",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                let greeting = try client.readReply()
                #expect(greeting.code == 554, "\(greeting)")
                #expect(greeting.last.hasSuffix("Client host rejected: Go away"), "\(greeting)")
                let helo = try client.command("EHLO client.e2e.test")
                #expect(helo.code == 503 && helo.last.hasPrefix("5.7.0 Error: access denied for "), "\(helo)")
                #expect(try client.command("QUIT").code == 221)
            }
        }
    }
}

/// The greylisting triplets a test policy server has seen.
final class SeenKeys: Sendable {
    let keys = Mutex<Set<String>>([])
}
