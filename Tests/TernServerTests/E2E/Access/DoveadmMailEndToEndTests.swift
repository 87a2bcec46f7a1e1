import Foundation
import Testing

extension DaemonEndToEnd {
    /// `tern doveadm` user, mailbox, fetch, search, flags, expunge, force-resync, log errors, reload and stop
    /// against a `tern dovecot` instance, with Dovecot 2.3's output and exit codes.
    @Suite struct DoveadmMail {
        static let first = "From: a@example.com\nSubject: hello one\n\nbody one\nline two\n"
        static let second = "From: b@example.com\nSubject: second\n\nbody two\n"

        @Test func userLookups() throws {
            try MailAccessInstance.with { access in
                let found = try doveadm(access, ["user", "alice"])
                #expect(found.status == 0)
                #expect(
                    found.stdout
                        == "field\tvalue\nuid\t\(access.uid)\ngid\t\(access.gid)\nhome\t\(access.home)\nmail\tmaildir:~/Maildir\n")
                let home = try doveadm(access, ["user", "-f", "home", "alice"])
                #expect(home.stdout == access.home + "\n")
                let missing = try doveadm(access, ["user", "nosuch"])
                #expect(missing.status == 67)
                #expect(missing.stdout == "field\tvalue\n\nuserdb lookup: user nosuch doesn't exist\n")
                let flow = try doveadm(access, ["-f", "flow", "user", "alice"])
                #expect(flow.stdout.hasPrefix("field=uid value=\(access.uid)\n"))
                #expect(try doveadm(access, ["user", "a*"]).stdout == "alice\n")
            }
        }

        /// `quota get` and `quota recalc` with Dovecot 2.3.19's table (its output for the same usage and rules).
        @Test func quotaGetAndRecalc() throws {
            let quota = """
                mail_plugins = $mail_plugins quota
                plugin {
                  quota = maildir:User quota
                  quota_rule = *:storage=1K
                  quota_rule2 = *:messages=5
                }
                """
            try MailAccessInstance.with(extra: quota) { access in
                try access.deliver("Subject: x\n\n" + String(repeating: "a", count: 1060) + "\n")
                try access.deliver("Subject: y\n\nb\n")
                let get = try doveadm(access, ["quota", "get", "-u", "alice"])
                #expect(get.status == 0)
                #expect(
                    get.stdout == """
                        Quota name Type    Value Limit                          %
                        User quota STORAGE     2     1                        200
                        User quota MESSAGE     2     5                         40

                        """)
                let tab = try doveadm(access, ["-f", "tab", "quota", "get", "-u", "alice"])
                #expect(tab.stdout == "Quota name\tType\tValue\tLimit\t%\nUser quota\tSTORAGE\t2\t1\t200\nUser quota\tMESSAGE\t2\t5\t40\n")
                try FileManager.default.removeItem(atPath: access.maildir + "/maildirsize")
                #expect(try doveadm(access, ["quota", "recalc", "-u", "alice"]).status == 0)
                let maildirsize = try String(contentsOfFile: access.maildir + "/maildirsize", encoding: .utf8)
                #expect(maildirsize == "1024S,5C\n1087 2\n")
                #expect(try doveadm(access, ["quota", "get", "-u", "nosuch"]).status == 67)
            }
        }

        @Test func mailboxCommands() throws {
            try MailAccessInstance.with { access in
                try access.deliver(Self.first)
                #expect(try doveadm(access, ["mailbox", "create", "-u", "alice", "Work/Sub"]).status == 0)
                let again = try doveadm(access, ["mailbox", "create", "-u", "alice", "Work/Sub"])
                #expect(again.status == 65)
                #expect(again.stderr == "doveadm(alice): Error: Can't create mailbox Work/Sub: Mailbox already exists\n")
                let list = try doveadm(access, ["mailbox", "list", "-u", "alice"])
                #expect(list.stdout.split(separator: "\n").sorted() == ["INBOX", "Sent", "Work", "Work/Sub"])
                #expect(try doveadm(access, ["mailbox", "list", "-u", "alice", "W*"]).stdout == "Work\nWork/Sub\n")
                let status = try doveadm(access, ["mailbox", "status", "-u", "alice", "messages unseen uidnext", "INBOX"])
                #expect(status.stdout == "INBOX messages=1 uidnext=2 unseen=1\n")
                let missing = try doveadm(access, ["mailbox", "status", "-u", "alice", "messages", "Nope"])
                #expect(missing.status == 68)
                #expect(try doveadm(access, ["mailbox", "status", "-u", "alice", "bogus", "INBOX"]).status == 64)
                #expect(try doveadm(access, ["mailbox", "delete", "-u", "alice", "Work/Sub"]).status == 0)
                #expect(try doveadm(access, ["mailbox", "delete", "-u", "alice", "Nope"]).status == 68)
                let unknown = try doveadm(access, ["mailbox", "list", "-u", "nosuch"])
                #expect(unknown.status == 67)
                #expect(unknown.stderr == "doveadm(nosuch): Error: User doesn't exist\n")
            }
        }

        @Test func fetchSearchFlagsExpunge() throws {
            try MailAccessInstance.with { access in
                try access.deliver(Self.first)
                Thread.sleep(forTimeInterval: 1.1)
                try access.deliver(Self.second)
                #expect(try doveadm(access, ["force-resync", "-u", "alice", "INBOX"]).status == 0)
                let parts = try doveadm(access, ["fetch", "-u", "alice", "hdr body", "mailbox", "INBOX", "uid", "1"])
                #expect(parts.stdout == "hdr:\nFrom: a@example.com\nSubject: hello one\n\nbody:\nbody one\nline two\n")
                let search = try doveadm(access, ["search", "-u", "alice", "mailbox", "INBOX", "subject", "second"])
                let words = search.stdout.split(separator: " ")
                #expect(words.count == 2 && words.last == "2\n" && words.first?.count == 32, "\(search)")
                let added = try doveadm(access, ["flags", "add", "-u", "alice", "\\Seen $Work", "mailbox", "INBOX", "uid", "1"])
                #expect(added.status == 0)
                let flags = try doveadm(access, ["-f", "tab", "fetch", "-u", "alice", "uid flags", "mailbox", "INBOX", "all"])
                #expect(flags.stdout.hasPrefix("uid\tflags\n1\t\\Seen"), "\(flags)")
                #expect(flags.stdout.contains("$Work"))
                #expect(try doveadm(access, ["flags", "add", "-u", "alice", "\\Bogus", "all"]).status == 75)
                #expect(try doveadm(access, ["expunge", "-u", "alice", "all"]).status == 64)
                #expect(try doveadm(access, ["fetch", "-u", "alice", "uid", "bogus"]).status == 75)
                #expect(try doveadm(access, ["expunge", "-u", "alice", "mailbox", "INBOX", "seen"]).status == 0)
                let left = try doveadm(access, ["fetch", "-u", "alice", "uid", "mailbox", "INBOX", "all"])
                #expect(left.stdout == "uid: 2\n")
            }
        }

        @Test func logErrorsReloadAndStop() throws {
            try MailAccessInstance.with { access in
                let log = try FileHandle(forWritingTo: URL(fileURLWithPath: access.logPath))
                log.seekToEndOfFile()
                log.write(Data("Nov 30 19:37:11 auth: Error: something failed\n".utf8))
                try log.close()
                let errors = try doveadm(access, ["log", "errors"])
                #expect(errors.stdout.hasSuffix("Nov 30 19:37:11 Error: auth: something failed\n"), "\(errors)")
                #expect(try doveadm(access, ["reload"]).status == 0)
                #expect(try doveadm(access, ["stop"]).status == 0)
                let again = try doveadm(access, ["stop"])
                #expect(again.status == 75)
                #expect(again.stderr.hasPrefix("Fatal: Dovecot is not running (read from "))
            }
        }
    }
}

private func doveadm(_ access: MailAccessInstance, _ arguments: [String]) throws -> TernInstance.ToolResult {
    try access.instance.tern(["doveadm", "-c", access.configPath] + arguments)
}
