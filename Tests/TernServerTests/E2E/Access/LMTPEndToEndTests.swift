import Foundation
import TernMailbox
import Testing

extension DaemonEndToEnd {
    /// The lmtp service of `tern dovecot`: RFC 2033 replies per recipient, the userdb check at RCPT, the
    /// copy saved in the user's Maildir with Return-Path and Delivered-To, and Tern's MTA handing local mail
    /// to it with `mailbox_transport = lmtp:unix:...` (the tutorials' Postfix + Dovecot LMTP pairing).
    @Suite struct LMTPAccess {
        static let extra = """
            protocols = imap pop3 lmtp
            service lmtp {
              unix_listener lmtp-e2e {
                mode = 0666
              }
            }
            """

        /// A client on the LMTP socket after the greeting and LHLO.
        static func greeted(_ access: MailAccessInstance) throws -> LineTestClient {
            let client = try LineTestClient(unixPath: access.root + "/dovecot/run/lmtp-e2e")
            _ = try client.readLine()
            try client.send("LHLO client.test")
            while try client.readLine().hasPrefix("250-") {}
            return client
        }

        /// One message to alice over a new LMTP connection; the reply to DATA.
        static func sendToAlice(_ access: MailAccessInstance) throws -> String {
            let client = try greeted(access)
            _ = try client.command("MAIL FROM:<sender@example.test>")
            _ = try client.command("RCPT TO:<alice>")
            #expect(try client.command("DATA") == "354 OK")
            try client.send("Subject: by lmtp\r\n\nbody\r\n.")
            return try client.readLine()
        }

        @Test func deliversPerRecipient() throws {
            try MailAccessInstance.with(extra: Self.extra) { access in
                let client = try LineTestClient(unixPath: access.root + "/dovecot/run/lmtp-e2e")
                #expect(try client.readLine().hasSuffix(" Dovecot (Debian) ready."))
                try client.send("LHLO client.test")
                var lines: [String] = []
                repeat { lines.append(try client.readLine()) } while lines.last?.hasPrefix("250-") == true
                #expect(lines.contains("250 PIPELINING"))
                #expect(try client.command("MAIL FROM:<sender@example.test>") == "250 2.1.0 OK")
                #expect(try client.command("RCPT TO:<alice>") == "250 2.1.5 OK")
                #expect(try client.command("RCPT TO:<nobody>") == "550 5.1.1 <nobody> User doesn't exist: nobody")
                #expect(try client.command("DATA") == "354 OK")
                try client.send("Subject: by lmtp\r\n\r\n..dotted\r\nbody\r\n.")
                let saved = try client.readLine()
                #expect(saved.hasPrefix("250 2.0.0 <alice> ") && saved.hasSuffix(" Saved"), "\(saved)")
                #expect(try client.command("QUIT") == "221 2.0.0 Bye")
                let files = access.messageFiles()
                #expect(files.count == 1)
                let content = try String(contentsOfFile: access.maildir + "/" + files[0], encoding: .utf8)
                #expect(content.hasPrefix("Return-Path: <sender@example.test>\r\nDelivered-To: alice\r\n"))
                #expect(content.hasSuffix("Subject: by lmtp\r\n\r\n.dotted\r\nbody\r\n"))
                _ = try access.waitForLog("saved mail to INBOX")
            }
        }

        /// Over quota, the recipient gets Dovecot's `552 5.2.2` with quota_exceeded_message (`452 4.2.2` with
        /// quota_full_tempfail), and the quota warning's script runs when a delivery crosses its limit.
        @Test func overQuotaAsDovecot() throws {
            let log = NSTemporaryDirectory() + "tern-lmtp-quota-\(UUID().uuidString).log"
            let script = log + ".sh"
            try "#!/bin/sh\necho \"$@\" >> \(log)\n".write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o755)
            defer {
                try? FileManager.default.removeItem(atPath: log)
                try? FileManager.default.removeItem(atPath: script)
            }
            let quota = """
                mail_plugins = $mail_plugins quota
                plugin {
                  quota = maildir:User quota
                  quota_rule = *:messages=2
                  quota_warning = messages=100%% quota-warning full %u
                  quota_exceeded_message = Mailbox full, sorry
                }
                service quota-warning {
                  executable = script \(script)
                }
                """
            for (tempfail, reply) in [(false, "552 5.2.2"), (true, "452 4.2.2")] {
                let extra = Self.extra + "\n" + quota + (tempfail ? "\nquota_full_tempfail = yes\n" : "\n")
                try MailAccessInstance.with(extra: extra) { access in
                    try access.deliver("Subject: earlier\n\nfirst\n")
                    #expect(try Self.sendToAlice(access).hasSuffix(" Saved"))
                    #expect(try Self.sendToAlice(access) == "\(reply) <alice> Mailbox full, sorry")
                    #expect(access.messageFiles().count == 2)
                    _ = try access.waitForLog("save failed to INBOX: Mailbox full, sorry")
                    let maildirsize = try String(contentsOfFile: access.maildir + "/maildirsize", encoding: .utf8)
                    #expect(maildirsize.hasPrefix("2C\n"), "\(maildirsize)")
                }
            }
            #expect(try String(contentsOfFile: log, encoding: .utf8) == "full alice\nfull alice\n")
        }

        /// Two quota roots, the second's rule from the userdb (`userdb_quota2_rule` in passwd-file, over
        /// dovecot.conf's): a delivery is refused when any root is full, and each root runs its own warning.
        @Test func secondRootWithUserdbRule() throws {
            let log = NSTemporaryDirectory() + "tern-lmtp-quota2-\(UUID().uuidString).log"
            let script = log + ".sh"
            try "#!/bin/sh\necho \"$@\" >> \(log)\n".write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o755)
            defer {
                try? FileManager.default.removeItem(atPath: log)
                try? FileManager.default.removeItem(atPath: script)
            }
            let extra = Self.extra + """

                mail_plugins = $mail_plugins quota
                plugin {
                  quota = maildir:User quota
                  quota_rule = *:messages=10
                  quota_warning = messages=2 quota-warning user %u
                  quota2 = count:Archive
                  quota2_rule = *:messages=50
                  quota2_warning = messages=100%% quota-warning archive %u
                }
                service quota-warning {
                  executable = script \(script)
                }

                """
            try MailAccessInstance.with(extra: extra, userdbFields: "userdb_quota2_rule=*:messages=2") { access in
                try access.deliver("Subject: earlier\n\nfirst\n")
                #expect(try Self.sendToAlice(access).hasSuffix(" Saved"))
                #expect(try Self.sendToAlice(access) == "552 5.2.2 <alice> Quota exceeded (mailbox for user is full)")
                #expect(access.messageFiles().count == 2)
                let maildirsize = try String(contentsOfFile: access.maildir + "/maildirsize", encoding: .utf8)
                #expect(maildirsize.hasPrefix("10C\n"), "\(maildirsize)")
            }
            #expect(try String(contentsOfFile: log, encoding: .utf8) == "user alice\narchive alice\n")
        }

        /// lmtp_rcpt_check_quota = yes: a recipient over quota is refused at RCPT, as Dovecot 2.3.19 does.
        @Test func overQuotaAtRCPT() throws {
            let extra = Self.extra + """

                mail_plugins = $mail_plugins quota
                plugin {
                  quota = count:User quota
                  quota_rule = *:messages=1
                }
                protocol lmtp {
                  lmtp_rcpt_check_quota = yes
                }

                """
            try MailAccessInstance.with(extra: extra) { access in
                let client = try Self.greeted(access)
                #expect(try client.command("MAIL FROM:<sender@example.test>") == "250 2.1.0 OK")
                #expect(try client.command("RCPT TO:<alice>") == "250 2.1.5 OK")
                try access.deliver("Subject: earlier\n\nfirst\n")
                #expect(try client.command("RSET") == "250 2.0.0 OK")
                #expect(try client.command("MAIL FROM:<sender@example.test>") == "250 2.1.0 OK")
                #expect(try client.command("RCPT TO:<alice>") == "552 5.2.2 <alice> Quota exceeded (mailbox for user is full)")
                #expect(try client.command("RCPT TO:<nobody>") == "550 5.1.1 <nobody> User doesn't exist: nobody")
            }
        }

        /// Dovecot's fts_autoindex: the delivery puts the message into INBOX's full-text index.
        @Test func deliveryUpdatesTheFullTextIndexWithAutoindex() throws {
            let fts = "mail_plugins = $mail_plugins fts\nplugin {\n  fts = squat\n  fts_autoindex = yes\n}\n"
            try MailAccessInstance.with(extra: Self.extra + "\n" + fts) { access in
                try access.deliver("Subject: earlier\n\nan earlier wombat\n")
                let client = try Self.greeted(access)
                #expect(try client.command("MAIL FROM:<sender@example.test>") == "250 2.1.0 OK")
                #expect(try client.command("RCPT TO:<alice>") == "250 2.1.5 OK")
                #expect(try client.command("DATA") == "354 OK")
                try client.send("Subject: indexed\r\n\r\na delivered wombat\r\n.")
                #expect(try client.readLine().hasSuffix(" Saved"))
                let mailbox = try MaildirMailbox(path: access.maildir, readOnly: true)
                let current = try FullTextIndex(path: mailbox.fullTextIndexPath, uidValidity: mailbox.uidValidity)
                #expect(current.lastUID == 2)
                #expect(try current.uids(.body, containing: "wombat") == [1, 2])
            }
        }

        /// RFC 3030 CHUNKING over the unix socket: CHUNKING in LHLO, `Added N octets` per chunk, one reply per
        /// recipient after the LAST chunk, pipelined, and the octets saved exactly.
        @Test func chunkingWithBDAT() throws {
            try MailAccessInstance.with(extra: Self.extra) { access in
                let client = try LineTestClient(unixPath: access.root + "/dovecot/run/lmtp-e2e")
                _ = try client.readLine()
                try client.send("LHLO client.test")
                var lines: [String] = []
                repeat { lines.append(try client.readLine()) } while lines.last?.hasPrefix("250-") == true
                #expect(lines.contains("250-CHUNKING"))
                let first = "Subject: chunked\r\n\r\n"
                let big = String(repeating: "0123456789abcdef", count: 20_000) + "\r\n"
                try client.sendRaw(
                    Array(
                        ("MAIL FROM:<s@example.test>\r\nRCPT TO:<alice>\r\nBDAT \(first.utf8.count)\r\n\(first)"
                            + "BDAT \(big.utf8.count) LAST\r\n\(big)").utf8))
                #expect(try client.readLine() == "250 2.1.0 OK")
                #expect(try client.readLine() == "250 2.1.5 OK")
                #expect(try client.readLine() == "250 2.0.0 Added \(first.utf8.count) octets")
                let saved = try client.readLine()
                #expect(saved.hasPrefix("250 2.0.0 <alice> ") && saved.hasSuffix(" Saved"), "\(saved)")
                #expect(try client.command("BDAT 0 LAST") == "503 5.5.0 MAIL needed first")
                #expect(try client.command("QUIT") == "221 2.0.0 Bye")
                let files = access.messageFiles()
                #expect(files.count == 1)
                let content = try String(contentsOfFile: access.maildir + "/" + files[0], encoding: .utf8)
                #expect(content.hasPrefix("Return-Path: <s@example.test>\r\nDelivered-To: alice\r\n"))
                #expect(content.contains("Received: from client.test\r\n\tby "))
                #expect(content.hasSuffix(first + big))
            }
        }

        @Test func mtaHandsLocalMailToLMTP() throws {
            // Postfix's lmtp client sends alice@host: the tutorials' auth_username_format = %Ln drops the domain.
            try MailAccessInstance.with(extra: Self.extra + "\nauth_username_format = %Ln\n") { access in
                let mta = access.instance
                mta.set("mailbox_transport", "lmtp:unix:\(access.root)/dovecot/run/lmtp-e2e")
                mta.set("local_recipient_maps", "")
                try mta.writeMainCF()
                try mta.start()
                let client = try SMTPTestClient(port: mta.port)
                _ = try client.greet()
                let reply = try client.sendMail(
                    from: "someone@example.test", to: ["alice@\(TernInstance.hostname)"],
                    content: "Subject: via lmtp\r\n\r\nhello\r\n")
                #expect(reply.code == 250, "\(reply)")
                _ = try mta.waitForLogLine("relay=.*lmtp.*status=sent")
                let files = access.messageFiles()
                #expect(files.count == 1)
                let content = try String(contentsOfFile: access.maildir + "/" + files[0], encoding: .utf8)
                #expect(content.contains("Delivered-To: alice@\(TernInstance.hostname)") || content.contains("Delivered-To: alice"))
                #expect(content.contains("Subject: via lmtp"))
            }
        }
    }
}
