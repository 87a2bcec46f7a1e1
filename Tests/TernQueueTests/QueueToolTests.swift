import Glibc
import TernCore
import TernMIME
import Testing
@testable import TernQueue

@Suite struct QueueListingTests {
    @Test func emptyQueue() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        #expect(QueueListing.render(queue: t.queue).stdoutText == "Mail queue is empty\n")
    }

    /// Same layout as Postfix 3.7's postqueue -p for the same queue (sizes, IDs and times substituted).
    @Test func listingMatchesPostfixLayout() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let content = String(repeating: "x", count: 299) + "\n"  // 300 bytes
        let a = try t.write(content)
        try t.queue.move(a, from: .incoming, to: .deferred)
        let log = DeliveryStatusLog(queue: t.queue, kind: .defer)
        try log.append([
            .init(recipient: "far@remote.example", recipientIndex: 0, status: "4.3.2", action: "delayed", reason: "deferred transport"),
            .init(recipient: "two@remote.example", recipientIndex: 1, status: "4.3.2", action: "delayed", reason: "deferred transport"),
        ], for: a)
        var env = TestQueue.envelope(recipients: ["far@remote.example"])
        env.sender = .null
        let b = try t.write(content, envelope: env)
        try t.queue.move(b, from: .incoming, to: .hold)
        let c = try t.write(content, envelope: TestQueue.envelope(recipients: ["x@y", "done@y", "z@y"]))
        try t.queue.move(c, from: .incoming, to: .active)
        try QueueFile.open(path: t.queue.filePath(.active, c)).markRecipient(1, .delivered)

        let out = QueueListing.render(queue: t.queue, zone: .utc).stdoutText
        func pad(_ s: String) -> String { s + String(repeating: " ", count: max(0, 11 - s.count)) }
        let reason = String(repeating: " ", count: 76 - 18) + "(deferred transport)\n"
        let rcpt = String(repeating: " ", count: 41)
        #expect(out == """
            -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
            \(pad(c.value + "*"))     300 Mon Nov 30 11:17:12  alice@client.example
            \(rcpt)x@y
            \(rcpt)z@y

            \(pad(a.value))     300 Mon Nov 30 11:17:12  alice@client.example
            \(reason)\(rcpt)far@remote.example
            \(rcpt)two@remote.example

            \(pad(b.value + "!"))     300 Mon Nov 30 11:17:12  MAILER-DAEMON
            \(rcpt)far@remote.example

            -- 0 Kbytes in 3 Requests.

            """)
    }

    @Test func reasonUnavailableAfterAReason() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let a = try t.write(envelope: TestQueue.envelope(recipients: ["one@x", "two@x"]))
        try DeliveryStatusLog(queue: t.queue, kind: .defer).append(
            .init(recipient: "one@x", recipientIndex: 0, status: "4.4.1", action: "delayed", reason: "timeout"), for: a)
        let lines = QueueListing.render(queue: t.queue, zone: .utc).stdoutText.split(separator: "\n").map(String.init)
        #expect(lines[2].hasSuffix("(timeout)") && lines[2].count == 76 + 2)
        #expect(lines[4].hasSuffix("(reason unavailable)"))
        #expect(lines.last == "-- 0 Kbytes in 1 Request.")
    }
}

@Suite struct PostCatTests {
    @Test func envelopeAndContentLikePostfix() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let content = "Received: from client.example\nSubject: hello\n\nbody line\n"
        let id = try t.write(content)
        try t.queue.move(id, from: .incoming, to: .deferred)
        let file = try QueueFile.open(path: t.queue.filePath(.deferred, id))
        try file.markRecipient(1, .delivered)
        let path = "deferred/\(id.hashDirectory)/\(id.value)"
        let r = PostCat.run(arguments: ["-q", id.value], queue: t.queue, zone: .utc)
        #expect(r.exitCode == 0)
        func n(_ v: Int) -> String { String(repeating: " ", count: 16 - String(v).count) + String(v) }
        #expect(r.stdoutText == """
            *** ENVELOPE RECORDS \(path) ***
            message_size:\(n(content.utf8.count))\(n(file.contentOffset))\(n(2))\(n(0))\(n(content.utf8.count))\(n(0))
            message_arrival_time: Mon Nov 30 11:17:12 2026
            sender: alice@client.example
            named_attribute: client_name=localhost
            named_attribute: client_address=127.0.0.1
            named_attribute: client_port=55278
            named_attribute: helo_name=client.example
            named_attribute: protocol_name=ESMTP
            named_attribute: dsn_orig_rcpt=rfc822;far@remote.example
            original_recipient: far@remote.example
            recipient: far@remote.example
            named_attribute: dsn_orig_rcpt=rfc822;two@remote.example
            original_recipient: two@remote.example
            done_recipient: two@remote.example
            *** MESSAGE CONTENTS \(path) ***
            \(content)*** HEADER EXTRACTED \(path) ***
            *** MESSAGE FILE END \(path) ***

            """)
        #expect(PostCat.run(arguments: ["-h", "-q", id.value], queue: t.queue).stdoutText
            == "Received: from client.example\nSubject: hello\n")
        #expect(PostCat.run(arguments: ["-bq", id.value], queue: t.queue).stdoutText == "\nbody line\n")
        #expect(PostCat.run(arguments: [t.queue.filePath(.deferred, id)], queue: t.queue, zone: .utc).stdoutText
            .hasPrefix("*** ENVELOPE RECORDS \(t.queue.filePath(.deferred, id)) ***\n"))
    }

    @Test func errorsAsPostfixWordsThem() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let missing = PostCat.run(arguments: ["-q", "ABCDEF123"], queue: t.queue)
        #expect(missing.exitCode == 1)
        #expect(missing.stderr == "postcat: fatal: open queue file ABCDEF123: No such file or directory\n")
        #expect(PostCat.run(arguments: ["-q", "bad/id"], queue: t.queue).stderr == "postcat: fatal: bad mail queue ID: bad/id\n")
        #expect(PostCat.run(arguments: ["-x"], queue: t.queue).stderr.hasPrefix("postcat: invalid option -- 'x'\npostcat: fatal: usage:"))
    }
}

@Suite struct PostSuperTests {
    @Test func deleteOneAndAll() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let a = try t.write()
        let b = try t.write()
        try t.queue.move(b, from: .incoming, to: .deferred)
        try DeliveryStatusLog(queue: t.queue, kind: .defer).append(
            .init(recipient: "x@y", status: "4.0.0", action: "delayed", reason: "r"), for: b)
        let one = PostSuper.run(arguments: ["-d", a.value], queue: t.queue)
        #expect(one.stderr == "postsuper: \(a.value): removed\npostsuper: Deleted: 1 message\n")
        #expect(one.logMessages == ["\(a.value): removed", "Deleted: 1 message"])
        let c = try t.write()
        let all = PostSuper.run(arguments: ["-d", "ALL"], queue: t.queue)
        #expect(all.stderr == "postsuper: Deleted: 2 messages\n")
        #expect(t.queue.locate(b) == nil && t.queue.locate(c) == nil)
        #expect(try t.queue.list(.defer).isEmpty)
        #expect(PostSuper.run(arguments: ["-d", "NOSUCHID123"], queue: t.queue).stderr == "postsuper: Deleted: 0 messages\n")
    }

    @Test func holdReleaseRequeue() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let a = try t.write()
        try t.queue.move(a, from: .incoming, to: .deferred)
        #expect(PostSuper.run(arguments: ["-h", a.value], queue: t.queue).stderr
            == "postsuper: \(a.value): placed on hold\npostsuper: Placed on hold: 1 message\n")
        #expect(t.queue.locate(a) == .hold)
        #expect(PostSuper.run(arguments: ["-H", "ALL", "deferred"], queue: t.queue).stderr == "postsuper: Released from hold: 0 messages\n")
        #expect(PostSuper.run(arguments: ["-H", a.value], queue: t.queue).stderr
            == "postsuper: \(a.value): released from hold\npostsuper: Released from hold: 1 message\n")
        #expect(t.queue.locate(a) == .deferred)
        let b = try t.write()
        #expect(PostSuper.run(arguments: ["-h", "ALL"], queue: t.queue).stderr == "postsuper: Placed on hold: 2 messages\n")
        #expect(PostSuper.run(arguments: ["-H", "ALL"], queue: t.queue).stderr == "postsuper: Released from hold: 2 messages\n")
        #expect(PostSuper.run(arguments: ["-r", b.value], queue: t.queue).stderr
            == "postsuper: \(b.value): requeued\npostsuper: Requeued: 1 message\n")
        #expect(t.queue.locate(b) == .maildrop)
        #expect(PostSuper.run(arguments: ["-r", "ALL"], queue: t.queue).stderr == "postsuper: Requeued: 1 message\n")
        #expect(t.queue.locate(a) == .maildrop)
    }

    @Test func badInput() throws {
        let t = try TestQueue()
        defer { t.cleanup() }
        let r = PostSuper.run(arguments: ["-d", "bad/id"], queue: t.queue)
        #expect(r.stderr == "postsuper: warning: invalid mail queue id: bad/id\npostsuper: Deleted: 0 messages\n")
        let q = PostSuper.run(arguments: ["-d", "ALL", "bogus"], queue: t.queue)
        #expect(q.exitCode == 1 && q.stderr == "postsuper: fatal: invalid directory name: bogus\n")
        let a = try t.write()
        let piped = PostSuper.run(arguments: ["-d", "-"], queue: t.queue, standardInput: { "\(a.value)\n" })
        #expect(piped.stderr.hasSuffix("Deleted: 1 message\n"))
    }
}
