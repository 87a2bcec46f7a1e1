import Foundation
import Glibc
import Testing

@testable import TernDelivery

@Suite(.serialized) struct DeliveryWorkerTests {
    private func maildirRequest(_ maildir: String, uid: UInt32 = getuid(), gid: UInt32 = getgid())
        -> DeliveryWorkRequest
    {
        DeliveryWorkRequest(
            kind: .maildir, target: maildir, uid: uid, gid: gid, userName: "accuser2", sender: "s@client.example",
            recipient: "accuser2@acc.test", originalRecipient: "accuser2@acc.test", hostname: "mail.acc.test",
            prependHeaders: DeliveredHeaders.render(
                sender: "s@client.example", originalRecipient: "accuser2@acc.test", deliveredTo: "accuser2@acc.test"))
    }

    @Test func requestAndResultSurviveTheWire() throws {
        var request = maildirRequest("/home/u/Maildir/")
        request.clientEnvironment = ["CLIENT_ADDRESS": "127.0.0.1"]
        request.createOwnership = FileOwnership(uid: 5, gid: 6)
        let line = try WorkerWire.encode(request)
        #expect(line.last == 10)
        #expect(line.dropLast().firstIndex(of: 10) == nil)
        #expect(try WorkerWire.decodeRequest(Array(line.dropLast())).get() == request)

        let result = DeliveryWorkResult.failed(DeliveryFailure(dsn: "5.2.2", text: "a\nb"), warnings: ["w"])
        let encoded = WorkerWire.encode(result)
        #expect(encoded.dropLast().firstIndex(of: 10) == nil)
        #expect(WorkerWire.decodeResult(encoded.dropLast()) == result)
    }

    @Test func performReportsPostfixStatusTexts() {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let fd = MailboxTestSupport.contentFD("Subject: x\n\nhi\n")
        defer { close(fd) }
        let result = DeliveryWorker.perform(maildirRequest(dir + "/Maildir/"), contentFD: fd)
        #expect(result.outcome == .delivered && result.dsn == "2.0.0" && result.text == "delivered to maildir")
        let path = try! #require(result.deliveredPath)
        #expect(MailboxTestSupport.read(path).hasPrefix("Return-Path: <s@client.example>\nX-Original-To: "))

        var mbox = maildirRequest(dir + "/mbox")
        mbox.kind = .mbox
        lseek(fd, 0, SEEK_SET)
        #expect(DeliveryWorker.perform(mbox, contentFD: fd) == .delivered("delivered to mailbox", path: dir + "/mbox"))

        var file = maildirRequest(dir + "/file")
        file.kind = .file
        lseek(fd, 0, SEEK_SET)
        #expect(
            DeliveryWorker.perform(file, contentFD: fd)
                == .delivered("delivered to file: \(dir)/file", path: dir + "/file"))

        mbox.mailboxSizeLimit = MailboxTestSupport.size(dir + "/mbox") + 10
        lseek(fd, 0, SEEK_SET)
        #expect(
            DeliveryWorker.perform(mbox, contentFD: fd)
                == DeliveryWorkResult(
                    outcome: .bounced, dsn: "5.2.2",
                    text: "cannot update mailbox \(dir)/mbox for user accuser2. error writing message: File too large"))

        var blocked = maildirRequest("/proc/version/Maildir/")
        blocked.kind = .file
        lseek(fd, 0, SEEK_SET)
        let failed = DeliveryWorker.perform(blocked, contentFD: fd)
        #expect(failed.outcome == .deferred)
        #expect(failed.text.hasPrefix("maildir delivery failed: create maildir file /proc/version/Maildir/tmp/"))
    }

    @Test func workerMainReadsRequestThenMessage() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let message = "Subject: wire\n\nbody\n"
        var input = try WorkerWire.encode(maildirRequest(dir + "/Maildir/"))
        input += Array(message.utf8)
        let fd = MailboxTestSupport.contentFD(input)
        defer { close(fd) }
        let result = DeliveryWorker.serve(input: fd)
        #expect(result.text == "delivered to maildir")
        #expect(MailboxTestSupport.read(result.deliveredPath ?? "").hasSuffix("\n" + message))

        let garbage = MailboxTestSupport.contentFD("not json\nrest")
        defer { close(garbage) }
        let refused = DeliveryWorker.serve(input: garbage)
        #expect(refused.outcome == .deferred && refused.text.hasPrefix("malformed delivery request"))
    }

    /// The spawn path against a stand-in worker: a shell script that records what it received and the uid it
    /// runs as, then answers with a fixed result line.
    @Test func spawnStreamsRequestAndContentToAChildAndReadsItsResult() async throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let script = """
            IFS= read -r line; printf '%s\\n' "$line" > \(dir)/request; cat > \(dir)/content; id -u > \(dir)/uid
            echo '{"dsn":"2.0.0","outcome":"delivered","text":"delivered to maildir","warnings":[]}'
            """
        let body = "Subject: big\n\n" + String(repeating: String(repeating: "b", count: 79) + "\n", count: 5000)
        let fd = MailboxTestSupport.contentFD("IGNORED PREFIX" + body)
        defer { close(fd) }
        lseek(fd, off_t("IGNORED PREFIX".utf8.count), SEEK_SET)
        let request = maildirRequest(dir + "/Maildir/")
        let result = try await DeliveryWorker.spawn(
            request, content: fd, length: body.utf8.count, executable: "/bin/sh", arguments: ["-c", script])
        #expect(result == .delivered("delivered to maildir"))
        #expect(MailboxTestSupport.read(dir + "/content") == body)
        let sent = try WorkerWire.decodeRequest(Array(MailboxTestSupport.read(dir + "/request").utf8.dropLast())).get()
        #expect(sent.contentLength == body.utf8.count)
        #expect(sent.target == request.target)
        #expect(MailboxTestSupport.read(dir + "/uid") == "\(geteuid())\n")
    }

    @Test func spawnReportsWorkersThatFailOrHang() async throws {
        let fd = MailboxTestSupport.contentFD("x\n")
        defer { close(fd) }
        let request = maildirRequest("/nonexistent/")
        let crashed = try await DeliveryWorker.spawn(
            request, content: fd, length: 2, executable: "/bin/sh", arguments: ["-c", "echo broken >&2; exit 3"])
        #expect(
            crashed
                == DeliveryWorkResult(
                    outcome: .deferred, dsn: "4.3.0", text: "delivery worker exit status 3 without a result: broken"))

        lseek(fd, 0, SEEK_SET)
        let hung = try await DeliveryWorker.spawn(
            request, content: fd, length: 2, executable: "/bin/sh", arguments: ["-c", "sleep 30"], timeLimit: 1)
        #expect(
            hung == DeliveryWorkResult(outcome: .deferred, dsn: "4.3.0", text: "delivery worker time limit exceeded"))

        lseek(fd, 0, SEEK_SET)
        let missing = try await DeliveryWorker.spawn(
            request, content: fd, length: 2, executable: "/nonexistent/worker", arguments: [])
        #expect(missing.outcome == .deferred && missing.text == "delivery worker cannot be executed")
    }
}
