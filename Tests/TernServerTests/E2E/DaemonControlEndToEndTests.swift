import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// `postfix reload`, `status`, `start` twice and `stop` against a running daemon.
    @Suite struct DaemonControl {
        static func body(size: Int) -> String {
            let line = String(repeating: "x", count: 99)
            let body = Array(repeating: line, count: size / 100).joined(separator: "\n")
            return "Subject: size \(size)\n\n" + body + "\n"
        }

        /// `postfix reload` at once after `postfix start` (before the mail daemon has its signal handler in
        /// place) is a reload, not the end of the daemon: the master starts it with SIGHUP blocked.
        @Test func reloadRightAfterStartDoesNotKillTheDaemon() throws {
            try TernInstance.with(start: false) { instance in
                for _ in 0..<3 {
                    #expect(try instance.postfix("start").status == 0)
                    #expect(try instance.postfix("reload").status == 0)
                    try instance.waitForLogLine(#"postfix/master\[\d+\]: reload -- version "#)
                    #expect(try instance.postfix("stop").status == 0)
                }
                #expect(!instance.maillog().contains("process tern/mtad pid"), "\(instance.maillog())")
            }
        }

        /// A new message_size_limit in main.cf applies to new sessions after `postfix reload`; a session that
        /// was open across the reload keeps the settings it started with.
        @Test func reloadPicksUpNewMessageSizeLimit() throws {
            try TernInstance.with(["message_size_limit": "100000"]) { instance in
                let before = try SMTPTestClient(port: instance.port)
                let ehlo = try before.greet()
                #expect(ehlo.lines.contains("SIZE 100000"), "\(ehlo)")
                let big = Self.body(size: 20_000)
                let accepted = try before.sendMail(from: "big@remote.example", to: ["alice@virt.test"], content: big)
                #expect(accepted.queueID != nil, "20 kB fits in 100000: \(accepted)")
                let pid = try #require(instance.masterPid())

                instance.set("message_size_limit", "10000")
                try instance.writeMainCF()
                let reload = try instance.postfix("reload")
                #expect(reload.status == 0, "\(reload)")
                try instance.waitForLogLine(#"postfix/master\[\d+\]: reload -- version "#)
                #expect(instance.masterPid() == pid, "reload keeps the same master process")

                let after = try SMTPTestClient(port: instance.port)
                let newEhlo = try after.greet()
                #expect(newEhlo.lines.contains("SIZE 10000"), "\(newEhlo)")
                let declared = try after.command("MAIL FROM:<big@remote.example> SIZE=20000")
                #expect(declared.code == 552, "\(declared)")
                #expect(declared.last == "5.3.4 Message size exceeds fixed limit", "\(declared)")
                let undeclared = try after.sendMail(from: "big@remote.example", to: ["alice@virt.test"], content: big)
                #expect(undeclared.code == 552, "\(undeclared)")
                #expect(undeclared.last == "5.3.4 Error: message file too big", "\(undeclared)")
                let small = try after.sendMail(
                    from: "small@remote.example", to: ["alice@virt.test"], content: "Subject: small\n\nsmall one\n")
                #expect(small.queueID != nil, "\(small)")
                #expect(try after.command("QUIT").code == 221)

                // The session opened before the reload still has the old limit.
                let old = try before.sendMail(from: "big@remote.example", to: ["alice@virt.test"], content: big)
                #expect(old.queueID != nil, "session from before the reload: \(old)")
                #expect(try before.command("QUIT").code == 221)

                _ = try instance.waitForMessage("alice", containing: "small one")
                try instance.waitForEmptyQueue()
                #expect(instance.messages(for: "alice").count == 3)
                #expect(instance.maillog().contains("warning: ") == false, "\(instance.maillog())")
            }
        }

        @Test func statusStartTwiceAndStop() throws {
            try TernInstance.with { instance in
                let pid = try #require(instance.masterPid())
                let pidText = try String(contentsOfFile: instance.queueDirectory + "/pid/master.pid", encoding: .utf8)
                // master.pid as Postfix writes it: the pid right-aligned in 10 columns.
                #expect(pidText == String(repeating: " ", count: 10 - "\(pid)".count) + "\(pid)\n", "\(pidText)")

                let status = try instance.postfix("status")
                #expect(status.status == 0, "\(status)")
                try instance.waitForLogLine(
                    #"postfix/postfix-script\[\d+\]: the Postfix mail system is running: PID: \#(pid)$"#)

                let second = try instance.postfix("start")
                #expect(second.status == 1, "\(second)")
                #expect(second.stderr.contains("fatal: the Postfix mail system is already running"), "\(second)")
                #expect(instance.masterPid() == pid, "a second start leaves the running daemon alone")

                // A session open across the stop is told the service is going away (or let finish).
                let stop = try instance.postfix("stop")
                #expect(stop.status == 0, "\(stop)")
                try instance.waitForLogLine(#"postfix/postfix-script\[\d+\]: stopping the Postfix mail system$"#)
                try instance.waitUntil("the master process to exit", timeout: 15) {
                    TernInstance.isAlive(pid) ? nil : true
                }
                try instance.waitUntil("port \(instance.port) to close", timeout: 10) {
                    TernInstance.portAccepts(instance.port) ? nil : true
                }
                #expect(!FileManager.default.fileExists(atPath: instance.queueDirectory + "/pid/master.pid"))

                let stopped = try instance.postfix("status")
                #expect(stopped.status == 1, "\(stopped)")
                try instance.waitForLogLine(#"postfix/postfix-script\[\d+\]: the Postfix mail system is not running$"#)
                let again = try instance.postfix("stop")
                #expect(again.status == 1, "\(again)")
                #expect(again.stderr.contains("fatal: the Postfix mail system is not running"), "\(again)")

                // And it starts again on the same directory and port.
                try instance.start()
                let restarted = try #require(instance.masterPid())
                #expect(restarted != pid)
                #expect(try instance.postfix("status").status == 0)
            }
        }

        /// `postfix stop` with a client connected and idle between transactions: the daemon exits (the
        /// client is told 421 or the connection closes) within the stop's wait.
        @Test func stopWithAnIdleClientConnected() throws {
            try TernInstance.with { instance in
                let pid = try #require(instance.masterPid())
                let client = try SMTPTestClient(port: instance.port, timeout: 30)
                try client.greet()
                let started = Date()
                let stop = try instance.postfix("stop", timeout: 90)
                #expect(stop.status == 0, "\(stop)")
                #expect(!TernInstance.isAlive(pid), "postfix stop returned while the daemon still runs")
                #expect(Date().timeIntervalSince(started) < 30, "stop took \(Date().timeIntervalSince(started))s")
                // The idle session gets a 421 on its next command, or finds the connection closed.
                let reply = try? client.command("NOOP")
                #expect(reply == nil || reply?.code == 421, "\(String(describing: reply))")
            }
        }
    }
}
