import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// Queue-lifecycle notices (delay warnings, notify_classes postmaster copies, double bounces) and the
    /// per-site flush of `postqueue -s` and ETRN.
    @Suite struct Notifications {
        /// Retries every second, so a test sees several deferrals within a few seconds.
        static let fastRetries = [
            "queue_run_delay": "1s", "minimal_backoff_time": "1s", "maximal_backoff_time": "1s",
        ]

        /// Runs `body` on an instance whose relayhost is a loopback sink answering RCPT with `rcptReply`.
        static func withRelaySink(
            rcptReply: String = "250 2.1.5 Ok", _ settings: [String: String], _ body: (TernInstance, SMTPSink) throws -> Void
        ) throws {
            let sink = try SMTPSink(rcptReply: rcptReply)
            defer { sink.stop() }
            var settings = settings
            settings["relayhost"] = "[127.0.0.1]:\(sink.port)"
            try TernInstance.with(settings) { try body($0, sink) }
        }

        /// Submits one message over SMTP and returns its queue ID.
        static func submit(_ instance: TernInstance, from sender: String, to recipient: String, content: String) throws -> String {
            let client = try SMTPTestClient(port: instance.port)
            try client.greet()
            let end = try client.sendMail(from: sender, to: [recipient], content: content)
            #expect(try client.command("QUIT").code == 221)
            return try #require(end.queueID, "\(end)")
        }

        static func deferrals(of id: String, in instance: TernInstance) -> Int {
            instance.maillog().components(separatedBy: "\(id): to=<far@remote.example>").count - 1
        }

        /// delay_warning_time: one warning while the mail is still deferred, never again (the mark is in the
        /// queue file, so a restart does not repeat it either).
        @Test func delayWarningIsSentOnceAlsoAfterARestart() throws {
            var settings = Self.fastRetries
            settings["delay_warning_time"] = "1s"
            try Self.withRelaySink(rcptReply: "450 4.2.0 <far@remote.example>: try again later", settings) { instance, _ in
                let token = "delay-\(UUID().uuidString)"
                let id = try Self.submit(
                    instance, from: "bob@virt.test", to: "far@remote.example", content: "Subject: \(token)\n\nbody-\(token)\n")
                let warning = try instance.waitForMessage("bob", containing: "Delayed Mail (still being retried)")
                #expect(warning.content.hasPrefix("Return-Path: <>\n"))
                #expect(warning.content.contains("# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #"))
                #expect(warning.content.contains("Action: delayed\nStatus: 4.2.0\n"))
                #expect(warning.content.contains("Will-Retry-Until: "))
                #expect(warning.content.contains("Subject: \(token)"))
                #expect(!warning.content.contains("body-\(token)"), "headers only")
                try instance.waitForLogLine(#"postfix/bounce\[\d+\]: \#(id): sender delay notification: [0-9A-F]+$"#)
                let postcat = try instance.tern(["postcat", "-c", instance.configDirectory, "-e", "-q", id])
                #expect(postcat.stdout.contains("\ndelay_warning_sent: "), "\(postcat)")

                let before = Self.deferrals(of: id, in: instance)
                try instance.waitUntil("two more deferrals") { Self.deferrals(of: id, in: instance) >= before + 2 ? true : nil }
                let stop = try instance.postfix("stop")
                #expect(stop.status == 0, "\(stop)")
                if let pid = instance.masterPid() {
                    try instance.waitUntil("the master process to exit", timeout: 15) { TernInstance.isAlive(pid) ? nil : true }
                }
                try instance.start()
                let restarted = Self.deferrals(of: id, in: instance)
                try instance.waitUntil("two deferrals after the restart") {
                    Self.deferrals(of: id, in: instance) >= restarted + 2 ? true : nil
                }
                let warnings = instance.messages(for: "bob").filter { $0.content.contains("Delayed Mail") }
                #expect(warnings.count == 1)
                #expect(instance.maillog().components(separatedBy: "sender delay notification").count - 1 == 1)
            }
        }

        /// notify_classes = bounce: the postmaster gets a copy of each non-delivery report, headers only.
        @Test func bounceClassSendsThePostmasterACopy() throws {
            let settings = ["notify_classes": "bounce, resource, software", "bounce_notice_recipient": "alice@virt.test"]
            try Self.withRelaySink(rcptReply: "550 5.1.1 <far@remote.example>: no such user", settings) { instance, _ in
                let token = "copy-\(UUID().uuidString)"
                _ = try Self.submit(
                    instance, from: "bob@virt.test", to: "far@remote.example", content: "Subject: \(token)\n\nbody-\(token)\n")
                let report = try instance.waitForMessage("bob", containing: "Undelivered Mail Returned to Sender")
                #expect(report.content.contains("body-\(token)"))
                let copy = try instance.waitForMessage("alice", containing: "Postmaster Copy: Undelivered Mail")
                #expect(copy.content.hasPrefix("Return-Path: <double-bounce@e2e.test>\n"), "\(copy.content.prefix(200))")
                #expect(copy.content.contains("Auto-Submitted: auto-generated"))
                #expect(copy.content.contains("X-Postfix-Sender: rfc822; bob@virt.test"))
                #expect(copy.content.contains("Subject: \(token)"))
                #expect(!copy.content.contains("body-\(token)"), "headers only")
                try instance.waitForLogLine(#"postfix/bounce\[\d+\]: [0-9A-F]+: postmaster non-delivery notification: [0-9A-F]+$"#)
            }
        }

        /// A bounce that cannot be delivered goes to 2bounce_notice_recipient with notify_classes 2bounce (or bounce),
        /// whole; without it, it is dropped. Neither ever produces another bounce.
        @Test func undeliverableBounceGoesToThePostmasterOnlyWith2bounce() throws {
            for withClass in [true, false] {
                var settings = ["2bounce_notice_recipient": "alice@virt.test"]
                if withClass { settings["notify_classes"] = "2bounce, resource, software" }
                try Self.withRelaySink(rcptReply: "550 5.1.1 <far@remote.example>: no such user", settings) { instance, _ in
                    let token = "double-\(UUID().uuidString)"
                    let id = try Self.submit(
                        instance, from: "", to: "far@remote.example", content: "Subject: \(token)\n\nbody-\(token)\n")
                    if withClass {
                        let copy = try instance.waitForMessage("alice", containing: "Postmaster Copy: Undelivered Mail")
                        #expect(copy.content.contains("X-Postfix-Sender: rfc822; MAILER-DAEMON@\(TernInstance.hostname)"))
                        #expect(copy.content.contains("body-\(token)"), "the undeliverable bounce comes back whole")
                        try instance.waitForLogLine(#"postfix/bounce\[\d+\]: \#(id): postmaster non-delivery notification: [0-9A-F]+$"#)
                    } else {
                        try instance.waitForLogLine(#"postfix/qmgr\[\d+\]: \#(id): removed$"#)
                        try instance.waitForEmptyQueue()
                        #expect(!instance.maillog().contains("notification"))
                        #expect(instance.messages(for: "alice").isEmpty)
                    }
                }
            }
        }

        /// A postmaster notice that cannot be delivered is dropped with Postfix's warning, never reported.
        @Test func undeliverablePostmasterNoticeIsDiscarded() throws {
            let settings = ["notify_classes": "2bounce", "2bounce_notice_recipient": "postmaster@remote.example"]
            try Self.withRelaySink(rcptReply: "550 5.1.1 no such user", settings) { instance, _ in
                let id = try Self.submit(instance, from: "", to: "far@remote.example", content: "Subject: x\n\nx\n")
                let line = try instance.waitForLogLine(#"postfix/bounce\[\d+\]: \#(id): postmaster non-delivery notification: [0-9A-F]+$"#)
                let notice = try #require(line.split(separator: " ").last.map(String.init))
                try instance.waitForLogLine(
                    #"postfix/bounce\[\d+\]: warning: \#(notice): undeliverable postmaster notification discarded$"#)
                try instance.waitForEmptyQueue()
                #expect(instance.maillog().components(separatedBy: "notification:").count - 1 == 1)
            }
        }

        /// notify_classes = protocol: a session with a command error sends the postmaster its transcript; with
        /// the default classes (resource, software) it does not.
        @Test func protocolErrorsSendTheTranscriptOnlyWhenAsked() throws {
            for classes in ["protocol", "resource, software"] {
                try TernInstance.with(["notify_classes": classes, "error_notice_recipient": "alice@virt.test"]) { instance in
                    let client = try SMTPTestClient(port: instance.port)
                    try client.greet()
                    #expect(try client.command("FOO bar").code == 500)
                    #expect(try client.command("QUIT").code == 221)
                    guard classes == "protocol" else {
                        try instance.waitForLogLine(#"postfix/smtpd\[\d+\]: disconnect from "#)
                        Thread.sleep(forTimeInterval: 1)
                        #expect(instance.messages(for: "alice").isEmpty)
                        return
                    }
                    let notice = try instance.waitForMessage("alice", containing: "Tern SMTP server: errors from localhost[127.0.0.1]")
                    #expect(notice.content.hasPrefix("Return-Path: <double-bounce@e2e.test>\n"))
                    #expect(notice.content.contains("\n In:  FOO bar\n Out: 500 5.5.2 Error: command not recognized\n In:  QUIT\n"))
                    #expect(notice.content.contains("For other details, see the local mail logfile"))
                }
            }
        }

        /// A queue file write error (resource, a default class) tells the postmaster, once the queue works again.
        @Test func queueFileWriteErrorNotifiesThePostmaster() throws {
            try TernInstance.with(["error_notice_recipient": "alice@virt.test"]) { instance in
                let incoming = instance.queueDirectory + "/incoming"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                chmod(incoming, 0)
                let refused = try client.sendMail(from: "bob@virt.test", to: ["alice@virt.test"], content: "Subject: x\n\nx\n")
                chmod(incoming, 0o700)
                #expect(refused.code == 451, "\(refused)")
                #expect(try client.command("QUIT").code == 221)
                let notice = try instance.waitForMessage("alice", containing: "SMTP server: errors from")
                #expect(notice.content.contains(" Out: \(refused.code) \(refused.last)\n"), "\(notice.content)")
            }
        }

        /// `postqueue -s SITE` and ETRN deliver the deferred mail of that destination only, and only for
        /// destinations in fast_flush_domains.
        @Test func siteFlushDeliversOnlyThatSite() throws {
            let settings = ["defer_transports": "smtp", "fast_flush_domains": "one.example, two.example"]
            try Self.withRelaySink(settings) { instance, sink in
                let token = "site-\(UUID().uuidString)"
                for site in ["one", "two", "three"] {
                    _ = try Self.submit(
                        instance, from: "bob@virt.test", to: "a@\(site).example", content: "Subject: \(token) \(site)\n\nx\n")
                }
                _ = try instance.waitUntil("three messages deferred") { () -> Bool? in
                    try instance.mailq().components(separatedBy: "(deferred transport)").count - 1 == 3 ? true : nil
                }
                func delivered() -> [String] { sink.messages.flatMap(\.recipients).sorted() }

                let refused = try instance.tern(["postqueue", "-c", instance.configDirectory, "-s", "three.example"])
                #expect(refused.status != 0)
                #expect(refused.stderr.contains("postqueue: fatal: Flush service is not configured for destination \"three.example\""), "\(refused)")
                let flush = try instance.tern(["postqueue", "-c", instance.configDirectory, "-s", "one.example"])
                #expect(flush.status == 0, "\(flush)")
                try instance.waitUntil("one.example delivered") { delivered() == ["a@one.example"] ? true : nil }

                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                #expect(try client.command("ETRN three.example").description == "459 <three.example>: service unavailable")
                try instance.waitForLogLine(#"postfix/smtpd\[\d+\]: warning: reject: ETRN three\.example\.\.\. from "#)
                #expect(try client.command("ETRN two.example").description == "250 Queuing started")
                try instance.waitUntil("two.example delivered") {
                    delivered() == ["a@one.example", "a@two.example"] ? true : nil
                }
                #expect(try client.command("QUIT").code == 221)
                Thread.sleep(forTimeInterval: 1)
                #expect(delivered() == ["a@one.example", "a@two.example"], "three.example stays deferred")
            }
        }

        /// `postqueue -i ID` delivers that one deferred message now.
        @Test func messageFlushDeliversOnlyThatMessage() throws {
            try Self.withRelaySink(["defer_transports": "smtp"]) { instance, sink in
                let token = "id-\(UUID().uuidString)"
                let first = try Self.submit(instance, from: "bob@virt.test", to: "a@one.example", content: "Subject: \(token)\n\nx\n")
                _ = try Self.submit(instance, from: "bob@virt.test", to: "b@two.example", content: "Subject: \(token)\n\ny\n")
                _ = try instance.waitUntil("two messages deferred") { () -> Bool? in
                    try instance.mailq().components(separatedBy: "(deferred transport)").count - 1 == 2 ? true : nil
                }
                let bad = try instance.tern(["postqueue", "-c", instance.configDirectory, "-i", "not/an/id"])
                #expect(bad.status != 0)
                let flush = try instance.tern(["postqueue", "-c", instance.configDirectory, "-i", first])
                #expect(flush.status == 0, "\(flush)")
                try instance.waitUntil("that message delivered") {
                    sink.messages.flatMap(\.recipients) == ["a@one.example"] ? true : nil
                }
                Thread.sleep(forTimeInterval: 1)
                #expect(sink.messages.flatMap(\.recipients) == ["a@one.example"], "the other message stays deferred")
            }
        }
    }
}
