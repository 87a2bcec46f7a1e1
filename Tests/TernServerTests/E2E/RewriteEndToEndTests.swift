import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// cleanup's address rewriting: canonical maps, masquerading and virtual alias expansion, for mail from
    /// SMTP (the test client is a local_header_rewrite_client: it connects from inet_interfaces) and from
    /// `sendmail` through pickup.
    @Suite struct AddressRewriting {
        /// Runs an instance relaying to a sink with `parameters`, sends one message (its Subject: carries a
        /// token) over SMTP, and returns the instance and what the sink got.
        func relay(
            _ parameters: [String: String], from sender: String, to recipients: [String], headers: String,
            then check: (TernInstance, SMTPSink.Received) throws -> Void
        ) throws {
            let sink = try SMTPSink()
            defer { sink.stop() }
            try TernInstance.with(parameters.merging(["relayhost": "[127.0.0.1]:\(sink.port)"]) { a, _ in a }) {
                instance in
                let token = try instance.submitOverSMTP(from: sender, to: recipients, headers: headers)
                let message = try instance.waitUntil("the sink got the message") {
                    sink.messages.first { $0.data.contains(token) }
                }
                try check(instance, message)
            }
        }

        @Test func senderCanonicalRewritesTheEnvelopeAndFrom() throws {
            try relay(
                ["sender_canonical_maps": "inline:{ carol@virt.test=bob@virt.test }"], from: "carol@virt.test",
                to: ["far@remote.example"], headers: "From: Carol <carol@virt.test>\nTo: far@remote.example\n"
            ) { instance, message in
                #expect(message.sender == "bob@virt.test")
                #expect(message.recipients == ["far@remote.example"])
                #expect(message.data.contains("\nFrom: Carol <bob@virt.test>\n"), "\(message.data)")
                #expect(message.data.contains("\nTo: far@remote.example\n"), "\(message.data)")
                try instance.waitForLogLine(#"postfix/qmgr\[\d+\]: [0-9A-F]+: from=<bob@virt\.test>, size="#)
            }
        }

        /// smtp_generic_maps rewrites mail as it leaves, on top of what cleanup stored.
        @Test func genericMapsRewriteOutgoingEnvelopeAndHeaders() throws {
            try relay(
                ["smtp_generic_maps": "inline:{ alice@virt.test=alice@public.example }"], from: "alice@virt.test",
                to: ["far@remote.example"],
                headers: "From: \"Alice, A.\" <alice@virt.test>\nReply-To: alice@virt.test (Alice)\n"
            ) { _, message in
                #expect(message.sender == "alice@public.example")
                #expect(message.data.contains("\nFrom: \"Alice, A.\" <alice@public.example>\n"), "\(message.data)")
                #expect(message.data.contains("\nReply-To: alice@public.example (Alice)\n"), "\(message.data)")
            }
        }

        @Test func masqueradeDomainsStripSubdomainsFromHeadersAndTheSender() throws {
            try relay(
                ["masquerade_domains": "!keep.example.org, example.org", "masquerade_exceptions": "root"],
                from: "joe@host.example.org", to: ["far@mx.example.org"],
                headers: "From: Joe <joe@host.example.org>\nTo: far@mx.example.org\n"
                    + "Cc: a@keep.example.org, root@host.example.org\n"
            ) { _, message in
                #expect(message.sender == "joe@example.org")
                #expect(
                    message.recipients == ["far@mx.example.org"], "envelope recipients are not in masquerade_classes")
                #expect(message.data.contains("\nFrom: Joe <joe@example.org>\n"), "\(message.data)")
                #expect(message.data.contains("\nTo: far@example.org\n"), "\(message.data)")
                #expect(message.data.contains("\nCc: a@keep.example.org, root@host.example.org\n"), "\(message.data)")
            }
        }

        @Test func virtualAliasesExpandToLocalAndRemoteRecipients() throws {
            let sink = try SMTPSink()
            defer { sink.stop() }
            try TernInstance.with([
                "relayhost": "[127.0.0.1]:\(sink.port)", "virtual_alias_domains": "alias.test",
                "virtual_alias_maps": "inline:{ {team@alias.test=alice@virt.test, far@remote.example}, "
                    + "loop@alias.test=loop@alias.test, bob@virt.test=alice@virt.test }",
            ]) { instance in
                let token = try instance.submitOverSMTP(to: ["team@alias.test"])
                let delivered = try instance.waitForMessage("alice", containing: token)
                #expect(delivered.content.contains("Subject: \(token)"))
                let message = try instance.waitUntil("the sink got the message") {
                    sink.messages.first { $0.data.contains(token) }
                }
                #expect(message.recipients == ["far@remote.example"])
                try instance.waitForLogLine(
                    #"postfix/virtual\[\d+\]: [0-9A-F]+: to=<alice@virt\.test>, orig_to=<team@alias\.test>, "#
                        + #"relay=virtual, .*status=sent"#
                )
                try instance.waitForLogLine(
                    #"postfix/smtp\[\d+\]: [0-9A-F]+: to=<far@remote\.example>, orig_to=<team@alias\.test>, "#
                        + #"relay=127\.0\.0\.1.*status=sent"#
                )
                // Virtual aliases apply to every domain, not only virtual alias domains.
                let second = try instance.submitOverSMTP(to: ["bob@virt.test"])
                _ = try instance.waitForMessage("alice", containing: second)
                #expect(instance.messages(for: "bob").allSatisfy { !$0.content.contains(second) })
            }
        }

        /// Too deep an expansion refuses the message for now, with cleanup's reply and warning.
        @Test func virtualAliasNestingLimitDefersTheMessage() throws {
            try TernInstance.with([
                "virtual_alias_maps": "inline:{ d1@virt.test=d2@virt.test, d2@virt.test=d1@virt.test }",
                "virtual_alias_recursion_limit": "5",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(from: "bob@virt.test", to: ["d1@virt.test"], content: "Subject: x\n\ny\n")
                #expect(end.code == 451 && end.text == "4.6.0 Alias expansion error", "\(end)")
                #expect(try client.command("QUIT").code == 221)
                try instance.waitForLogLine(
                    #"postfix/cleanup\[\d+\]: warning: [0-9A-F]+: unreasonable virtual_alias_maps map nesting for "#
                        + #"d1@virt\.test -- message not accepted, try again later$"#
                )
                try instance.waitForEmptyQueue()
            }
        }

        @Test func unknownRecipientInAVirtualAliasDomainIsRejectedOrBounced() throws {
            try TernInstance.with([
                "virtual_alias_domains": "alias.test",
                "virtual_alias_maps": "inline:{ team@alias.test=alice@virt.test }",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                #expect(try client.command("MAIL FROM:<sender@virt.test>").code == 250)
                let reply = try client.command("RCPT TO:<nobody@alias.test>")
                #expect(reply.code == 550, "\(reply)")
                #expect(
                    reply.text
                        == "5.1.1 <nobody@alias.test>: Recipient address rejected: User unknown in virtual alias table",
                    "\(reply)")
                #expect(try client.command("RCPT TO:<team@alias.test>").code == 250)
                #expect(try client.command("QUIT").code == 221)
                try instance.waitForLogLine(
                    #"NOQUEUE: reject: RCPT from [^:]+: 550 5\.1\.1 <nobody@alias\.test>: Recipient address rejected: "#
                        + #"User unknown in virtual alias table; from=<sender@virt\.test> to=<nobody@alias\.test>"#
                )
            }
            // Accepted without the check, it bounces at delivery as Postfix's error transport does.
            try TernInstance.with([
                "virtual_alias_domains": "alias.test",
                "virtual_alias_maps": "inline:{ team@alias.test=alice@virt.test }",
                "smtpd_reject_unlisted_recipient": "no",
            ]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "bob@virt.test", to: ["nobody@alias.test"], content: "Subject: x\n\ny\n")
                #expect(end.code == 250, "\(end)")
                #expect(try client.command("QUIT").code == 221)
                try instance.waitForLogLine(
                    #"postfix/error\[\d+\]: [0-9A-F]+: to=<nobody@alias\.test>, relay=none, .*dsn=5\.1\.1, "#
                        + #"status=bounced \(User unknown in virtual alias table\)$"#
                )
                let report = try instance.waitForMessage("bob", containing: "Undelivered Mail Returned to Sender")
                #expect(report.content.contains("Status: 5.1.1"))
            }
        }

        @Test func sendmailSubmissionsAreRewrittenByPickup() throws {
            try TernInstance.with([
                "sender_canonical_maps": "inline:{ carol@virt.test=bob@virt.test }", "masquerade_domains": "virt.test",
                "virtual_alias_maps": "inline:{ team@virt.test=alice@virt.test }",
            ]) { instance in
                let token = "pickup-\(UUID().uuidString)"
                let result = try instance.tern(
                    ["sendmail", "-f", "carol@virt.test", "team@virt.test"],
                    input: "From: carol@virt.test\nCc: x@host.virt.test\nSubject: \(token)\n\nbody\n")
                #expect(result.status == 0, "\(result)")
                let message = try instance.waitForMessage("alice", containing: token)
                #expect(message.content.hasPrefix("Return-Path: <bob@virt.test>\n"), "\(message.content)")
                #expect(message.content.contains("\nFrom: bob@virt.test\n"), "\(message.content)")
                #expect(message.content.contains("\nCc: x@virt.test\n"), "\(message.content)")
                try instance.waitForLogLine(#"postfix/pickup\[\d+\]: [0-9A-F]+: uid=\d+ from=<carol@virt\.test>$"#)
                try instance.waitForLogLine(#"postfix/qmgr\[\d+\]: [0-9A-F]+: from=<bob@virt\.test>, size="#)
                try instance.waitForLogLine(#"to=<alice@virt\.test>, orig_to=<team@virt\.test>, relay=virtual"#)
            }
        }
    }

    /// The local(8) half of a virtual alias expansion: needs root, like the other local delivery tests.
    @Suite(.enabled(if: geteuid() == 0 && getpwnam("nobody") != nil, "needs root and a `nobody` account"))
    struct VirtualAliasToLocalUserAsRoot {
        @Test func expansionReachesALocalMailboxWithTheOriginalRecipient() throws {
            try TernInstance.with([
                "home_mailbox": "", "virtual_alias_domains": "alias.test",
                "virtual_alias_maps": "inline:{ {team@alias.test=nobody@\(TernInstance.hostname), alice@virt.test} }",
            ]) { instance in
                let token = try instance.submitOverSMTP(to: ["team@alias.test"])
                let mbox = instance.spoolDirectory + "/nobody"
                let text = try instance.waitUntil("the spool mbox of nobody") { () -> String? in
                    guard let data = FileManager.default.contents(atPath: mbox) else { return nil }
                    let text = String(decoding: data, as: UTF8.self)
                    return text.contains(token) ? text : nil
                }
                #expect(text.contains("\nX-Original-To: team@alias.test\n"), "\(text)")
                #expect(text.contains("\nDelivered-To: nobody@\(TernInstance.hostname)\n"), "\(text)")
                _ = try instance.waitForMessage("alice", containing: token)
                try instance.waitForLogLine(
                    #"postfix/local\[\d+\]: [0-9A-F]+: to=<nobody@mail\.e2e\.test>, orig_to=<team@alias\.test>, "#
                        + #"relay=local, .*status=sent \(delivered to mailbox\)$"#)
            }
        }
    }
}

extension TernInstance {
    /// Sends one message over SMTP with a fresh token in its Subject: after `headers`; returns the token.
    func submitOverSMTP(from sender: String = "sender@remote.example", to recipients: [String], headers: String = "")
        throws -> String
    {
        let token = "rewrite-\(UUID().uuidString)"
        let client = try SMTPTestClient(port: port)
        try client.greet()
        let end = try client.sendMail(from: sender, to: recipients, content: headers + "Subject: \(token)\n\nbody\n")
        #expect(end.code == 250, "\(end)")
        #expect(try client.command("QUIT").code == 221)
        return token
    }
}
