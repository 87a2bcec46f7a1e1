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

    @Test func workerProcessRunsWithTheRequestedIds() throws {
        let dir = MailboxTestSupport.makeDirectory()
        defer { MailboxTestSupport.remove(dir) }
        let user = try #require(ThrowawayUser(under: dir))
        defer { user.remove() }
        let fd = MailboxTestSupport.contentFD("x\n")
        defer { close(fd) }
        let script = """
            read line; echo "$(id -u) $(id -g) $(id -G)" > \(user.home)/ids
            echo '{"dsn":"2.0.0","outcome":"delivered","text":"delivered to maildir","warnings":[]}' >&0; read line
            """
        let worker = try WorkerProcess.start(
            executable: "/bin/sh", arguments: ["-c", script],
            credentials: WorkerProcess.Credentials(uid: user.uid, gid: user.gid, groups: [user.gid, 4]),
            environment: ["PATH=/usr/bin:/bin"])
        let outcome = worker.perform(
            request(user, kind: .maildir, target: user.home + "/Maildir/"), content: fd, timeLimit: 10)
        worker.stop()
        #expect(outcome == .completed(.delivered("delivered to maildir")))
        #expect(MailboxTestSupport.read(user.home + "/ids") == "\(user.uid) \(user.gid) \(user.gid) 4\n")
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
