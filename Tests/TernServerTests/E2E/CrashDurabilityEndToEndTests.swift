import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// Durability under `kill -9`: a client streams messages (each with a unique token) while the daemon is
    /// killed at a chosen point; after `postfix start` and an empty queue, every message the client got a
    /// `250 ... queued as` for is in the Maildir exactly once, and no message whose end of data was never sent
    /// was delivered.
    @Suite struct CrashDurability {
        /// Where in the client's stream the daemon is killed.
        enum KillPoint: String, CaseIterable, CustomStringConvertible {
            /// Half of the content of a message has been sent (no end of data yet).
            case midData
            /// Right after the client read `250 ... queued as`: earlier messages are still being delivered.
            case afterQueued
            /// The final `.` was sent, its reply not read: the message may or may not have been committed.
            case afterEndOfData

            var description: String { rawValue }
        }

        /// What the client knows about one message.
        enum Fate: Equatable {
            case queued(String)
            /// End of data never sent: must not be delivered.
            case unfinished
            /// End of data sent, no reply: delivered at most once.
            case unknown
        }

        /// Messages accepted before the kill.
        static let killAfter = 30

        @Test func killDashNineWhileClientStreamsLosesAndDuplicatesNothing() throws {
            try ChildSubreaper.during { try Self.killAndRestartRounds() }
        }

        static func killAndRestartRounds() throws {
            try TernInstance.with { instance in
                // Per token, how often it was in the Maildir when its round was checked.
                var seen: [String: Int] = [:]
                for (round, point) in KillPoint.allCases.enumerated() {
                    let pid = try #require(instance.masterPid())
                    let fates = try Self.stream(instance, round: round, point: point, pid: pid)
                    // The daemon was our child (subreaper): reap it, so it does not linger as a zombie.
                    ChildSubreaper.reap(pid)
                    try instance.waitUntil("the killed master (\(pid)) to be gone", timeout: 10) {
                        TernInstance.isAlive(pid) ? nil : true
                    }
                    try instance.waitUntil("port \(instance.port) to close", timeout: 10) {
                        TernInstance.portAccepts(instance.port) ? nil : true
                    }
                    let start = try instance.postfix("start")
                    #expect(start.status == 0, "restart after kill -9 (\(point)): \(start)")
                    guard start.status == 0 else { return }
                    try instance.waitUntil("smtpd after restart", timeout: 15) {
                        TernInstance.portAccepts(instance.port) ? true : nil
                    }
                    try instance.waitForEmptyQueue(timeout: 40)
                    let counts = Self.verify(instance, fates: fates, after: point)
                    for token in fates.keys { seen[token] = counts[token] ?? 0 }
                }
                // Later restarts did not deliver anything from an earlier round again.
                let counts = Self.tokenCounts(instance).counts
                for (token, count) in counts where seen[token] == nil {
                    Issue.record("delivered \(count)x a message the client never sent: \(token)")
                }
                for (token, count) in seen where counts[token] ?? 0 != count {
                    Issue.record("\(token): \(count)x after its round, \(counts[token] ?? 0)x at the end")
                }
                // Nothing is left behind in the queue, and nothing was moved aside as corrupt.
                for queue in ["incoming", "active", "deferred", "hold", "corrupt"] {
                    let files = Self.files(under: instance.queueDirectory + "/" + queue)
                    #expect(files.isEmpty, "\(queue)/ after recovery: \(files)")
                }
                let log = instance.maillog()
                #expect(!log.contains("panic:") && !log.contains("fatal:"), "\(log)")
            }
        }

        /// Regression: after `kill -9` the master stays a zombie where nothing reaps it (pid 1 of a
        /// container, or a parent that does not wait). Its master.pid lock is gone, so `postfix start` must
        /// start a new daemon rather than say "already running" (kill(pid, 0) succeeds for a zombie).
        @Test func restartAfterKillWhileMasterIsAnUnreapedZombie() throws {
            try ChildSubreaper.during {
                try TernInstance.with { instance in
                    let pid = try #require(instance.masterPid())
                    #expect(ChildSubreaper.parentPid(of: pid) == getpid(), "the daemon should be our child")
                    kill(pid, SIGKILL)
                    try instance.waitUntil("the killed master to be a zombie", timeout: 10) {
                        ChildSubreaper.state(of: pid) == "Z" ? true : nil
                    }
                    try instance.waitUntil("port \(instance.port) to close", timeout: 10) {
                        TernInstance.portAccepts(instance.port) ? nil : true
                    }
                    let start = try instance.postfix("start")
                    #expect(start.status == 0, "postfix start with a zombie in master.pid: \(start)")
                    if start.status == 0 {
                        try instance.waitUntil("smtpd after restart", timeout: 15) {
                            TernInstance.portAccepts(instance.port) ? true : nil
                        }
                        let status = try instance.postfix("status")
                        #expect(status.status == 0, "\(status)")
                        #expect(instance.masterPid() != pid)
                    }
                    ChildSubreaper.reap(pid)
                }
            }
        }

        /// Streams messages over one connection and kills the master at `point` of message `killAfter`.
        static func stream(_ instance: TernInstance, round: Int, point: KillPoint, pid: pid_t) throws
            -> [String: Fate]
        {
            var fates: [String: Fate] = [:]
            let client = try SMTPTestClient(port: instance.port, timeout: 10)
            defer { client.close() }
            try client.greet()
            let padding = (0..<40).map { "padding line \($0) " + String(repeating: "z", count: 60) }
            for index in 0...killAfter {
                let token = "crash-\(round)-\(index)-\(UUID().uuidString.prefix(8))"
                let content = SMTPTestClient.encodeContent(
                    (["X-Token: \(token)", "Subject: crash \(point) \(index)", ""] + padding + ["end \(token)"])
                        .joined(separator: "\n"))
                let mail = try client.command("MAIL FROM:<stream@remote.example>")
                let rcpt = try client.command("RCPT TO:<alice@virt.test>")
                let data = try client.command("DATA")
                guard mail.code == 250, rcpt.code == 250, data.code == 354 else {
                    Issue.record("message \(index) of round \(round) refused: \(mail) \(rcpt) \(data)")
                    kill(pid, SIGKILL)
                    return fates
                }
                let bytes = Array(content.utf8)
                let last = index == killAfter
                if last && point == .midData {
                    try client.send(Array(bytes[..<(bytes.count / 2)]))
                    fates[token] = .unfinished
                    usleep(20_000)  // let the daemon write some of it to the queue file
                    kill(pid, SIGKILL)
                    return fates
                }
                try client.send(bytes)
                if last && point == .afterEndOfData {
                    fates[token] = .unknown
                    kill(pid, SIGKILL)
                    return fates
                }
                let end = try client.readReply()
                guard let id = end.queueID else {
                    Issue.record("message \(index) of round \(round) not queued: \(end)")
                    fates[token] = .unknown
                    kill(pid, SIGKILL)
                    return fates
                }
                fates[token] = .queued(id)
                if last {
                    kill(pid, SIGKILL)
                    return fates
                }
            }
            return fates
        }

        /// The X-Token of every message in alice's Maildir: how often, and in which files.
        static func tokenCounts(_ instance: TernInstance) -> (counts: [String: Int], files: [String: [String]]) {
            var counts: [String: Int] = [:]
            var files: [String: [String]] = [:]
            for message in instance.messages(for: "alice") {
                guard let line = message.content.split(separator: "\n").first(where: { $0.hasPrefix("X-Token: ") })
                else {
                    Issue.record("a message without X-Token in the Maildir: \(message.path)")
                    continue
                }
                let token = String(line.dropFirst("X-Token: ".count))
                counts[token, default: 0] += 1
                files[token, default: []].append((message.path as NSString).lastPathComponent)
                #expect(message.content.contains("end \(token)\n"), "truncated delivery of \(token): \(message.path)")
            }
            return (counts, files)
        }

        /// Checks one round's messages against what the client was told; returns the counts of all tokens.
        static func verify(_ instance: TernInstance, fates: [String: Fate], after point: KillPoint) -> [String: Int] {
            let (counts, files) = tokenCounts(instance)
            for (token, fate) in fates.sorted(by: { $0.key < $1.key }) {
                let count = counts[token] ?? 0
                switch fate {
                case .queued(let id):
                    #expect(
                        count == 1,
                        "kill \(point): \(token) (queued as \(id)) delivered \(count)x \(files[token] ?? [])")
                case .unfinished:
                    #expect(count == 0, "kill \(point): \(token) was never completed but delivered \(count)x")
                case .unknown:
                    #expect(count <= 1, "kill \(point): \(token) (no reply) delivered \(count)x \(files[token] ?? [])")
                }
            }
            return counts
        }

        static func files(under directory: String) -> [String] {
            guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
            var result: [String] = []
            while let name = enumerator.nextObject() as? String {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory),
                    !isDirectory.boolValue
                {
                    result.append(name)
                }
            }
            return result
        }
    }
}
