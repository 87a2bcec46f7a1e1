import Foundation
import Glibc
import Testing

@testable import TernDelivery

/// A system user made with useradd(8) for one test and removed afterwards (root only).
struct ThrowawayUser {
    let name: String
    let uid: UInt32
    let gid: UInt32
    let home: String

    init?(under directory: String) {
        name = "ternmbx\(UInt16.random(in: 1000...65000))"
        home = directory + "/home-" + name
        guard Self.run(["/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-d", home, name]),
            let entry = getpwnam(name)
        else { return nil }
        uid = entry.pointee.pw_uid
        gid = entry.pointee.pw_gid
        mkdir(home, 0o700)
        chown(home, uid, gid)
    }

    func remove() {
        _ = Self.run(["/usr/sbin/userdel", name])
    }

    @discardableResult
    static func run(_ argv: [String]) -> Bool {
        guard
            let child = ChildProcess.spawn(
                path: argv[0], argv: argv, environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], stdin: -1, stdout: -1,
                stderr: -1, credentials: nil, workingDirectory: nil)
        else { return false }
        let (status, _) = child.wait(until: Deadline(secondsFromNow: 30))
        return status == 0
    }
}

/// The real worker executable, when the build has one: `mailbox-worker` next to the test bundle (the helper
/// package builds it from `DeliveryWorker.runWorkerMain()`), or `TERN_DELIVERY_WORKER="path args..."`.
enum WorkerExecutable {
    static func find() -> (path: String, arguments: [String])? {
        if let spec = ProcessInfo.processInfo.environment["TERN_DELIVERY_WORKER"] {
            let parts = spec.split(separator: " ").map(String.init)
            if let first = parts.first { return (first, Array(parts.dropFirst())) }
        }
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        var directory = (exe as NSString).deletingLastPathComponent
        if directory.hasSuffix(".xctest/Contents/MacOS") {
            directory = (directory as NSString).deletingLastPathComponent
        }
        let candidate = directory + "/mailbox-worker"
        return access(candidate, X_OK) == 0 ? (candidate, []) : nil
    }
}

@Suite(.serialized, .enabled(if: geteuid() == 0, "switching uids needs root"))
struct WorkerPrivilegeTests {
    private func request(_ user: ThrowawayUser, kind: DeliveryWorkRequest.Kind, target: String) -> DeliveryWorkRequest {
        DeliveryWorkRequest(
            kind: kind, target: target, uid: user.uid, gid: user.gid, groups: [user.gid, 4], home: user.home,
            userName: user.name, sender: "s@client.example", recipient: "\(user.name)@acc.test",
            hostname: "mail.acc.test",
            prependHeaders: DeliveredHeaders.render(
                sender: "s@client.example", originalRecipient: nil, deliveredTo: "\(user.name)@acc.test"))
    }

    @Test func spawnedChildRunsWithTheRequestedIds() async throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let user = try #require(ThrowawayUser(under: dir))
        defer { user.remove() }
        let fd = MailboxTestSupport.contentFD("x\n")
        defer { close(fd) }
        let script = """
            cat > /dev/null; echo "$(id -u) $(id -g) $(id -G)" > \(user.home)/ids
            echo '{"dsn":"2.0.0","outcome":"delivered","text":"delivered to maildir","warnings":[]}'
            """
        let result = try await DeliveryWorker.spawn(
            request(user, kind: .maildir, target: user.home + "/Maildir/"), content: fd, length: 2,
            executable: "/bin/sh", arguments: ["-c", script])
        #expect(result.outcome == .delivered)
        #expect(MailboxTestSupport.read(user.home + "/ids") == "\(user.uid) \(user.gid) \(user.gid) 4\n")
    }

    @Test func realWorkerWritesMaildirAsTheUser() async throws {
        guard let worker = WorkerExecutable.find() else { return }  // no worker binary in this build
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let user = try #require(ThrowawayUser(under: dir))
        defer { user.remove() }
        let body = "Subject: priv\n\nFrom me\n"
        let fd = MailboxTestSupport.contentFD(body)
        defer { close(fd) }
        let result = try await DeliveryWorker.spawn(
            request(user, kind: .maildir, target: user.home + "/Maildir/"), content: fd, length: body.utf8.count,
            executable: worker.path, arguments: worker.arguments)
        #expect(result.text == "delivered to maildir")
        let path = try #require(result.deliveredPath)
        #expect(MailboxTestSupport.owner(path) == user.uid)
        #expect(MailboxTestSupport.owner(user.home + "/Maildir/new") == user.uid)
        #expect(MailboxTestSupport.mode(path) == 0o600)
        #expect(
            MailboxTestSupport.read(path) == "Return-Path: <s@client.example>\nDelivered-To: \(user.name)@acc.test\n"
                + body)

        // mbox through the same worker: the user cannot write a root-only directory, and says so.
        lseek(fd, 0, SEEK_SET)
        let refused = try await DeliveryWorker.spawn(
            request(user, kind: .mbox, target: dir + "/spool-" + user.name), content: fd, length: body.utf8.count,
            executable: worker.path, arguments: worker.arguments)
        #expect(
            refused
                == DeliveryWorkResult(
                    outcome: .bounced, dsn: "5.2.0",
                    text: "cannot update mailbox \(dir)/spool-\(user.name) for user \(user.name). "
                        + "cannot create file exclusively: Permission denied"))
    }

    @Test func inProcessDeliveryAsRootGivesFilesToTheUser() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let user = try #require(ThrowawayUser(under: dir))
        defer { user.remove() }
        let fd = MailboxTestSupport.contentFD("Subject: x\n\nbody\n")
        defer { close(fd) }
        let maildir = DeliveryWorker.perform(
            request(user, kind: .maildir, target: user.home + "/Maildir/"), contentFD: fd)
        #expect(MailboxTestSupport.owner(try #require(maildir.deliveredPath)) == user.uid)
        #expect(MailboxTestSupport.owner(user.home + "/Maildir/cur") == user.uid)

        lseek(fd, 0, SEEK_SET)
        let mbox = DeliveryWorker.perform(request(user, kind: .mbox, target: dir + "/spool"), contentFD: fd)
        #expect(mbox.outcome == .delivered)
        #expect(MailboxTestSupport.owner(dir + "/spool") == user.uid)

        lseek(fd, 0, SEEK_SET)
        let command = DeliveryWorker.perform(
            request(user, kind: .command, target: "id -u > \(user.home)/cmd-uid"), contentFD: fd)
        #expect(command.outcome == .delivered)
        #expect(MailboxTestSupport.read(user.home + "/cmd-uid") == "\(user.uid)\n")
    }
}
