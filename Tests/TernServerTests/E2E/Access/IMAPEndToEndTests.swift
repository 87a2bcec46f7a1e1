import Foundation
import Testing

@testable import TernServer

extension DaemonEndToEnd {
    /// `tern dovecot` serving IMAP: imap-login's greeting and LOGIN, the session worker's SELECT, FETCH,
    /// STORE, IDLE woken by a new message, LOGOUT, and the log lines.
    @Suite struct IMAPAccess {
        @Test func loginSelectFetchIdleLogout() throws {
            try MailAccessInstance.with { access in
                try access.deliver("Subject: one\nFrom: a@example.test\n\nfirst body\n")
                let client = try LineTestClient(port: access.imapPort)
                let greeting = try client.readLine()
                #expect(greeting.hasPrefix("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN]"), "\(greeting)")
                #expect(greeting.hasSuffix("] Dovecot (Debian) ready."))
                let bad = try client.imap("a1", "LOGIN alice wrong")
                #expect(bad.completion == "a1 NO [AUTHENTICATIONFAILED] Authentication failed.")
                #expect(try client.imap("a2", "SELECT INBOX").completion == "a2 BAD Error in IMAP command received by server.")
                let login = try client.imap("a3", "LOGIN alice \(MailAccessInstance.password)")
                #expect(login.completion.hasPrefix("a3 OK [CAPABILITY IMAP4rev1 "), "\(login)")
                #expect(login.completion.hasSuffix("] Logged in"))
                let select = try client.imap("a4", "SELECT INBOX")
                #expect(select.untagged.contains("* 1 EXISTS"), "\(select)")
                #expect(select.completion.hasPrefix("a4 OK [READ-WRITE] Select completed"))
                let fetch = try client.imap("a5", "FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                #expect(fetch.untagged.first?.hasPrefix("* 1 FETCH (FLAGS (\\Recent) BODY[HEADER.FIELDS (SUBJECT)] {") == true, "\(fetch)")
                let store = try client.imap("a6", "STORE 1 +FLAGS (\\Seen)")
                #expect(store.untagged == ["* 1 FETCH (FLAGS (\\Seen \\Recent))"], "\(store)")
                try client.send("a7 IDLE")
                #expect(try client.readLine() == "+ idling")
                try access.deliver("Subject: two\n\nsecond\n")
                var wake = ""
                for _ in 0..<4 where !wake.hasSuffix("EXISTS") { wake = try client.readLine() }
                #expect(wake == "* 2 EXISTS")
                try client.send("DONE")
                var done = try client.readLine()
                while !done.hasPrefix("a7 ") { done = try client.readLine() }
                #expect(done.hasPrefix("a7 OK Idle completed"))
                let logout = try client.imap("a8", "LOGOUT")
                #expect(logout.untagged == ["* BYE Logging out"])
                #expect(logout.completion.hasPrefix("a8 OK Logout completed"))
                #expect(client.waitForClose())
                _ = try access.waitForLog("imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127.0.0.1")
                let disconnect = try access.waitForLog("imap(alice)<")
                #expect(disconnect.contains("Disconnected: Logged out in="), "\(disconnect)")
                // Flags went to the file name; the Maildir is Dovecot's.
                #expect(access.messageFiles().contains { $0.hasPrefix("cur/") && $0.hasSuffix(":2,S") })
            }
        }

        /// Commands pipelined behind LOGIN go to the session worker with the client's socket.
        @Test func commandsPipelinedAfterLoginReachTheSession() throws {
            try MailAccessInstance.with { access in
                try access.deliver("Subject: one\n\nbody\n")
                let client = try LineTestClient(port: access.imapPort)
                _ = try client.readLine()
                try client.sendRaw(
                    Array("a1 LOGIN alice \(MailAccessInstance.password)\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n".utf8))
                var lines: [String] = []
                while !(lines.last?.hasPrefix("a3 ") ?? false) { lines.append(try client.readLine()) }
                #expect(lines.first?.hasPrefix("a1 OK [CAPABILITY IMAP4rev1 ") == true, "\(lines)")
                #expect(lines.contains("* 1 EXISTS"), "\(lines)")
                #expect(lines.contains { $0.hasPrefix("a2 OK [READ-WRITE] Select completed") }, "\(lines)")
                #expect(lines.last?.hasPrefix("a3 OK Logout completed") == true, "\(lines)")
                #expect(client.waitForClose())
            }
        }

        /// COMPRESS=DEFLATE with imap_zlib in imap's mail_plugins, as Dovecot: after the OK both directions are
        /// raw deflate, starting with what the client sent right behind the command.
        @Test func compressDeflate() throws {
            let extra = "protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}\n"
            try MailAccessInstance.with(extra: extra) { access in
                try access.deliver("Subject: one\n\nbody\n")
                let client = try LineTestClient(port: access.imapPort)
                _ = try client.readLine()
                let login = try client.imap("a1", "LOGIN alice \(MailAccessInstance.password)")
                #expect(login.completion.contains(" COMPRESS=DEFLATE] Logged in"), "\(login)")
                let compressor = try #require(DeflateStream(.compress))
                let decompressor = try #require(DeflateStream(.decompress))
                try client.sendRaw(
                    Array("a2 COMPRESS DEFLATE\r\n".utf8) + compressor.compress(Array("a3 SELECT INBOX\r\n".utf8)))
                #expect(try client.readLine().hasPrefix("a2 OK Begin compression"))
                var text = ""
                while !text.contains("a3 OK") {
                    let chunk = try client.readRaw()
                    #expect(!chunk.isEmpty)
                    if chunk.isEmpty { break }
                    try decompressor.decompress(chunk) { text += String(decoding: $0, as: UTF8.self) }
                }
                #expect(text.contains("* 1 EXISTS\r\n"), "\(text)")
                try client.sendRaw(compressor.compress(Array("a4 LOGOUT\r\n".utf8)))
                var bye = ""
                while !bye.contains("a4 OK") {
                    let chunk = try client.readRaw()
                    if chunk.isEmpty { break }
                    try decompressor.decompress(chunk) { bye += String(decoding: $0, as: UTF8.self) }
                }
                #expect(bye.hasPrefix("* BYE Logging out\r\na4 OK Logout completed"), "\(bye)")
            }
        }

        /// SORT, ESORT and THREAD through imap-login and the session worker, on messages the MTA delivered.
        @Test func sortAndThreadOverTheWire() throws {
            try MailAccessInstance.with { access in
                let client = try LineTestClient(port: access.imapPort)
                _ = try client.readLine()
                let login = try client.imap("a1", "LOGIN alice \(MailAccessInstance.password)")
                #expect(login.completion.contains(" IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT "))
                #expect(login.completion.contains(" I18NLEVEL=1 ") && login.completion.contains(" ESORT "))
                _ = try client.imap("a2", "SELECT INBOX")
                let messages = [
                    "Subject: Re: plans\nFrom: Bob <bob@example.test>\nDate: Tue, 2 Jan 2024 10:00:00 +0000\n"
                        + "Message-ID: <2@e2e>\nReferences: <1@e2e>\n\nreply\n",
                    "Subject: plans\nFrom: Ann <ann@example.test>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n"
                        + "Message-ID: <1@e2e>\n\nfirst\n",
                    "Subject: =?UTF-8?Q?=C3=9Cbersicht?=\nFrom: Zoe <zoe@example.test>\n"
                        + "Date: Wed, 3 Jan 2024 10:00:00 +0000\nMessage-ID: <3@e2e>\n\nthird\n",
                ]
                for (index, message) in messages.enumerated() {
                    try access.deliver(message)  // one at a time, so UIDs follow this order
                    #expect(try client.imap("n\(index)", "NOOP").untagged.contains("* \(index + 1) EXISTS"))
                }
                let bySubject = try client.imap("a3", "SORT (SUBJECT) UTF-8 ALL")
                #expect(bySubject.untagged == ["* SORT 1 2 3"], "\(bySubject)")
                #expect(bySubject.completion.hasPrefix("a3 OK Sort completed"))
                #expect(try client.imap("a4", "SORT (REVERSE FROM) UTF-8 ALL").untagged == ["* SORT 3 1 2"])
                #expect(
                    try client.imap("a5", "SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL").untagged
                        == ["* ESEARCH (TAG \"a5\") MIN 2 MAX 3 COUNT 3"])
                let thread = try client.imap("a6", "UID THREAD REFERENCES UTF-8 ALL")
                #expect(thread.untagged == ["* THREAD (2 1)(3)"], "\(thread)")
                #expect(thread.completion.hasPrefix("a6 OK Thread completed"))
                #expect(try client.imap("a7", "THREAD ORDEREDSUBJECT UTF-8 SUBJECT plans").untagged == ["* THREAD (2 1)"])
                _ = try client.imap("a8", "LOGOUT")
            }
        }

        /// IDLE is woken by the mailbox's change notification: the new message is reported well within the
        /// second the old poll took, and an idle session's worker uses no CPU meanwhile.
        @Test func idleWokenByChangeNotification() throws {
            try MailAccessInstance.with { access in
                let client = try LineTestClient(port: access.imapPort)
                _ = try client.readLine()
                _ = try client.imap("a", "LOGIN alice \(MailAccessInstance.password)")
                _ = try client.imap("b", "SELECT INBOX")
                try client.send("c IDLE")
                #expect(try client.readLine() == "+ idling")
                let login = try access.waitForLog("imap-login: Info: Login: user=<alice>")
                let pid = try #require(login.split(separator: " ").first { $0.hasPrefix("mpid=") }).dropFirst(5).dropLast()
                func cpuTicks() throws -> Int {
                    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
                    let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
                    return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)  // utime + stime
                }
                usleep(300_000)
                let before = try cpuTicks()
                sleep(3)
                #expect(try cpuTicks() - before <= 2, "an idle session's worker sleeps")
                for round in 1...3 {
                    let start = Date()
                    // As an MTA delivers: written in tmp/, owned by alice, renamed into new/ (the tree is not
                    // chowned: the woken session is busy in it at once).
                    let name = "\(Int(Date().timeIntervalSince1970)).M\(round)P\(getpid()).e2e"
                    let tmp = access.maildir + "/tmp/" + name
                    try "Subject: round \(round)\n\nbody\n".write(toFile: tmp, atomically: false, encoding: .utf8)
                    chown(tmp, access.uid, access.gid)
                    rename(tmp, access.maildir + "/new/" + name)
                    #expect(try client.readLine() == "* \(round) EXISTS")
                    // Half a second after the change, as Dovecot (NOTIFY_DELAY_MSECS); not the 30 s re-scan.
                    #expect(Date().timeIntervalSince(start) < 1.0, "round \(round)")
                    var line = try client.readLine()
                    while !line.hasSuffix("RECENT") { line = try client.readLine() }
                }
                try client.send("DONE")
                #expect(try client.readLine().hasPrefix("c OK Idle completed"))
            }
        }
    }
}

