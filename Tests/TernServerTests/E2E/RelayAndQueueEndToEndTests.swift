import Foundation
import Testing

extension DaemonEndToEnd {
    /// Relay control and the queue tools against a running daemon.
    @Suite struct RelayAndQueue {
        /// mynetworks = 127.0.0.2/32 makes the test client (127.0.0.1) an outside client without privileges:
        /// mail to a remote domain is relay-denied, mail to the virtual domain is still accepted.
        @Test func relayIsDeniedForClientOutsideMynetworks() throws {
            try TernInstance.with(["mynetworks": "127.0.0.2/32"]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet("outside.e2e.test")
                #expect(try client.command("MAIL FROM:<someone@remote.example>").code == 250)
                let denied = try client.command("RCPT TO:<victim@elsewhere.example>")
                #expect(denied.code == 554, "\(denied)")
                #expect(denied.last == "5.7.1 <victim@elsewhere.example>: Relay access denied", "\(denied)")
                let local = try client.command("RCPT TO:<alice@virt.test>")
                #expect(local.code == 250, "mail for a virtual mailbox domain is not relaying: \(local)")
                #expect(try client.command("QUIT").code == 221)

                try instance.waitForLogLine(
                    #"postfix/smtpd\[\d+\]: NOQUEUE: reject: RCPT from [^\s\[]+\[127\.0\.0\.1\]: 554 5\.7\.1 "#
                        + #"<victim@elsewhere\.example>: Relay access denied; from=<someone@remote\.example> "#
                        + #"to=<victim@elsewhere\.example> proto=ESMTP helo=<outside\.e2e\.test>$"#)
                try instance.waitForLogLine(#"disconnect from .* ehlo=1 mail=1 rcpt=1/2 quit=1 commands=4/5$"#)
            }
        }

        /// `postsuper -r ALL` puts deferred mail through pickup again: same content, a new queue ID, still
        /// waiting for its transport.
        @Test func requeuedMailGetsANewQueueID() throws {
            try TernInstance.with(["defer_transports": "smtp"]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "queued@e2e.test", to: ["far@remote.example"], content: "Subject: requeue\n\nagain\n")
                let id = try #require(end.queueID, "\(end)")
                #expect(try client.command("QUIT").code == 221)
                _ = try instance.waitUntil("the message deferred") { () -> String? in
                    let text = try instance.mailq()
                    return text.contains("(deferred transport)") ? text : nil
                }
                let requeue = try instance.tern(["postsuper", "-r", "ALL"])
                #expect(requeue.status == 0, "\(requeue)")
                try instance.waitForLogLine(#"postfix/pickup\[\d+\]: [0-9A-F]+: uid=\d+ from=<queued@e2e\.test>$"#)
                let listing = try instance.waitUntil("the requeued message deferred again") { () -> String? in
                    let text = try instance.mailq()
                    return text.contains("(deferred transport)") && !text.contains(id) ? text : nil
                }
                #expect(listing.contains("far@remote.example"), "\(listing)")
                #expect(listing.contains("in 1 Request."), "\(listing)")
            }
        }

        /// With defer_transports = smtp, mail for a remote domain waits in the deferred queue; mailq lists it
        /// like Postfix, and `postsuper -d ALL` empties the queue.
        @Test func deferredMailIsListedByMailqAndDeletedByPostsuper() throws {
            try TernInstance.with(["defer_transports": "smtp"]) { instance in
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                var ids: [String] = []
                for n in 1...2 {
                    let end = try client.sendMail(
                        from: "queued@e2e.test", to: ["far\(n)@remote.example"],
                        content: "Subject: deferred \(n)\n\nwaiting for the link to come up\n")
                    ids.append(try #require(end.queueID, "\(end)"))
                }
                #expect(try client.command("QUIT").code == 221)

                let listing = try instance.waitUntil("both messages deferred in mailq") { () -> String? in
                    let text = try instance.mailq()
                    let deferredCount = text.components(separatedBy: "(deferred transport)").count - 1
                    return deferredCount == 2 ? text : nil
                }
                let lines = listing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                #expect(lines.first?.hasPrefix("-Queue ID-") == true, "\(listing)")
                #expect(lines.first?.contains("Sender/Recipient") == true, "\(listing)")
                for (n, id) in ids.enumerated() {
                    // `ID  size  date  sender`, no `*` (active) or `!` (hold) mark.
                    let entry = try NSRegularExpression(
                        pattern: #"^\#(id)\s+\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d\s+queued@e2e\.test$"#,
                        options: .anchorsMatchLines)
                    #expect(!TernInstance.lines(of: listing, matching: entry).isEmpty, "\(listing)")
                    #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces) == "far\(n + 1)@remote.example" })
                }
                let reasons = lines.filter { $0.trimmingCharacters(in: .whitespaces) == "(deferred transport)" }
                #expect(reasons.count == 2, "\(listing)")
                let summary = lines.last { !$0.isEmpty } ?? ""
                let summaryPattern = #"^-- \d+ Kbytes in 2 Requests\.$"#
                #expect(summary.range(of: summaryPattern, options: .regularExpression) != nil, "\(summary)")
                #expect(try instance.tern(["mailq"]).stdout == (try instance.tern(["postqueue", "-p"]).stdout))
                try instance.waitForLogLine(
                    #"postfix/qmgr\[\d+\]: \#(ids[0]): to=<far1@remote\.example>, relay=none, .*dsn=4\.3\.2, "#
                        + #"status=deferred \(deferred transport\)$"#)
                #expect(FileManager.default.fileExists(atPath: instance.queueDirectory + "/deferred"))

                let delete = try instance.tern(["postsuper", "-d", "ALL"])
                #expect(delete.status == 0, "\(delete)")
                #expect((delete.stdout + delete.stderr).contains("Deleted: 2 messages"), "\(delete)")
                #expect(try instance.mailq().trimmingCharacters(in: .whitespacesAndNewlines) == "Mail queue is empty")
                // The daemon keeps running and accepting mail after its queue was emptied under it.
                let again = try SMTPTestClient(port: instance.port)
                try again.greet()
                let end = try again.sendMail(
                    from: "queued@e2e.test", to: ["alice@virt.test"], content: "Subject: after\n\nafter postsuper\n")
                #expect(end.queueID != nil, "\(end)")
                _ = try instance.waitForMessage("alice", containing: "after postsuper")
            }
        }
    }
}
