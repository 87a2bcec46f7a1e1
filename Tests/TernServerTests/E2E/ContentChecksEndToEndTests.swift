import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// header_checks / body_checks through SMTP on 127.0.0.1: what the client hears, what is logged, what
    /// is delivered, held or discarded.
    @Suite struct ContentChecks {
        static let headerChecks = #"""
            /^Subject:.*rejectme/          REJECT Subject not allowed here
            /^Subject:.*discardme/         DISCARD
            /^Subject:.*warnme/            WARN suspicious subject seen
            /^Subject:.*holdme/            HOLD held for review
            /^Subject:.*redirectme/        REDIRECT bob@virt.test
            /^X-Remove-Me:/                IGNORE
            /^Subject:.*tagme/             PREPEND X-Tagged: yes
            /^Subject:.*bccme/             BCC bob@virt.test
            """#
        static let bodyChecks = #"""
            /forbidden-phrase-xyz/         REJECT 5.7.2 Body contains a forbidden phrase
            /replace-me-xyz/               REPLACE replaced line
            """#

        /// An instance with the checks above as `type:` tables (regexp or pcre), started.
        func withChecks(type: String = "regexp", _ body: (TernInstance) throws -> Void) throws {
            try TernInstance.with(start: false) { instance in
                let directory = instance.configDirectory
                try Self.headerChecks.write(toFile: "\(directory)/header_checks", atomically: true, encoding: .utf8)
                try Self.bodyChecks.write(toFile: "\(directory)/body_checks", atomically: true, encoding: .utf8)
                instance.set("header_checks", "\(type):\(directory)/header_checks")
                instance.set("body_checks", "\(type):\(directory)/body_checks")
                try instance.writeMainCF()
                try instance.start()
                try body(instance)
            }
        }

        func send(_ instance: TernInstance, _ content: String, to recipient: String = "alice@virt.test") throws
            -> SMTPTestReply
        {
            let client = try SMTPTestClient(port: instance.port)
            defer { client.close() }
            try client.greet()
            let reply = try client.sendMail(from: "checks@client.example", to: [recipient], content: content)
            _ = try? client.command("QUIT")
            return reply
        }

        @Test func headerRejectIs550WithTheTextAndLogged() throws {
            try withChecks { instance in
                let reply = try send(instance, "Subject: please rejectme now\n\nhello\n")
                #expect(reply.code == 550)
                #expect(reply.last == "5.7.1 Subject not allowed here")
                try instance.waitForLogLine(
                    #"postfix/cleanup\[\d+\]: [0-9A-F]+: reject: header Subject: please rejectme now from "#
                        + #"localhost\[127\.0\.0\.1\]; from=<checks@client\.example> to=<alice@virt\.test> "#
                        + #"proto=ESMTP helo=<client\.e2e\.test>: 5\.7\.1 Subject not allowed here"#)
                #expect(try instance.mailq().contains("Mail queue is empty"))
            }
        }

        @Test func bodyRejectKeepsItsOwnStatusCode() throws {
            try withChecks(type: "pcre") { instance in
                let reply = try send(instance, "Subject: body\n\nline one\nsay forbidden-phrase-xyz here\n")
                #expect(reply.code == 550)
                #expect(reply.last == "5.7.2 Body contains a forbidden phrase")
                try instance.waitForLogLine(#"reject: body say forbidden-phrase-xyz here from localhost"#)
            }
        }

        @Test func discardSays250AndDeliversNothing() throws {
            try withChecks { instance in
                let token = "discard-\(UUID().uuidString)"
                let reply = try send(instance, "Subject: discardme \(token)\n\nhello\n")
                #expect(reply.code == 250 && reply.last.hasPrefix("2.0.0 Ok: queued as "), "\(reply)")
                try instance.waitForLogLine(#"discard: header Subject: discardme "# + token)
                // A message sent after it arrives; the discarded one never does.
                let later = "later-\(UUID().uuidString)"
                #expect(try send(instance, "Subject: \(later)\n\nhello\n").code == 250)
                _ = try instance.waitForMessage("alice", containing: later)
                #expect(!instance.messages(for: "alice").contains { $0.content.contains(token) })
            }
        }

        @Test func warnDeliversAndLogs() throws {
            try withChecks { instance in
                let token = "warn-\(UUID().uuidString)"
                #expect(try send(instance, "Subject: warnme \(token)\nX-Remove-Me: 1\n\nhello\n").code == 250)
                let message = try instance.waitForMessage("alice", containing: token)
                #expect(!message.content.contains("X-Remove-Me"), "IGNORE removed the header")
                try instance.waitForLogLine(#"warning: header Subject: warnme "# + token + #".*: suspicious subject seen"#)
            }
        }

        @Test func holdPutsTheMessageInTheHoldQueueUntilReleased() throws {
            try withChecks { instance in
                let token = "hold-\(UUID().uuidString)"
                let reply = try send(instance, "Subject: holdme \(token)\n\nhello\n")
                let id = try #require(reply.queueID, "\(reply)")
                try instance.waitForLogLine(#"\#(id): hold: header Subject: holdme .*: held for review"#)
                let held = "\(instance.queueDirectory)/hold/\(id)"
                #expect(FileManager.default.fileExists(atPath: held))
                #expect(try instance.mailq().contains("\(id)!"), "mailq marks held mail with !")
                let release = try instance.tern(["postsuper", "-H", id])
                #expect(release.status == 0, "\(release)")
                let flush = try instance.tern(["postqueue", "-f"])
                #expect(flush.status == 0, "\(flush)")
                _ = try instance.waitForMessage("alice", containing: token, timeout: 30)
            }
        }

        /// Every recipient goes to the REDIRECT address, once, logged with `orig_to=` (as Postfix's qmgr).
        @Test func redirectDeliversToTheOtherAddress() throws {
            try withChecks { instance in
                let token = "redirect-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                defer { client.close() }
                try client.greet()
                let reply = try client.sendMail(
                    from: "checks@client.example", to: ["alice@virt.test", "bob@virt.test"],
                    content: "Subject: redirectme \(token)\n\nhello\n")
                #expect(reply.code == 250, "\(reply)")
                let id = try #require(reply.queueID)
                _ = try instance.waitForMessage("bob", containing: token)
                try instance.waitForLogLine(#"\#(id): to=<bob@virt\.test>, orig_to=<alice@virt\.test>, relay=virtual"#)
                try instance.waitForLogLine(#"\#(id): removed"#)
                #expect(!instance.messages(for: "alice").contains { $0.content.contains(token) })
                #expect(instance.messages(for: "bob").filter { $0.content.contains(token) }.count == 1)
            }
        }

        @Test func bccSendsACopy() throws {
            try withChecks { instance in
                let token = "bcc-\(UUID().uuidString)"
                let reply = try send(instance, "Subject: bccme \(token)\n\nhello\n")
                let id = try #require(reply.queueID, "\(reply)")
                _ = try instance.waitForMessage("alice", containing: token)
                _ = try instance.waitForMessage("bob", containing: token)
                try instance.waitForLogLine(#"\#(id): bcc: header Subject: bccme .*: bob@virt\.test"#)
                try instance.waitForLogLine(#"\#(id): bcc copy queued as [0-9A-F]+"#)
            }
        }

        @Test func prependAndBodyReplaceEditTheMessage() throws {
            try withChecks(type: "pcre") { instance in
                let token = "edit-\(UUID().uuidString)"
                #expect(try send(instance, "Subject: tagme \(token)\n\nkeep\nreplace-me-xyz\n").code == 250)
                let message = try instance.waitForMessage("alice", containing: token).content
                #expect(message.contains("X-Tagged: yes\nSubject: tagme \(token)\n"), "\(message)")
                #expect(message.contains("\nkeep\nreplaced line\n"), "\(message)")
            }
        }

        /// pickup runs local submissions through the same checks: a REJECT bounces to the sender, with the
        /// reason, and a clean message arrives.
        @Test func sendmailSubmissionsAreCheckedByPickup() throws {
            try withChecks { instance in
                let token = "pickup-\(UUID().uuidString)"
                let result = try instance.tern(
                    ["sendmail", "-f", "bob@virt.test", "alice@virt.test"],
                    input: "Subject: rejectme \(token)\n\nbody\n")
                #expect(result.status == 0, "\(result)")
                try instance.waitForLogLine(
                    #"postfix/cleanup\[\d+\]: [0-9A-F]+: reject: header Subject: rejectme "# + token
                        + #" from local; from=<bob@virt\.test> to=<alice@virt\.test>: 5\.7\.1 Subject not allowed here"#)
                let report = try instance.waitForMessage("bob", containing: "Undelivered Mail Returned to Sender")
                #expect(report.content.contains("Subject not allowed here"), "\(report.content)")
                #expect(!instance.messages(for: "alice").contains { $0.content.contains(token) })
                let clean = "clean-\(UUID().uuidString)"
                _ = try instance.tern(
                    ["sendmail", "-f", "bob@virt.test", "alice@virt.test"],
                    input: "Subject: tagme \(clean)\n\nreplace-me-xyz\n")
                let message = try instance.waitForMessage("alice", containing: clean).content
                #expect(message.contains("X-Tagged: yes\n"), "\(message)")
                #expect(message.contains("\nreplaced line\n"), "\(message)")
            }
        }

        /// sender_bcc_maps and recipient_bcc_maps add a blind copy (cleanup_addr_bcc).
        @Test func bccMapsAddRecipients() throws {
            try TernInstance.with([
                "sender_bcc_maps": "inline:{ checks@client.example=alice@virt.test }",
                "recipient_bcc_maps": "inline:{ alice@virt.test=bob@virt.test }",
            ]) { instance in
                func send(from sender: String, to recipient: String) throws -> String {
                    let token = "bcc-\(UUID().uuidString)"
                    let client = try SMTPTestClient(port: instance.port)
                    defer { client.close() }
                    try client.greet()
                    let reply = try client.sendMail(from: sender, to: [recipient], content: "Subject: \(token)\n\nhi\n")
                    #expect(reply.code == 250, "\(reply)")
                    return token
                }
                let bySender = try send(from: "checks@client.example", to: "bob@virt.test")
                _ = try instance.waitForMessage("alice", containing: bySender)
                let byRecipient = try send(from: "other@client.example", to: "alice@virt.test")
                _ = try instance.waitForMessage("bob", containing: byRecipient)
            }
        }
    }
}
