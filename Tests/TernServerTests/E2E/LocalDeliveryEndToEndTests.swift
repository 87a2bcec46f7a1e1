import Foundation
import Glibc
import Testing

extension DaemonEndToEnd {
    /// local(8) delivery to a system user needs root (the delivery runs as that user). These tests are skipped
    /// when the tests do not run as root. They use the `nobody` account and an mbox in a mail_spool_directory
    /// under the instance directory, so no real home directory is touched.
    @Suite(.enabled(if: geteuid() == 0 && getpwnam("nobody") != nil, "needs root and a `nobody` account"))
    struct LocalDeliveryAsRoot {
        @Test func mailForSystemUserGoesToSpoolMboxAsThatUser() throws {
            try TernInstance.with(["home_mailbox": ""]) { instance in
                let nobody = try #require(getpwnam("nobody")).pointee
                let token = "local-\(UUID().uuidString)"
                let client = try SMTPTestClient(port: instance.port)
                try client.greet()
                let end = try client.sendMail(
                    from: "sender@remote.example", to: ["nobody@\(TernInstance.hostname)"],
                    content: "Subject: \(token)\n\nfor nobody \(token)\n")
                let id = try #require(end.queueID, "\(end)")
                #expect(try client.command("QUIT").code == 221)

                let mbox = instance.spoolDirectory + "/nobody"
                let text = try instance.waitUntil("the spool mbox of nobody", timeout: 20) { () -> String? in
                    guard let data = FileManager.default.contents(atPath: mbox) else { return nil }
                    let text = String(decoding: data, as: UTF8.self)
                    return text.contains(token) ? text : nil
                }
                #expect(text.hasPrefix("From sender@remote.example "), "\(text.prefix(80))")
                #expect(text.contains("\nReturn-Path: <sender@remote.example>\n"), "\(text)")
                #expect(text.contains("\nDelivered-To: nobody@\(TernInstance.hostname)\n"), "\(text)")
                #expect(text.contains("\nX-Original-To: nobody@\(TernInstance.hostname)\n"), "\(text)")
                #expect(text.hasSuffix("for nobody \(token)\n\n"), "an mbox message ends with an empty line")
                let owner = try #require(
                    FileManager.default.attributesOfItem(atPath: mbox)[.ownerAccountID] as? NSNumber)
                #expect(owner.uint32Value == nobody.pw_uid, "the mbox belongs to the recipient, not to root")
                try instance.waitForLogLine(
                    #"postfix/local\[\d+\]: \#(id): to=<nobody@mail\.e2e\.test>, relay=local, .*dsn=2\.0\.0, "#
                        + #"status=sent \(delivered to mailbox\)$"#)
                try instance.waitForEmptyQueue()
            }
        }
    }
}

extension DaemonEndToEnd {
    /// Regression: TCPListener set `.socketOption(.tcp_nodelay)`, which is SOL_SOCKET option 1 = SO_DEBUG,
    /// on every accepted socket. Root may set SO_DEBUG, so tests running as root passed; for an unprivileged
    /// daemon setsockopt fails with EACCES, the listener service throws and the whole daemon exits on its
    /// first connection (after `postfix start` had reported success). As root, this starts the daemon as
    /// `nobody` through runuser(1) to cover that case too.
    @Suite(
        .enabled(
            if: geteuid() == 0 && getpwnam("nobody") != nil && TernInstance.runuser != nil,
            "needs root, runuser(1) and a `nobody` account"))
    struct UnprivilegedDaemonStartedByRoot {
        @Test func daemonRunningAsNobodyServesConnectionsAndDelivers() throws {
            try TernInstance.with(daemonUser: "nobody") { instance in
                // start() has already connected once (to see the port open).
                let pid = try #require(
                    instance.masterPid(), "the daemon did not survive its first connection:\n\(instance.maillog())")
                let nobody = try #require(getpwnam("nobody")).pointee
                let owner = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
                    .split(separator: "\n").first { $0.hasPrefix("Uid:") }
                #expect(owner?.split(separator: "\t").dropFirst().first == "\(nobody.pw_uid)"[...], "\(owner ?? "")")
                for round in 1...2 {
                    let token = "nobody-\(round)-\(UUID().uuidString)"
                    let client = try SMTPTestClient(port: instance.port)
                    do {
                        try client.greet()
                    } catch {
                        Issue.record("no SMTP session with the unprivileged daemon: \(error)\n\(instance.maillog())")
                        return
                    }
                    let end = try client.sendMail(
                        from: "sender@remote.example", to: ["alice@virt.test"],
                        content: "Subject: \(token)\n\n\(token)\n")
                    #expect(end.queueID != nil, "\(end)")
                    #expect(try client.command("QUIT").code == 221)
                    _ = try instance.waitForMessage("alice", containing: token)
                }
                #expect(instance.masterPid() == pid, "the daemon survives its connections")
                #expect(!instance.maillog().contains("setsockopt"), "\(instance.maillog())")
            }
        }
    }
}
