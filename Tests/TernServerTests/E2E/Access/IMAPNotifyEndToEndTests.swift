import Foundation
import Testing

@testable import TernServer

extension DaemonEndToEnd {
    /// RFC 5465 NOTIFY over the wire: another session's APPEND into a mailbox that is not selected reaches a
    /// quiet client as STATUS without a command; a delivery by the MTA into that mailbox too; IDLE sends
    /// `* OK Still here` every imap_idle_notify_interval.
    @Suite struct IMAPNotify {
        static func login(_ access: MailAccessInstance) throws -> LineTestClient {
            let client = try LineTestClient(port: access.imapPort)
            _ = try client.readLine()
            let login = try client.imap("l", "LOGIN alice \(MailAccessInstance.password)")
            #expect(login.completion.contains(" NOTIFY SPECIAL-USE"), "\(login)")
            return client
        }

        @Test func otherMailboxChangesReachAQuietClient() throws {
            try MailAccessInstance.with(extra: "imap_idle_notify_interval = 1 secs") { access in
                let watcher = try Self.login(access)
                // `a OK [MAILBOXID (...)] Create completed` (OBJECTID).
                #expect(try watcher.imap("a", "CREATE foo").completion.contains("] Create completed"))
                _ = try watcher.imap("b", "SELECT INBOX")
                let notify = try watcher.imap(
                    "c",
                    "NOTIFY SET (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge MailboxName))"
                )
                #expect(notify.completion.hasPrefix("c OK NOTIFY completed"), "\(notify)")
                // The session's own CREATE (and the folder's files) settle first; then the worker sleeps (no
                // wake-up loop on the files its own looks write).
                usleep(500_000)
                let login = try access.waitForLog("imap-login: Info: Login: user=<alice>")
                let pid = try #require(login.split(separator: " ").first { $0.hasPrefix("mpid=") }).dropFirst(5)
                    .dropLast()
                func cpuTicks() throws -> Int {
                    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
                    let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
                    return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)  // utime + stime
                }
                let before = try cpuTicks()
                sleep(2)
                #expect(try cpuTicks() - before <= 2, "a NOTIFY session's worker sleeps")

                let other = try Self.login(access)
                try other.send("d APPEND foo {1+}")
                try other.send("x")
                var appended = try other.readLine()
                while !appended.hasPrefix("d ") { appended = try other.readLine() }
                #expect(appended.hasPrefix("d OK [APPENDUID "), "\(appended)")
                let start = Date()
                #expect(try watcher.readLine() == "* STATUS foo (MESSAGES 1 UIDNEXT 2 UNSEEN 1)")
                #expect(Date().timeIntervalSince(start) < 5, "woken by the change, not by the 30-second re-scan")

                #expect(try other.imap("e", "CREATE bar").completion.hasPrefix("e OK"))
                let created = try watcher.readLine()
                #expect(created == "* LIST () \"/\" bar", "\(created)")

                // As an MTA delivers (tmp/, then new/; the tree is not chowned, as the sessions work in it).
                func deliver(_ folder: String, _ text: String) throws {
                    let name = "\(Int(Date().timeIntervalSince1970)).M\(UInt32.random(in: 0...UInt32.max))P\(getpid()).e2e"
                    let tmp = access.maildir + folder + "/tmp/" + name
                    try text.write(toFile: tmp, atomically: false, encoding: .utf8)
                    chown(tmp, access.uid, access.gid)
                    rename(tmp, access.maildir + folder + "/new/" + name)
                }
                try deliver("/.foo", "Subject: two\n\nbody\n")
                #expect(try watcher.readLine() == "* STATUS foo (MESSAGES 2 UIDNEXT 3 UNSEEN 2)")

                // The selected filter pushes INBOX's new message at once too.
                try FileManager.default.createDirectory(atPath: access.maildir + "/tmp", withIntermediateDirectories: true)
                chown(access.maildir + "/tmp", access.uid, access.gid)
                try deliver("", "Subject: three\n\nbody\n")
                #expect(try watcher.readLine() == "* 1 EXISTS")

                try watcher.send("f IDLE")
                var line = try watcher.readLine()
                while line != "+ idling" { line = try watcher.readLine() }
                #expect(try watcher.readLine() == "* OK Still here")
                #expect(try watcher.readLine() == "* OK Still here")
                try watcher.send("DONE")
                line = try watcher.readLine()
                while !line.hasPrefix("f ") { line = try watcher.readLine() }
                #expect(line.hasPrefix("f OK Idle completed"))
                _ = try watcher.imap("g", "LOGOUT")
                _ = try other.imap("h", "LOGOUT")
            }
        }
    }
}
