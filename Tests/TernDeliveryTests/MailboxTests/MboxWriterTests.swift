import Glibc
import Testing

@testable import TernDelivery

@Suite struct MboxWriterTests {
    let date = 1_698_915_907  // Thu Nov  2 09:05:07 2023 UTC

    init() {
        setenv("TZ", "UTC", 1)
        tzset()
    }

    private func append(
        _ writer: MboxWriter, to path: String, _ text: String, sender: String = "mboxer@client.example",
        header: String = "Return-Path: <mboxer@client.example>\nDelivered-To: accuser3@acc.test\n"
    ) throws(DeliveryFailure) -> [String] {
        let fd = MailboxTestSupport.contentFD(text)
        defer { close(fd) }
        var warnings: [String] = []
        try writer.append(
            to: path, sender: sender, header: Array(header.utf8), contentFD: fd, date: date, warnings: &warnings)
        return warnings
    }

    @Test func appendsTwoMessagesWithFromLinesQuotingAndBlankLines() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let path = dir + "/accuser3"
        let writer = MboxWriter(lockPolicy: MailboxTestSupport.fastLocks)
        _ = try append(
            writer, to: path, "Subject: one\n\nfirst\nFrom the start of a line\n>From stays\n From indented\n")
        _ = try append(writer, to: path, "Subject: two\n\nsecond", sender: "")

        let expected = """
            From mboxer@client.example  Thu Nov  2 09:05:07 2023
            Return-Path: <mboxer@client.example>
            Delivered-To: accuser3@acc.test
            Subject: one

            first
            >From the start of a line
            >From stays
             From indented

            From MAILER-DAEMON  Thu Nov  2 09:05:07 2023
            Return-Path: <mboxer@client.example>
            Delivered-To: accuser3@acc.test
            Subject: two

            second


            """
        #expect(MailboxTestSupport.read(path) == expected)
        #expect(MailboxTestSupport.mode(path) == 0o600)
        // The dot-lock is gone once the append is done.
        #expect(access(path + ".lock", F_OK) != 0)
    }

    @Test func fromQuotingWorksAcrossReadChunks() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let path = dir + "/box"
        // Put a "From " line right across the 64 KiB read boundary.
        let filler = String(repeating: "a", count: MessageCopier.chunkSize - 3) + "\n"
        let body = "Subject: s\n\n" + filler.dropFirst(12) + "From split\nend\n"
        _ = try append(MboxWriter(lockPolicy: MailboxTestSupport.fastLocks), to: path, String(body), header: "")
        let text = MailboxTestSupport.read(path)
        #expect(text.contains("\n>From split\nend\n\n"))
        #expect(
            text.utf8.count == "From mboxer@client.example  Thu Nov  2 09:05:07 2023\n".utf8.count + body.utf8.count + 2
        )
    }

    @Test func busyDotLockDefersAndStaleLockIsBroken() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let path = dir + "/box"
        close(open(path + ".lock", O_CREAT | O_WRONLY, 0))
        let writer = MboxWriter(lockPolicy: MailboxTestSupport.fastLocks)
        #expect(
            throws: DeliveryFailure(
                dsn: "4.2.0", text: "unable to create lock file \(path).lock: File exists")
        ) {
            _ = try append(writer, to: path, "x\n")
        }
        #expect(access(path + ".lock", F_OK) == 0)  // someone else's lock is left alone

        // A lock older than stale_lock_time is removed (ctime is "now", so use a zero stale time).
        var stalePolicy = MailboxTestSupport.fastLocks
        stalePolicy.staleSeconds = -1
        _ = try append(MboxWriter(lockPolicy: stalePolicy), to: path, "x\n")
        #expect(access(path + ".lock", F_OK) != 0)
        #expect(MailboxTestSupport.read(path).contains("\nx\n\n"))
    }

    @Test(arguments: [MailboxLockPolicy.Method.fcntl, .flock])
    func kernelLockHeldElsewhereDefers(method: MailboxLockPolicy.Method) throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let path = dir + "/box"
        close(open(path, O_CREAT | O_WRONLY, 0o600))
        // Another process holds the lock: fcntl locks are per process, so it must not be us.
        let holder =
            method == .fcntl
            ? [
                "/usr/bin/python3", "-c",
                "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.lockf(f, fcntl.LOCK_EX); time.sleep(3)", path,
            ]
            : ["/usr/bin/flock", "-x", path, "-c", "sleep 3"]
        let child = ChildProcess.spawn(
            path: holder[0], argv: holder, environment: [], stdin: -1, stdout: -1, stderr: -1, credentials: nil,
            workingDirectory: nil)
        #expect(child != nil)
        usleep(500_000)
        let policy = MailboxLockPolicy(methods: [method, .dotlock], attempts: 2, delaySeconds: 0.05)
        #expect(
            throws: DeliveryFailure(
                dsn: "4.2.0", text: "unable to lock for exclusive access: Resource temporarily unavailable")
        ) {
            _ = try append(MboxWriter(lockPolicy: policy), to: path, "x\n")
        }
        #expect(access(path + ".lock", F_OK) != 0)  // our dot-lock is undone when the kernel lock fails
        #expect(MailboxTestSupport.size(path) == 0)
        child?.kill()
        _ = child?.wait(until: Deadline(secondsFromNow: 5))
    }

    @Test func sizeLimitRefusesAndTruncatesBack() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let path = dir + "/box"
        let writer = MboxWriter(lockPolicy: MailboxTestSupport.fastLocks, sizeLimit: 30_000)
        let filler = String(repeating: String(repeating: "y", count: 70) + "\n", count: 200)  // ~14 KB
        _ = try append(writer, to: path, "Subject: a\n\n" + filler)
        _ = try append(writer, to: path, "Subject: b\n\n" + filler)
        let before = MailboxTestSupport.size(path)
        #expect(before <= 30_000)
        #expect(throws: DeliveryFailure(dsn: "5.2.2", text: "error writing message: File too large")) {
            _ = try append(writer, to: path, "Subject: c\n\n" + filler)
        }
        #expect(MailboxTestSupport.size(path) == before)
        #expect(access(path + ".lock", F_OK) != 0)
    }

    @Test func refusesSymlinksAndFilesWithSeveralLinks() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let target = dir + "/target"
        close(open(target, O_CREAT | O_WRONLY, 0o600))
        link(target, dir + "/hard")
        let writer = MboxWriter(lockPolicy: MailboxTestSupport.fastLocks)
        #expect(throws: DeliveryFailure(dsn: "5.2.0", text: "file has 2 hard links")) {
            _ = try append(writer, to: dir + "/hard", "x\n")
        }
        #expect(MailboxTestSupport.size(target) == 0)
    }

    @Test func fileDestinationRefusesExecutablesAndWritesDevices() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let script = dir + "/script"
        close(open(script, O_CREAT | O_WRONLY, 0o700))
        let writer = MboxWriter.forFileDestination(lockPolicy: MailboxTestSupport.fastLocks, sizeLimit: 0)
        #expect(throws: DeliveryFailure(dsn: "5.7.1", text: "file is executable")) {
            _ = try append(writer, to: script, "x\n")
        }
        _ = try append(writer, to: "/dev/null", "x\n")
        #expect(throws: DeliveryFailure(dsn: "5.2.0", text: "destination /dev/null is not a regular file")) {
            _ = try append(MboxWriter(lockPolicy: MailboxTestSupport.fastLocks), to: "/dev/null", "x\n")
        }
    }

    @Test func strictOwnershipDefers() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let path = dir + "/box"
        close(open(path, O_CREAT | O_WRONLY, 0o600))
        let writer = MboxWriter(lockPolicy: MailboxTestSupport.fastLocks, requiredOwner: getuid() + 1)
        #expect(throws: DeliveryFailure(dsn: "4.2.0", text: "destination \(path) is not owned by recipient")) {
            _ = try append(writer, to: path, "x\n")
        }
    }

    @Test func lockMethodsParse() {
        #expect(MailboxLockPolicy.methods(from: "fcntl, dotlock") == [.fcntl, .dotlock])
        #expect(MailboxLockPolicy.methods(from: "flock") == [.flock])
        #expect(MailboxLockPolicy.methods(from: "fcntl, bogus") == nil)
    }
}
