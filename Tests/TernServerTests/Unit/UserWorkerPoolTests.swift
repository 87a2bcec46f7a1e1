import Foundation
import Glibc
import TernDelivery
import Testing

@testable import TernServer

/// The master's persistent delivery workers, with the real `tern libexec deliver --serve`. As root the workers
/// run as `nobody`; otherwise as ourselves.
@Suite(.serialized, .enabled(if: TernBinary.path != nil, "needs the tern executable"))
struct UserWorkerPoolTests {
    /// A directory the worker's user may write, with a queue-file stand-in: records, then the message.
    struct Fixture {
        let directory: String
        let uid: UInt32
        let gid: UInt32
        let content: Int32
        static let prefix = "QUEUE RECORDS\n"
        static let message = "Subject: pooled\n\nbody\n"

        init(_ name: String = #function) throws {
            if geteuid() == 0 {
                let nobody = try #require(getpwnam("nobody")).pointee
                (uid, gid) = (nobody.pw_uid, nobody.pw_gid)
            } else {
                (uid, gid) = (geteuid(), getegid())
            }
            let base = NSTemporaryDirectory() + "tern-pool-\(getpid())-\(name.prefix { $0 != "(" })"
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            chmod(base, 0o755)
            directory = base + "/home"
            mkdir(directory, 0o700)
            chown(directory, uid, gid)
            let path = base + "/queuefile"
            _ = FileManager.default.createFile(atPath: path, contents: Data((Self.prefix + Self.message).utf8))
            content = open(path, O_RDONLY | O_CLOEXEC)
        }

        func reopen() -> Int32 {
            open((directory as NSString).deletingLastPathComponent + "/queuefile", O_RDONLY | O_CLOEXEC)
        }

        func request(_ kind: DeliveryWorkRequest.Kind = .maildir, target: String? = nil) -> DeliveryWorkRequest {
            var request = DeliveryWorkRequest(
                kind: kind, target: target ?? directory + "/Maildir/", uid: uid, gid: gid, home: directory,
                userName: "pooled", sender: "s@client.example", recipient: "pooled@acc.test",
                hostname: "mail.acc.test")
            request.contentOffset = Self.prefix.utf8.count
            request.contentLength = Self.message.utf8.count
            return request
        }

        var credentials: WorkerProcess.Credentials { WorkerProcess.Credentials(request()) }

        func remove() {
            close(content)
            try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent)
        }
    }

    private func pool(_ limits: WorkerPoolLimits = WorkerPoolLimits()) throws -> UserWorkerPool {
        UserWorkerPool(executable: try #require(TernBinary.path), limits: limits)
    }

    private func owner(_ path: String) -> uid_t {
        let owner = (try? FileManager.default.attributesOfItem(atPath: path))?[.ownerAccountID] as? NSNumber
        return owner?.uint32Value ?? uid_t.max
    }

    /// Runs `body` with the pool's `run()` going, then stops it (which stops every worker).
    private func withRunningPool(_ pool: UserWorkerPool, _ body: () async throws -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            try await body()
        }
    }

    @Test func oneWorkerServesSuccessiveDeliveries() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let pool = try pool()
        try await withRunningPool(pool) {
            for _ in 0..<3 {
                let result = await pool.deliver(fixture.request(), content: fixture.content)
                #expect(result.text == "delivered to maildir")
                let path = try #require(result.deliveredPath)
                #expect(owner(path) == fixture.uid)
                let written = try String(contentsOfFile: path, encoding: .utf8)
                #expect(written == Fixture.message)
            }
            #expect(await pool.started == 1)
            #expect(await pool.idleWorkers(for: fixture.credentials).count == 1)
        }
    }

    @Test func workerRunsAsTheUser() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let pool = try pool()
        try await withRunningPool(pool) {
            let command = await pool.deliver(
                fixture.request(.command, target: "id -u > \(fixture.directory)/uid"), content: fixture.content)
            #expect(command.text == "delivered to command: id -u > \(fixture.directory)/uid")
            #expect((try? String(contentsOfFile: fixture.directory + "/uid", encoding: .utf8)) == "\(fixture.uid)\n")
            if geteuid() == 0 {
                // nobody cannot write where only root may.
                let parent = (fixture.directory as NSString).deletingLastPathComponent
                let refused = await pool.deliver(
                    fixture.request(.mbox, target: parent + "/spool"), content: fixture.content)
                #expect(refused.outcome == .bounced)
                #expect(refused.text.hasSuffix("cannot create file exclusively: Permission denied"))
            }
            #expect(await pool.started == 1)
        }
    }

    @Test func killedIdleWorkerIsReplaced() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let pool = try pool()
        try await withRunningPool(pool) {
            #expect(await pool.deliver(fixture.request(), content: fixture.content).outcome == .delivered)
            let first = try #require(await pool.idleWorkers(for: fixture.credentials).first)
            kill(first, SIGKILL)
            let again = await pool.deliver(fixture.request(), content: fixture.content)
            #expect(again.outcome == .delivered)
            #expect(await pool.started == 2)
            let second = try #require(await pool.idleWorkers(for: fixture.credentials).first)
            #expect(second != first)
            #expect(kill(first, 0) != 0)  // reaped: no zombie left
        }
    }

    @Test func workerThatNeverAnswersIsRetriedOnceThenDeferred() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let pool = UserWorkerPool(executable: "/bin/sh", arguments: ["-c", "exit 3"], switchUser: false)
        var request = fixture.request()
        request.uid = geteuid()
        let result = await pool.deliver(request, content: fixture.content)
        #expect(
            result
                == DeliveryWorkResult(
                    outcome: .deferred, dsn: "4.3.0", text: "delivery worker exit status 3 without a result"))
        #expect(await pool.started == 2)
    }

    @Test func concurrentDeliveriesShareAFewWorkers() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var limits = WorkerPoolLimits()
        limits.perUser = 2
        let pool = try pool(limits)
        try await withRunningPool(pool) {
            let outcomes = await withTaskGroup(of: DeliveryWorkResult.Outcome.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        // Each delivery its own open file (and offset), as UserDeliveryExecutor opens the queue file.
                        let content = fixture.reopen()
                        defer { close(content) }
                        return await pool.deliver(fixture.request(), content: content).outcome
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: .delivered, count: 8))
            #expect(await pool.started <= 2)
            let files = try FileManager.default.contentsOfDirectory(atPath: fixture.directory + "/Maildir/new")
            #expect(files.count == 8)
        }
    }

    @Test func idleWorkersAreRetired() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var limits = WorkerPoolLimits()
        limits.idleTimeout = .milliseconds(200)
        limits.sweepInterval = .milliseconds(50)
        let pool = try pool(limits)
        try await withRunningPool(pool) {
            #expect(await pool.deliver(fixture.request(), content: fixture.content).outcome == .delivered)
            let pid = try #require(await pool.idleWorkers(for: fixture.credentials).first)
            try await Task.sleep(for: .seconds(1))
            #expect(await pool.idleWorkers(for: fixture.credentials).isEmpty)
            #expect(kill(pid, 0) != 0)
        }
    }
}
