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

    /// Each line comes out of the reader with the descriptor that was sent with it, not a neighbour's.
    @Test func descriptorTravelsWithItsLine() throws {
        var pair: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0)
        defer { pair.forEach { close($0) } }
        let first = MailboxTestSupport.contentFD("first file")
        let second = MailboxTestSupport.contentFD("second file")
        defer {
            close(first)
            close(second)
        }
        #expect(WorkerWire.send(Array("one\n".utf8), descriptor: first, over: pair[0]) == 0)
        #expect(WorkerWire.send(Array("two without\n".utf8), over: pair[0]) == 0)
        #expect(WorkerWire.send(Array(repeating: 0x41, count: 100_000) + [10], descriptor: second, over: pair[0]) == 0)
        var reader = WireReader(socket: pair[1], maximumLineLength: 1 << 20)
        defer { reader.closeDescriptors() }
        func contents(_ fd: Int32?) -> String {
            guard let fd else { return "none" }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = pread(fd, &buffer, buffer.count, 0)
            return String(decoding: buffer[..<max(0, n)], as: UTF8.self)
        }
        guard case .line(let one, let fd1) = reader.next(until: Deadline(secondsFromNow: 5)) else {
            Issue.record("no first line")
            return
        }
        #expect(one == Array("one".utf8) && contents(fd1) == "first file")
        guard case .line(let two, let fd2) = reader.next(until: Deadline(secondsFromNow: 5)) else {
            Issue.record("no second line")
            return
        }
        #expect(two == Array("two without".utf8) && contents(fd2) == "none")
        guard case .line(let three, let fd3) = reader.next(until: Deadline(secondsFromNow: 5)) else {
            Issue.record("no third line")
            return
        }
        #expect(three.count == 100_000 && contents(fd3) == "second file")
        guard case .timedOut = reader.next(until: Deadline(secondsFromNow: 0)) else {
            Issue.record("expected a time-out")
            return
        }
        close(pair[0])
        pair[0] = -1
        guard case .end = reader.next(until: Deadline(secondsFromNow: 5)) else {
            Issue.record("expected EOF")
            return
        }
    }

    /// The persistent worker's loop, in-process: several requests on one connection, each with the queue file
    /// positioned by the request; garbage and missing descriptors are answered, an endless line ends it.
    @Test func serveLoopAnswersEachRequestOnOneConnection() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        var pair: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0)
        let workerEnd = pair[1]
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            DeliveryWorker.serve(socket: workerEnd, idleTimeout: 30)
            close(workerEnd)  // as the worker process's exit would
            done.signal()
        }
        thread.start()
        defer {
            close(pair[0])
            done.wait()
        }
        var reader = WireReader(socket: pair[0], maximumLineLength: WorkerWire.maximumResultLength)
        func ask(_ line: [UInt8], _ fd: Int32?) -> DeliveryWorkResult? {
            guard WorkerWire.send(line, descriptor: fd, over: pair[0]) == 0,
                case .line(let answer, _) = reader.next(until: Deadline(secondsFromNow: 10))
            else { return nil }
            return WorkerWire.decodeResult(answer)
        }
        let prefix = "QUEUE FILE RECORDS\n"
        let message = "Subject: wire\n\nbody\n"
        let fd = MailboxTestSupport.contentFD(prefix + message + "TRAILER")
        defer { close(fd) }
        var request = maildirRequest(dir + "/Maildir/")
        request.contentOffset = prefix.utf8.count
        request.contentLength = message.utf8.count
        for _ in 0..<3 {
            let result = try #require(ask(try WorkerWire.encode(request), fd))
            #expect(result.text == "delivered to maildir")
            #expect(MailboxTestSupport.read(result.deliveredPath ?? "").hasSuffix("\n" + message))
        }
        #expect(MailboxTestSupport.files(in: dir + "/Maildir/new").count == 3)

        let garbage = try #require(ask(Array("not json\n".utf8), fd))
        #expect(garbage.outcome == .deferred && garbage.text.hasPrefix("malformed delivery request"))
        let bare = try #require(ask(try WorkerWire.encode(request), nil))
        #expect(bare == .failed(DeliveryFailure(dsn: "4.3.0", text: "delivery request without message descriptor")))
        var stranger = request
        stranger.uid = getuid() == 0 ? 0 : getuid() + 1
        if getuid() != 0 {
            let refused = try #require(ask(try WorkerWire.encode(stranger), fd))
            #expect(refused.outcome == .deferred && refused.text.hasSuffix("asked to deliver as uid \(stranger.uid)"))
        }

        let endless = Array(repeating: UInt8(0x7B), count: WorkerWire.maximumRequestLength + 10)
        let tooLong = try #require(ask(endless, nil))
        #expect(tooLong.text == "delivery request line too long")
        guard case .end = reader.next(until: Deadline(secondsFromNow: 10)) else {
            Issue.record("the worker should hang up after an endless line")
            return
        }
    }

    /// The master's handle against stand-in workers: a shell loop that answers every line, and ones that die,
    /// hang or cannot be executed.
    @Test func workerProcessReportsAnswersDeathsAndHangs() throws {
        let fd = MailboxTestSupport.contentFD("x\n")
        defer { close(fd) }
        let request = maildirRequest("/nonexistent/")
        let environment = ["PATH=/usr/bin:/bin"]
        let answer = #"{"dsn":"2.0.0","outcome":"delivered","text":"delivered to maildir","warnings":[]}"#
        let echo = try WorkerProcess.start(
            executable: "/bin/sh", arguments: ["-c", "while IFS= read -r line; do echo '\(answer)' >&0; done"],
            credentials: nil, environment: environment)
        for _ in 0..<3 {
            #expect(echo.perform(request, content: fd, timeLimit: 10) == .completed(.delivered("delivered to maildir")))
        }
        echo.stop()
        #expect(kill(echo.pid, 0) != 0)  // reaped, not a zombie

        let crashing = try WorkerProcess.start(
            executable: "/bin/sh", arguments: ["-c", "echo broken >&2; exit 3"], credentials: nil,
            environment: environment)
        let crashed = crashing.perform(request, content: fd, timeLimit: 10)
        #expect(crashed == .lost("delivery worker exit status 3 without a result"))

        let hanging = try WorkerProcess.start(
            executable: "/bin/sh", arguments: ["-c", "sleep 30"], credentials: nil, environment: environment)
        #expect(hanging.perform(request, content: fd, timeLimit: 1) == .failed("delivery worker time limit exceeded"))
        #expect(kill(hanging.pid, 0) != 0)

        let babbling = try WorkerProcess.start(
            executable: "/bin/sh", arguments: ["-c", "read line; echo not-json >&0; sleep 30"], credentials: nil,
            environment: environment)
        let babbled = babbling.perform(request, content: fd, timeLimit: 10)
        #expect(babbled == .failed("delivery worker sent a malformed result"))

        let missing = try WorkerProcess.start(
            executable: "/nonexistent/worker", arguments: [], credentials: nil, environment: environment)
        #expect(missing.perform(request, content: fd, timeLimit: 10) == .lost("delivery worker cannot be executed"))
    }
}
